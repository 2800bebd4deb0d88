import { DEFAULT_RETRY, type RetryPolicy } from "./policy.js";

export interface RunnerTuning {
  leaseMs: number;
  pollMs: number;
  retry: RetryPolicy;
  outcomeRetryMs: number;
}

export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_POLL_MS = 1_000;
/** How long a runner keeps trying to write an outcome the database refuses before it exits (74). */
export const DEFAULT_OUTCOME_RETRY_MS = 5 * 60_000;

const num = (env: NodeJS.ProcessEnv, key: string, fallback: number) => {
  const v = Number(env[key]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/**
 * Timing knobs. The defaults suit real publishing; TOPN_LEASE_MS, TOPN_POLL_MS, TOPN_RETRY_BASE_MS and
 * TOPN_OUTCOME_RETRY_MS exist so tests and benchmarks can run crash recovery, back-off and a refusing
 * database in seconds instead of minutes.
 */
export function tuningFromEnv(env: NodeJS.ProcessEnv): RunnerTuning {
  return {
    leaseMs: num(env, "TOPN_LEASE_MS", DEFAULT_LEASE_MS),
    pollMs: num(env, "TOPN_POLL_MS", DEFAULT_POLL_MS),
    retry: {
      baseMs: num(env, "TOPN_RETRY_BASE_MS", DEFAULT_RETRY.baseMs),
      capMs: num(env, "TOPN_RETRY_CAP_MS", DEFAULT_RETRY.capMs),
    },
    outcomeRetryMs: num(env, "TOPN_OUTCOME_RETRY_MS", DEFAULT_OUTCOME_RETRY_MS),
  };
}

/** How old a session check may get in watch mode (a day; TOPN_SESSION_CHECK_MS for tests). */
export function sessionCheckMsFromEnv(env: NodeJS.ProcessEnv): number {
  return num(env, "TOPN_SESSION_CHECK_MS", 86_400_000);
}
