import Database from "better-sqlite3";
import { UsageError } from "../errors.js";
import { AccountStore } from "./accounts.js";
import { databasePath } from "./home.js";
import { migrate, NewerDatabaseError } from "./migrations.js";
import { TaskStore } from "./tasks.js";

export interface Store {
  readonly path: string;
  readonly tasks: TaskStore;
  readonly accounts: AccountStore;
  close(): void;
}

/** Open the raw connection with topn's pragmas; exported for migration tests. */
export function openConnection(path: string): Database.Database {
  const db = new Database(path);
  // Another topn may hold the write lock for a few ms (a claim, a checkpoint); wait instead of failing.
  db.pragma("busy_timeout = 5000");
  db.pragma("journal_mode = WAL");
  // better-sqlite3 leaves WAL at NORMAL, where a power loss can undo the commit that recorded a draft id.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  return db;
}

export function openStore(home: string): Store {
  const path = databasePath(home);
  let db: Database.Database;
  try {
    db = openConnection(path);
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
  return {
    path,
    tasks: new TaskStore(db),
    accounts: new AccountStore(db),
    close: () => db.close(),
  };
}
