// Errors are values with a kind. The CLI maps them to exit codes in one place (src/cli.ts);
// the runner maps a task failure's kind to retry-or-fail in one place (src/runner/policy.ts).

/** Bad input or usage: exit 2, one line saying what is wrong, where, and the fix. Nothing was changed. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  // Recognised by brand, not identity: a platform module loaded from elsewhere (tests, plugins) may
  // carry its own copy of this file.
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as { name?: unknown }).name === "UsageError";
  }
  constructor(
    message: string,
    readonly hint?: string,
    /**
     * The input may be fine and the world is not (a remote image's host is down): at the prompt it is
     * still refused, but a queued task meeting it later retries instead of failing for good.
     */
    readonly passing = false,
  ) {
    super(message);
  }
}

/** The one line a person sees for an error with a hint: "topn: what is wrong; how to fix it". */
export function problemLine(e: { message: string; hint?: string | undefined }): string {
  return `topn: ${e.message}${e.hint ? `; ${e.hint}` : ""}`;
}

/**
 * Why a task failed. `transient` kinds are retried with back-off; the others fail the task at once,
 * because repeating them cannot help until a person acts.
 */
export type FailureKind =
  | "transient" // network, 5xx, timeouts, resets
  | "rate_limited" // 429: retried later, honouring retryAfterMs
  | "session_expired" // 401 / code 100, 101
  | "needs_verification" // 403 code 40352: a person must pass the check in a browser
  | "phone_binding" // 403 code 4031
  | "rejected" // the platform refused the content (non-zero publish code)
  | "bad_input" // the file changed or became invalid after enqueueing
  | "lease_lost" // another runner took the task over; record nothing
  | "internal"; // a bug in topn

export const TRANSIENT_KINDS: ReadonlySet<FailureKind> = new Set(["transient", "rate_limited"]);

/** A task step failed. `step` names the step (e.g. "create draft"), the message names the cause. */
export class TaskFailure extends Error {
  override readonly name = "TaskFailure";
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as { name?: unknown }).name === "TaskFailure";
  }
  readonly kind: FailureKind;
  readonly step: string;
  /** Minimum delay before a retry (rate limits). */
  readonly retryAfterMs?: number;
  /** What the person should do, e.g. "run: topn login zhihu --account work". */
  readonly hint?: string;
  /** A URL the person must open (anti-bot verification). */
  readonly url?: string;

  constructor(
    kind: FailureKind,
    step: string,
    message: string,
    opts: { retryAfterMs?: number; hint?: string; url?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.step = step;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
    if (opts.hint !== undefined) this.hint = opts.hint;
    if (opts.url !== undefined) this.url = opts.url;
  }

  get transient(): boolean {
    return TRANSIENT_KINDS.has(this.kind);
  }
}

/** Every exit code topn uses; `topn --help` and the README list them. */
export const EXIT = {
  ok: 0,
  taskFailed: 1,
  usage: 2,
  internal: 70,
  /** A task's outcome could not be written to the database (disk full, database gone); the next run settles it. */
  unrecorded: 74,
  retryPending: 75,
  interrupted: 130,
} as const;

/** Thrown by a command after it has printed its own report, to set the exit code. */
export class ExitCode extends Error {
  override readonly name = "ExitCode";
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Library and D-Bus messages can run over several lines; one is enough to say what happened. */
export function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split("\n")[0] ?? "").trim() || "unknown error";
}

export type LoginErrorKind = "cancelled" | "timeout" | "interrupted" | "needs_verification" | "failed";

/**
 * A login that did not end with a session (any platform). The command prints the message and exits 1
 * (130 if interrupted).
 */
export class LoginError extends Error {
  override readonly name = "LoginError";
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as { name?: unknown }).name === "LoginError";
  }
  constructor(
    readonly kind: LoginErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
