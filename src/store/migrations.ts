import type Database from "better-sqlite3";

// Forward-only, keyed on PRAGMA user_version. Each migration runs in its own transaction together with
// the user_version bump, so a crash leaves the database at one version or the next, never between.
// Never edit a migration that has shipped: add a new one.
export const MIGRATIONS: readonly string[] = [
  // 1: tasks, their event timeline, and accounts (non-secret data only: sessions live in the keychain).
  `
  CREATE TABLE tasks (
    id               INTEGER PRIMARY KEY,
    platform         TEXT    NOT NULL,
    account          TEXT    NOT NULL,
    file             TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled')),
    run_at           INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 5,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    draft_id         TEXT,
    checkpoint       TEXT,
    url              TEXT,
    error_kind       TEXT,
    error_message    TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    updated_at       INTEGER NOT NULL
  );
  -- The database, not the runner, guarantees one running task per account, across processes.
  CREATE UNIQUE INDEX tasks_one_running_per_account ON tasks(platform, account) WHERE status = 'running';
  CREATE INDEX tasks_due ON tasks(run_at, id) WHERE status = 'queued';
  CREATE INDEX tasks_leases ON tasks(lease_expires_at) WHERE status = 'running';
  CREATE INDEX tasks_by_status ON tasks(status, id);

  CREATE TABLE task_events (
    id       INTEGER PRIMARY KEY,
    task_id  INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    status   TEXT    NOT NULL,
    attempt  INTEGER NOT NULL,
    message  TEXT    NOT NULL
  );
  CREATE INDEX task_events_by_task ON task_events(task_id, id);

  CREATE TABLE accounts (
    platform      TEXT NOT NULL,
    name          TEXT NOT NULL,
    display_name  TEXT,
    uid           TEXT,
    url_token     TEXT,
    logged_in_at  INTEGER,
    checked_at    INTEGER,
    session_state TEXT,
    PRIMARY KEY (platform, name)
  );
  `,
  // 2: which article a source file became (so publishing an edited file updates it), the step that
  // failed, platform progress data for resuming, and "publish as a new article" requests.
  `
  ALTER TABLE tasks ADD COLUMN error_step TEXT;
  ALTER TABLE tasks ADD COLUMN state TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE tasks ADD COLUMN force_new INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE articles (
    platform     TEXT    NOT NULL,
    account      TEXT    NOT NULL,
    file         TEXT    NOT NULL,
    article_id   TEXT    NOT NULL,
    url          TEXT,
    title        TEXT,
    task_id      INTEGER,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (platform, account, file)
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class NewerDatabaseError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`database schema ${found} is newer than this topn understands (${known})`);
  }
}

/** Bring the database up to `target` (default: the latest). Refuses, untouched, a database from a newer topn. */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): number {
  const version = () => db.pragma("user_version", { simple: true }) as number;
  const first = version();
  if (first > SCHEMA_VERSION) throw new NewerDatabaseError(first, SCHEMA_VERSION);
  if (first >= target) return first;
  // Read the version again inside each write transaction: another topn may be migrating the same file.
  const step = db.transaction(() => {
    const v = version();
    if (v >= target) return false;
    db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${v + 1}`);
    return true;
  });
  while (step.immediate()) {}
  return version();
}
