// Which database holds the queue: SQLite in TOPN_HOME by default; PostgreSQL when TOPN_DATABASE_URL (or
// --database-url) names one, so runners on several machines share one queue.

import type { Store } from "./types.js";

export interface OpenOptions {
  home: string;
  /** postgres://… ; empty or undefined: the SQLite file in `home`. */
  databaseUrl?: string | undefined;
  /**
   * How long a statement waits for another process's lock before the store's retries take over
   * (TOPN_BUSY_TIMEOUT_MS): SQLite's busy_timeout, PostgreSQL's lock_timeout.
   */
  busyTimeoutMs?: number | undefined;
}

export async function openStore(opts: OpenOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const { openPostgresStore } = await import("./postgres/open.js");
    return openPostgresStore(
      opts.databaseUrl,
      opts.busyTimeoutMs === undefined ? {} : { lockTimeoutMs: opts.busyTimeoutMs },
    );
  }
  // better-sqlite3 is loaded only by commands that need the database.
  const { openSqliteStore } = await import("./sqlite/open.js");
  return openSqliteStore(
    opts.home,
    opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs },
  );
}
