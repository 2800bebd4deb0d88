import { DEFAULT_RETRY, type RetryPolicy } from "./policy.js";

export interface RunnerTuning {
  leaseMs: number;
  pollMs: number;
  retry: RetryPolicy;
}

export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_POLL_MS = 1_000;

const num = (env: NodeJS.ProcessEnv, key: string, fallback: number) => {
  const v = Number(env[key]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/**
 * Timing knobs. The defaults suit real publishing; TOPN_LEASE_MS, TOPN_POLL_MS and TOPN_RETRY_BASE_MS
 * exist so tests and benchmarks can run crash recovery and back-off in seconds instead of minutes.
 */
export function tuningFromEnv(env: NodeJS.ProcessEnv): RunnerTuning {
  return {
    leaseMs: num(env, "TOPN_LEASE_MS", DEFAULT_LEASE_MS),
    pollMs: num(env, "TOPN_POLL_MS", DEFAULT_POLL_MS),
    retry: {
      baseMs: num(env, "TOPN_RETRY_BASE_MS", DEFAULT_RETRY.baseMs),
      capMs: num(env, "TOPN_RETRY_CAP_MS", DEFAULT_RETRY.capMs),
    },
  };
}
