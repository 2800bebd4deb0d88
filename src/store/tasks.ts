import type Database from "better-sqlite3";

export const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type TaskStatus = (typeof STATUSES)[number];

export interface Task {
  id: number;
  platform: string;
  account: string;
  file: string;
  contentHash: string;
  title: string;
  status: TaskStatus;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  draftId: string | null;
  checkpoint: string | null;
  state: Record<string, unknown>;
  url: string | null;
  forceNew: boolean;
  errorKind: string | null;
  errorStep: string | null;
  errorMessage: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

export interface TaskEvent {
  id: number;
  taskId: number;
  at: number;
  status: TaskStatus;
  attempt: number;
  message: string;
}

export interface NewTask {
  platform: string;
  account: string;
  file: string;
  contentHash: string;
  title: string;
  runAt: number;
  maxAttempts: number;
  forceNew?: boolean;
  /** An existing draft/article to write into (re-publishing a file updates its article). */
  draftId?: string | null;
  state?: Record<string, unknown>;
}

export interface Failure {
  kind: string;
  step: string;
  message: string;
}

interface TaskRow {
  id: number;
  platform: string;
  account: string;
  file: string;
  content_hash: string;
  title: string;
  status: TaskStatus;
  run_at: number;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  draft_id: string | null;
  checkpoint: string | null;
  state: string;
  url: string | null;
  force_new: number;
  error_kind: string | null;
  error_step: string | null;
  error_message: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

function toTask(r: TaskRow): Task {
  return {
    id: r.id,
    platform: r.platform,
    account: r.account,
    file: r.file,
    contentHash: r.content_hash,
    title: r.title,
    status: r.status,
    runAt: r.run_at,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    draftId: r.draft_id,
    checkpoint: r.checkpoint,
    state: JSON.parse(r.state) as Record<string, unknown>,
    url: r.url,
    forceNew: r.force_new === 1,
    errorKind: r.error_kind,
    errorStep: r.error_step,
    errorMessage: r.error_message,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
  };
}

interface EventRow {
  id: number;
  task_id: number;
  at: number;
  status: TaskStatus;
  attempt: number;
  message: string;
}

/** Why a state change was refused; the command turns it into a one-line usage error. */
export class TransitionRefused extends Error {
  constructor(
    readonly taskId: number,
    readonly status: TaskStatus | "missing",
    message: string,
  ) {
    super(message);
  }
}

export interface ListFilter {
  status?: TaskStatus;
  account?: string;
  limit?: number;
}

/**
 * Every write after a claim carries the lease (`lease_owner` + `status='running'`): if `changes` is 0
 * the lease was lost to recovery or to another runner, and the caller must stop and record nothing.
 */
export class TaskStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const lease = "id = @id AND lease_owner = @owner AND status = 'running'";
    this.s = {
      insert: db.prepare(
        `INSERT INTO tasks (platform, account, file, content_hash, title, status, run_at, max_attempts, force_new,
           draft_id, state, created_at, updated_at)
         VALUES (@platform, @account, @file, @contentHash, @title, 'queued', @runAt, @maxAttempts, @forceNew,
           @draftId, @state, @now, @now)`,
      ),
      event: db.prepare(
        "INSERT INTO task_events (task_id, at, status, attempt, message) VALUES (@id, @now, @status, @attempt, @message)",
      ),
      claim: db.prepare<Record<string, unknown>, TaskRow>(
        `UPDATE tasks SET status = 'running', lease_owner = @owner, lease_expires_at = @expires,
           attempts = attempts + 1, started_at = @now, finished_at = NULL, updated_at = @now
         WHERE id = (
           SELECT t.id FROM tasks t INDEXED BY tasks_due
           WHERE t.status = 'queued' AND t.run_at <= @now
             AND (@only IS NULL OR t.id IN (SELECT value FROM json_each(@only)))
             AND NOT EXISTS (SELECT 1 FROM tasks r
                             WHERE r.status = 'running' AND r.platform = t.platform AND r.account = t.account)
           ORDER BY t.run_at, t.id LIMIT 1)
         RETURNING *`,
      ),
      heartbeat: db.prepare(`UPDATE tasks SET lease_expires_at = @expires WHERE ${lease}`),
      checkpoint: db.prepare(
        `UPDATE tasks SET checkpoint = @checkpoint, draft_id = coalesce(@draftId, draft_id), url = coalesce(@url, url),
           state = coalesce(@state, state), updated_at = @now
         WHERE ${lease} RETURNING attempts`,
      ),
      succeed: db.prepare(
        `UPDATE tasks SET status = 'succeeded', url = @url, draft_id = @articleId, checkpoint = 'published',
           lease_owner = NULL, lease_expires_at = NULL, error_kind = NULL, error_step = NULL, error_message = NULL,
           finished_at = @now, updated_at = @now
         WHERE ${lease} RETURNING *`,
      ),
      remember: db.prepare(
        `INSERT INTO articles (platform, account, file, article_id, url, title, task_id, published_at)
         VALUES (@platform, @account, @file, @articleId, @url, @title, @id, @now)
         ON CONFLICT (platform, account, file) DO UPDATE SET article_id = excluded.article_id, url = excluded.url,
           title = excluded.title, task_id = excluded.task_id, published_at = excluded.published_at`,
      ),
      requeue: db.prepare(
        `UPDATE tasks SET status = 'queued', run_at = @runAt, lease_owner = NULL, lease_expires_at = NULL,
           attempts = attempts - @refund, error_kind = @kind, error_step = @step, error_message = @message,
           updated_at = @now
         WHERE ${lease} RETURNING *`,
      ),
      fail: db.prepare(
        `UPDATE tasks SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, error_kind = @kind,
           error_step = @step, error_message = @message, finished_at = @now, updated_at = @now
         WHERE ${lease} RETURNING *`,
      ),
      running: db.prepare<[], { id: number; lease_owner: string | null; lease_expires_at: number | null }>(
        "SELECT id, lease_owner, lease_expires_at FROM tasks WHERE status = 'running' ORDER BY id",
      ),
      byId: db.prepare<[number], TaskRow>("SELECT * FROM tasks WHERE id = ?"),
      events: db.prepare<[number], EventRow>("SELECT * FROM task_events WHERE task_id = ? ORDER BY id"),
      list: db.prepare<Record<string, unknown>, TaskRow>(
        `SELECT * FROM tasks
         WHERE (@status IS NULL OR status = @status) AND (@account IS NULL OR account = @account)
         ORDER BY id DESC LIMIT @limit`,
      ),
      activeForFile: db.prepare<[string, string, string], { id: number; status: TaskStatus }>(
        `SELECT id, status FROM tasks WHERE platform = ? AND account = ? AND file = ? AND status IN ('queued', 'running')
         ORDER BY id LIMIT 1`,
      ),
      leftoverDraft: db.prepare<[string, string, string], { draft_id: string }>(
        `SELECT draft_id FROM tasks WHERE platform = ? AND account = ? AND file = ? AND draft_id IS NOT NULL
           AND status IN ('failed', 'cancelled') AND force_new = 0 ORDER BY id DESC LIMIT 1`,
      ),
      failedIds: db.prepare<[], { id: number }>("SELECT id FROM tasks WHERE status = 'failed' ORDER BY id"),
      reset: db.prepare(
        `UPDATE tasks SET status = 'queued', run_at = @now, attempts = 0, error_kind = NULL, error_step = NULL,
           error_message = NULL, finished_at = NULL, updated_at = @now
         WHERE id = @id AND status IN ('failed', 'cancelled')`,
      ),
      cancel: db.prepare(
        `UPDATE tasks SET status = 'cancelled', finished_at = @now, updated_at = @now
         WHERE id = @id AND status = 'queued'`,
      ),
      article: db.prepare<[string, string, string], { article_id: string; url: string | null }>(
        "SELECT article_id, url FROM articles WHERE platform = ? AND account = ? AND file = ?",
      ),
      pending: db.prepare<[number], { due: number; next: number | null }>(
        "SELECT count(*) FILTER (WHERE run_at <= ?) AS due, min(run_at) AS next FROM tasks WHERE status = 'queued'",
      ),
      nextDue: db.prepare<[], { next: number | null }>(
        "SELECT min(run_at) AS next FROM tasks WHERE status = 'queued'",
      ),
    };
  }

  private event(id: number, status: TaskStatus, attempt: number, message: string, now: number): void {
    this.s.event.run({ id, now, status, attempt, message });
  }

  /** All or nothing: either every task is enqueued or none is. */
  enqueue(tasks: readonly NewTask[], now = Date.now()): number[] {
    return this.db
      .transaction(() =>
        tasks.map((t) => {
          const id = Number(
            this.s.insert.run({
              ...t,
              forceNew: t.forceNew ? 1 : 0,
              draftId: t.draftId ?? null,
              state: JSON.stringify(t.state ?? {}),
              now,
            }).lastInsertRowid,
          );
          const when = t.runAt > now ? `scheduled for ${new Date(t.runAt).toISOString()}` : "queued";
          this.event(id, "queued", 0, `${when} (account ${t.account})`, now);
          return id;
        }),
      )
      .immediate();
  }

  /**
   * Claim the next due task whose account has no live lease, in one short BEGIN IMMEDIATE transaction.
   * `only` restricts the claim to the given ids (a foreground `topn publish` runs just its own tasks).
   */
  claim(
    owner: string,
    leaseMs: number,
    opts: { only?: readonly number[]; now?: number } = {},
  ): Task | undefined {
    const now = opts.now ?? Date.now();
    return this.db
      .transaction(() => {
        const row = this.s.claim.get({
          owner,
          now,
          expires: now + leaseMs,
          only: opts.only ? JSON.stringify(opts.only) : null,
        });
        if (!row) return undefined;
        this.event(
          row.id,
          "running",
          row.attempts,
          `attempt ${row.attempts} of ${row.max_attempts} started`,
          now,
        );
        return toTask(row);
      })
      .immediate();
  }

  /** Extend a lease. False: the lease is gone, stop working on the task. */
  heartbeat(id: number, owner: string, leaseMs: number, now = Date.now()): boolean {
    return this.s.heartbeat.run({ id, owner, expires: now + leaseMs }).changes === 1;
  }

  checkpoint(
    id: number,
    owner: string,
    patch: {
      checkpoint: string;
      draftId?: string;
      url?: string;
      state?: Record<string, unknown>;
      message?: string;
    },
    now = Date.now(),
  ): boolean {
    return this.db
      .transaction(() => {
        const row = this.s.checkpoint.get({
          id,
          owner,
          now,
          checkpoint: patch.checkpoint,
          draftId: patch.draftId ?? null,
          url: patch.url ?? null,
          state: patch.state ? JSON.stringify(patch.state) : null,
        }) as { attempts: number } | undefined;
        if (!row) return false;
        this.event(id, "running", row.attempts, patch.message ?? patch.checkpoint, now);
        return true;
      })
      .immediate();
  }

  succeed(
    id: number,
    owner: string,
    result: { url: string; articleId: string },
    now = Date.now(),
  ): Task | undefined {
    return this.db
      .transaction(() => {
        const row = this.s.succeed.get({ id, owner, now, url: result.url, articleId: result.articleId }) as
          | TaskRow
          | undefined;
        if (!row) return undefined;
        const task = toTask(row);
        this.s.remember.run({ ...task, articleId: result.articleId, url: result.url, now });
        this.event(id, "succeeded", row.attempts, `published: ${result.url}`, now);
        return task;
      })
      .immediate();
  }

  /** Back to the queue, to run again at `runAt`. `refund` gives the attempt back (shutdown, not the task's fault). */
  requeue(
    id: number,
    owner: string,
    runAt: number,
    message: string,
    failure?: Failure,
    opts: { refund?: boolean; now?: number } = {},
  ): Task | undefined {
    const now = opts.now ?? Date.now();
    return this.db
      .transaction(() => {
        const row = this.s.requeue.get({
          id,
          owner,
          now,
          runAt,
          refund: opts.refund ? 1 : 0,
          kind: failure?.kind ?? null,
          step: failure?.step ?? null,
          message: failure?.message ?? null,
        }) as TaskRow | undefined;
        if (!row) return undefined;
        this.event(id, "queued", row.attempts, message, now);
        return toTask(row);
      })
      .immediate();
  }

  fail(id: number, owner: string, failure: Failure, message: string, now = Date.now()): Task | undefined {
    return this.db
      .transaction(() => {
        const row = this.s.fail.get({ id, owner, now, ...failure }) as TaskRow | undefined;
        if (!row) return undefined;
        this.event(id, "failed", row.attempts, message, now);
        return toTask(row);
      })
      .immediate();
  }

  /**
   * Hand back tasks whose runner is gone: lease expired, or (same machine) its process no longer exists.
   * The attempt stays counted; a task out of attempts fails instead of looping on a crash.
   */
  recover(isOwnerDead: (owner: string) => boolean, now = Date.now()): Task[] {
    const gone = new Map<number, string>();
    for (const r of this.s.running.all()) {
      const owner = r.lease_owner ?? "";
      if ((r.lease_expires_at !== null && r.lease_expires_at < now) || isOwnerDead(owner))
        gone.set(r.id, owner);
    }
    if (gone.size === 0) return [];
    return this.db
      .transaction(() => {
        const recovered: Task[] = [];
        for (const [id, owner] of gone) {
          const task = this.get(id);
          if (task?.status !== "running" || task.leaseOwner !== owner) continue;
          const why = `runner ${owner} stopped during attempt ${task.attempts} (lease expired or process gone)`;
          const out =
            task.attempts >= task.maxAttempts
              ? this.fail(
                  id,
                  owner,
                  { kind: "interrupted", step: task.checkpoint ?? "start", message: why },
                  `${why}; no attempts left`,
                  now,
                )
              : this.requeue(id, owner, now, `recovered: ${why}`, undefined, { now });
          if (out) recovered.push(out);
        }
        return recovered;
      })
      .immediate();
  }

  get(id: number): Task | undefined {
    const row = this.s.byId.get(id);
    return row ? toTask(row) : undefined;
  }

  events(id: number): TaskEvent[] {
    return this.s.events.all(id).map((e) => ({
      id: e.id,
      taskId: e.task_id,
      at: e.at,
      status: e.status,
      attempt: e.attempt,
      message: e.message,
    }));
  }

  list(filter: ListFilter = {}): Task[] {
    return this.s.list
      .all({ status: filter.status ?? null, account: filter.account ?? null, limit: filter.limit ?? -1 })
      .map(toTask);
  }

  /** Queued tasks due now, and when the next one is due. */
  pending(now = Date.now()): { due: number; next: number | null } {
    return this.s.pending.get(now)!;
  }

  /** When the earliest queued task is due (an index lookup: the runner asks on every wake-up). */
  nextDueAt(): number | null {
    return this.s.nextDue.get()!.next;
  }

  /** The article a source file became for this account, if it was published before. */
  articleFor(
    platform: string,
    account: string,
    file: string,
  ): { articleId: string; url: string | null } | undefined {
    const row = this.s.article.get(platform, account, file);
    return row ? { articleId: row.article_id, url: row.url } : undefined;
  }

  /** A queued or running task for this file and account, if any. */
  activeForFile(
    platform: string,
    account: string,
    file: string,
  ): { id: number; status: TaskStatus } | undefined {
    return this.s.activeForFile.get(platform, account, file);
  }

  /** The draft a failed or cancelled earlier task for this file left behind, to reuse instead of orphaning it. */
  leftoverDraft(platform: string, account: string, file: string): string | undefined {
    return this.s.leftoverDraft.get(platform, account, file)?.draft_id;
  }

  failedIds(): number[] {
    return this.s.failedIds.all().map((r) => r.id);
  }

  /** Failed or cancelled tasks back to the queue with fresh attempts. All or nothing. */
  retry(ids: readonly number[], now = Date.now()): Task[] {
    return this.db
      .transaction(() => {
        for (const id of ids) {
          const t = this.get(id);
          if (!t) throw new TransitionRefused(id, "missing", `task ${id} does not exist`);
          if (t.status === "running") throw new TransitionRefused(id, t.status, `task ${id} is running`);
          if (t.status === "queued")
            throw new TransitionRefused(id, t.status, `task ${id} is already queued`);
          if (t.status === "succeeded")
            throw new TransitionRefused(id, t.status, `task ${id} already succeeded`);
        }
        return ids.map((id) => {
          this.s.reset.run({ id, now });
          this.event(id, "queued", 0, "retry requested", now);
          return this.get(id)!;
        });
      })
      .immediate();
  }

  /** Queued (or scheduled) tasks to `cancelled`. All or nothing. */
  cancel(ids: readonly number[], now = Date.now()): Task[] {
    return this.db
      .transaction(() => {
        for (const id of ids) {
          const t = this.get(id);
          if (!t) throw new TransitionRefused(id, "missing", `task ${id} does not exist`);
          if (t.status !== "queued") throw new TransitionRefused(id, t.status, `task ${id} is ${t.status}`);
        }
        return ids.map((id) => {
          this.s.cancel.run({ id, now });
          this.event(id, "cancelled", this.get(id)!.attempts, "cancelled", now);
          return this.get(id)!;
        });
      })
      .immediate();
  }
}
