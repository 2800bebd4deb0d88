import { TaskFailure } from "../errors.js";

// The one place that decides retry-or-fail. Transient kinds (network, 5xx, timeouts, 429) retry with
// exponential back-off and jitter; everything else needs a person and fails at once.

export interface RetryPolicy {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 5_000, capMs: 10 * 60_000 };

/** Delay before attempt `attempt + 1`: base·2^(attempt-1), capped, with "equal jitter" (half fixed, half random). */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const r = (policy.random ?? Math.random)();
  return Math.round(exp / 2 + (r * exp) / 2);
}

export type Decision = { action: "retry"; delayMs: number } | { action: "fail" } | { action: "abandon" };

export function decide(
  failure: TaskFailure,
  attempt: number,
  maxAttempts: number,
  policy: RetryPolicy,
): Decision {
  if (failure.kind === "lease_lost") return { action: "abandon" };
  if (!failure.transient || attempt >= maxAttempts) return { action: "fail" };
  return { action: "retry", delayMs: Math.max(backoffMs(attempt, policy), failure.retryAfterMs ?? 0) };
}

/** Anything a platform throws that is not a TaskFailure is a bug in topn or the platform: permanent. */
export function asTaskFailure(e: unknown, step = "publish"): TaskFailure {
  if (e instanceof TaskFailure) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new TaskFailure("internal", step, message, { cause: e });
}
