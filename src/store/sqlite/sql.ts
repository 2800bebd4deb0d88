import { setTimeout as sleep } from "node:timers/promises";

/** What the SQLite statements share: the clock expression and the retry of a busy database. */
export interface Sql {
  /** SQL for "now" in ms since the epoch: SQLite's own clock, or `topn_now()` when a test injects one. */
  readonly now: string;
  /** Run `fn`, again after a back-off while the database is busy or locked by another process. */
  retry<T>(fn: () => T): Promise<T>;
}

const TRANSIENT = new Set(["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_RECOVERY"]);

/** Busy or locked: another process holds the write lock past busy_timeout. Worth trying again. */
export function isTransientSqliteError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && TRANSIENT.has(code);
}

/**
 * busy_timeout already waits 5 s inside SQLite for each statement; past that, a few more tries with a
 * growing pause (0.1, 0.2, 0.4, 0.8, 1.6 s) before the error reaches the caller. Anything else (disk full,
 * I/O error, a constraint) is not retried here: the caller decides.
 */
export async function retryBusy<T>(
  fn: () => T,
  delays: readonly number[] = [100, 200, 400, 800, 1600],
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return fn();
    } catch (e) {
      if (!isTransientSqliteError(e) || i >= delays.length) throw e;
      await sleep(delays[i]!);
    }
  }
}
