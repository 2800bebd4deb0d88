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
  // 3: one article per identity (issue 8), a lease token per claim (issue 9), account pauses, pacing and
  // session health (issue 11), and which machine holds which account's session (issue 10).
  `
  ALTER TABLE tasks ADD COLUMN lease_token TEXT;
  ALTER TABLE tasks ADD COLUMN identity TEXT NOT NULL DEFAULT '';
  ALTER TABLE tasks ADD COLUMN digest TEXT;
  ALTER TABLE tasks ADD COLUMN mode TEXT NOT NULL DEFAULT 'publish' CHECK (mode IN ('publish', 'draft'));
  ALTER TABLE tasks ADD COLUMN write_back INTEGER NOT NULL DEFAULT 1;

  -- One row per article (it was one per file): a file can move, and --new can give a file a second article.
  CREATE TABLE articles_by_id (
    platform     TEXT    NOT NULL,
    account      TEXT    NOT NULL,
    article_id   TEXT    NOT NULL,
    url          TEXT,
    title        TEXT,
    file         TEXT,
    digest       TEXT,
    content_hash TEXT,
    state        TEXT    NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'draft')),
    task_id      INTEGER,
    published_at INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (platform, account, article_id)
  );
  INSERT OR IGNORE INTO articles_by_id
    (platform, account, article_id, url, title, file, state, task_id, published_at, updated_at)
    SELECT platform, account, article_id, url, title, file, 'published', task_id, published_at, published_at
    FROM articles ORDER BY published_at DESC;
  DROP TABLE articles;
  ALTER TABLE articles_by_id RENAME TO articles;
  CREATE INDEX articles_by_file ON articles(platform, account, file);

  UPDATE tasks SET identity = coalesce(
    (SELECT 'article:' || a.article_id FROM articles a
     WHERE a.platform = tasks.platform AND a.account = tasks.account AND a.file = tasks.file),
    'path:' || file);
  -- An older topn could queue two tasks of one file (retry --failed): keep the running one, else the newest.
  UPDATE tasks SET status = 'cancelled', finished_at = updated_at
  WHERE status = 'queued' AND EXISTS (
    SELECT 1 FROM tasks o WHERE o.platform = tasks.platform AND o.account = tasks.account
      AND o.identity = tasks.identity AND o.id <> tasks.id
      AND (o.status = 'running' OR (o.status = 'queued' AND o.id > tasks.id)));
  CREATE UNIQUE INDEX tasks_one_active_per_identity ON tasks(platform, account, identity)
    WHERE status IN ('queued', 'running');
  CREATE INDEX tasks_by_identity ON tasks(platform, account, identity, id);
  CREATE INDEX tasks_by_draft ON tasks(platform, account, draft_id) WHERE draft_id IS NOT NULL;

  ALTER TABLE accounts ADD COLUMN session_ok_at INTEGER;
  ALTER TABLE accounts ADD COLUMN session_expires_at INTEGER;
  ALTER TABLE accounts ADD COLUMN is_default INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE accounts ADD COLUMN paused_kind TEXT;
  ALTER TABLE accounts ADD COLUMN paused_reason TEXT;
  ALTER TABLE accounts ADD COLUMN paused_fix TEXT;
  ALTER TABLE accounts ADD COLUMN paused_at INTEGER;
  ALTER TABLE accounts ADD COLUMN paused_until INTEGER;
  ALTER TABLE accounts ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE accounts ADD COLUMN gap_ms INTEGER;
  ALTER TABLE accounts ADD COLUMN daily_cap INTEGER;

  -- Publishes per account, for pacing (gap, daily cap). Kept apart from tasks so pruning tasks keeps them.
  CREATE TABLE publishes (
    id       INTEGER PRIMARY KEY,
    platform TEXT    NOT NULL,
    account  TEXT    NOT NULL,
    task_id  INTEGER,
    at       INTEGER NOT NULL
  );
  CREATE INDEX publishes_by_account ON publishes(platform, account, at);
  INSERT INTO publishes (platform, account, task_id, at)
    SELECT platform, account, id, finished_at FROM tasks WHERE status = 'succeeded' AND finished_at IS NOT NULL;

  -- Which machine holds a session for which account (sessions themselves never enter the database).
  CREATE TABLE hosts (
    platform TEXT    NOT NULL,
    account  TEXT    NOT NULL,
    host     TEXT    NOT NULL,
    seen_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, account, host)
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
