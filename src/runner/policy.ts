import { TaskFailure } from "../errors.js";
import type { AccountPause } from "../store/types.js";

// The one place that decides what a failure does. Transient kinds (network, 5xx, timeouts) retry the task
// with exponential back-off and jitter; account-level kinds (the session is gone, Zhihu wants a person, a
// phone must be bound, rate limits) pause the whole account and hold its tasks instead of failing them one
// by one — every further request would fail the same way and looks like abuse to Zhihu; the rest fail at once.

export interface RetryPolicy {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 5_000, capMs: 10 * 60_000 };

/** Pause after a rate limit without Retry-After; the store doubles it for each further limit in a row. */
export const RATE_LIMIT_PAUSE_MS = 60_000;

/** Delay before attempt `attempt + 1`: base·2^(attempt-1), capped, with "equal jitter" (half fixed, half random). */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const r = (policy.random ?? Math.random)();
  return Math.round(exp / 2 + (r * exp) / 2);
}

export type Decision =
  | { action: "retry"; delayMs: number }
  | { action: "fail" }
  | { action: "abandon" }
  | { action: "hold"; pause: AccountPause };

const ACCOUNT_LEVEL = new Set(["session_expired", "needs_verification", "phone_binding", "rate_limited"]);

export function decide(
  failure: TaskFailure,
  task: { attempts: number; maxAttempts: number; platform: string; account: string },
  policy: RetryPolicy,
): Decision {
  if (failure.kind === "lease_lost") return { action: "abandon" };
  if (ACCOUNT_LEVEL.has(failure.kind)) return { action: "hold", pause: pauseFor(failure, task) };
  if (!failure.transient || task.attempts >= task.maxAttempts) return { action: "fail" };
  return { action: "retry", delayMs: Math.max(backoffMs(task.attempts, policy), failure.retryAfterMs ?? 0) };
}

/** The pause an account-level failure puts on its account, with the command that lifts it. */
export function pauseFor(f: TaskFailure, t: { platform: string; account: string }): AccountPause {
  const resume = `topn accounts --resume ${t.account}`;
  switch (f.kind) {
    case "session_expired":
      return {
        kind: f.kind,
        reason: f.message,
        fix: `topn login ${t.platform} --account ${t.account}`,
        forMs: null,
      };
    case "rate_limited":
      return {
        kind: f.kind,
        reason: f.message,
        fix: `it resumes by itself; to try sooner: ${resume}`,
        forMs: f.retryAfterMs ?? RATE_LIMIT_PAUSE_MS,
      };
    default: {
      // "bind a phone number in Zhihu's account settings (https://…), then: topn accounts --resume work"
      const act = f.hint
        ? `${stripThen(f.hint)}${f.url ? ` (${f.url})` : ""}`
        : f.url
          ? `open ${f.url} as this account`
          : null;
      return { kind: f.kind, reason: f.message, fix: act ? `${act}, then: ${resume}` : resume, forMs: null };
    }
  }
}

/** Platform hints end in their own "then: …" step; the account's resume replaces it. */
const stripThen = (hint: string): string => hint.replace(/,?\s*then:?\s.*$/, "");

/** Anything a platform throws that is not a TaskFailure is a bug in topn or the platform: permanent. */
export function asTaskFailure(e: unknown, step = "publish"): TaskFailure {
  if (e instanceof TaskFailure) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new TaskFailure("internal", step, message, { cause: e });
}
