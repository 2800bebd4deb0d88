import Database from "better-sqlite3";
import { UsageError } from "../../errors.js";
import { databasePath } from "../home.js";
import type { Store } from "../types.js";
import { SqliteAccountStore } from "./accounts.js";
import { migrate, NewerDatabaseError, SCHEMA_VERSION } from "./migrations.js";
import { retryBusy, type Sql } from "./sql.js";
import { SqliteTaskStore } from "./tasks.js";

/** Open the raw connection with topn's pragmas; exported for migration tests. */
export function openConnection(path: string, busyTimeoutMs = 5000): Database.Database {
  const db = new Database(path);
  // Another topn may hold the write lock for a few ms (a claim, a checkpoint); wait instead of failing.
  db.pragma(`busy_timeout = ${Math.max(0, Math.round(busyTimeoutMs))}`);
  db.pragma("journal_mode = WAL");
  // better-sqlite3 leaves WAL at NORMAL, where a power loss can undo the commit that recorded a draft id.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  return db;
}

export interface SqliteOptions {
  /** A clock for tests (pacing, leases): every time the database compares comes from it. */
  clock?: () => number;
  /** How long one statement waits for another process's write lock (default 5 s). */
  busyTimeoutMs?: number;
}

export function openSqliteStore(home: string, opts: SqliteOptions = {}): Store {
  const path = databasePath(home);
  let db: Database.Database;
  try {
    db = openConnection(path, opts.busyTimeoutMs);
  } catch (e) {
    throw new UsageError(
      `cannot open ${path}: ${(e as Error).message}`,
      "check TOPN_HOME and its permissions",
    );
  }
  try {
    migrate(db);
  } catch (e) {
    db.close();
    if (e instanceof NewerDatabaseError) {
      throw new UsageError(
        `${path} was written by a newer topn (schema ${e.found}; this topn knows up to ${e.known}); it was left untouched`,
        "upgrade topn (npm install -g topn@latest) or point TOPN_HOME elsewhere",
      );
    }
    throw e;
  }
  const clock = opts.clock;
  if (clock) db.function("topn_now", () => Math.round(clock()));
  const sql: Sql = {
    now: clock ? "topn_now()" : "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
    retry: (fn) => retryBusy(fn),
  };
  return {
    kind: "sqlite",
    location: path,
    tasks: new SqliteTaskStore(db, sql),
    accounts: new SqliteAccountStore(db, sql),
    async check() {
      const schema = db.pragma("user_version", { simple: true }) as number;
      const rows = db.pragma("quick_check") as { quick_check: string }[];
      const problems = rows.map((r) => r.quick_check).filter((m) => m !== "ok");
      return { schema, latest: SCHEMA_VERSION, problems };
    },
    async close() {
      db.close();
    },
  };
}
