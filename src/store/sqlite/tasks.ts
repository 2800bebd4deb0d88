import type Database from "better-sqlite3";
import type { PublishMode } from "../../platform.js";
import { articleKey, pathKey } from "../identity.js";
import { type PauseColumns, pauseOf, pauseParams } from "../pause.js";
import { RetryChoice } from "../retry.js";
import { type ArticleRow, type TaskEventRow, toArticle, toEvent } from "../rows.js";
import {
  type AccountHold,
  type AccountPause,
  type ArticleRecord,
  type CheckpointPatch,
  type ClaimRequest,
  type ClaimScope,
  EnqueueConflict,
  type EnqueueOutcome,
  type Failure,
  type Lease,
  type ListFilter,
  type NewTask,
  type Outcome,
  type PacingDefaults,
  type RetryResult,
  type Task,
  type TaskEvent,
  type TaskStatus,
  type TaskStore,
  TransitionRefused,
} from "../types.js";
import { PAUSE_ACCOUNT } from "./accounts.js";
import type { Sql } from "./sql.js";

export interface TaskRow {
  id: number;
  platform: string;
  account: string;
  file: string;
  identity: string;
  content_hash: string;
  digest: string | null;
  title: string;
  status: TaskStatus;
  run_at: number;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: number | null;
  draft_id: string | null;
  checkpoint: string | null;
  state: string;
  url: string | null;
  force_new: number;
  mode: PublishMode;
  write_back: number;
  error_kind: string | null;
  error_step: string | null;
  error_message: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export function toTask(r: TaskRow): Task {
  return {
    id: r.id,
    platform: r.platform,
    account: r.account,
    file: r.file,
    identity: r.identity,
    contentHash: r.content_hash,
    digest: r.digest,
    title: r.title,
    status: r.status,
    runAt: r.run_at,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    leaseOwner: r.lease_owner,
    leaseToken: r.lease_token,
    leaseExpiresAt: r.lease_expires_at,
    draftId: r.draft_id,
    checkpoint: r.checkpoint,
    state: JSON.parse(r.state) as Record<string, unknown>,
    url: r.url,
    forceNew: r.force_new === 1,
    mode: r.mode,
    writeBack: r.write_back === 1,
    errorKind: r.error_kind,
    errorStep: r.error_step,
    errorMessage: r.error_message,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
  };
}

const DAY_MS = 86_400_000;

/**
 * The one definition of "when could this queued task run": its own time, its account's pause (a timed one;
 * an open-ended pause is filtered out), the pacing gap since the account's last publish and the slot its
 * 24-hour cap frees. Drafts are not publishes and are not paced. Used by the claim, the runner's sleep and
 * `tasks`/`show`, so what they say cannot drift apart. Needs `t` (tasks) and `a` (accounts, left-joined).
 */
const GAP_UNTIL = `coalesce((SELECT max(p.at) FROM publishes p WHERE p.platform = t.platform AND p.account = t.account)
    + coalesce(a.gap_ms, @gapMs), 0)`;
const CAP = "coalesce(a.daily_cap, @dailyCap)";
// The cap-th most recent publish of the last 24 hours (the one with cap-1 newer ones): a slot frees 24 h
// after it. SQLite allows no outer column in LIMIT/OFFSET, hence the count.
const CAP_UNTIL = `CASE WHEN ${CAP} <= 0 THEN 0 ELSE coalesce((SELECT max(p.at) FROM publishes p
    WHERE p.platform = t.platform AND p.account = t.account AND p.at > NOW - ${DAY_MS}
      AND (SELECT count(*) FROM publishes q
           WHERE q.platform = p.platform AND q.account = p.account AND q.at > p.at) >= ${CAP} - 1)
    + ${DAY_MS}, 0) END`;
const ELIGIBLE_AT = `max(t.run_at, coalesce(a.paused_until, 0),
    CASE WHEN t.mode = 'draft' THEN 0 ELSE ${GAP_UNTIL} END,
    CASE WHEN t.mode = 'draft' THEN 0 ELSE ${CAP_UNTIL} END)`;
/** Queued tasks this claim may consider (a foreground publish's own; accounts this machine has sessions for). */
const IN_SCOPE = `t.status = 'queued'
    AND (@only IS NULL OR t.id IN (SELECT value FROM json_each(@only)))
    AND (json_type(@accounts, '$."' || t.platform || '"') IS NULL
         OR t.account IN (SELECT value FROM json_each(@accounts, '$."' || t.platform || '"')))`;
/** The account (`t`, with `a` left-joined) could run a task now or later: not running one, not paused for good. */
const ACCOUNT_FREE = `NOT (a.paused_kind IS NOT NULL AND a.paused_until IS NULL)
    AND NOT EXISTS (SELECT 1 FROM tasks r
                    WHERE r.status = 'running' AND r.platform = t.platform AND r.account = t.account)`;
const WITH_ACCOUNT = "LEFT JOIN accounts a ON a.platform = t.platform AND a.name = t.account";
/**
 * The claim walks the due index in queue order and stops at the first claimable task: without the hint the
 * planner picks tasks_by_status and sorts the whole queue on every claim (with 5,000 queued: 13 ms per
 * claim instead of 2, the runner 17× slower than before the async store).
 */
const CLAIMABLE_NOW = `tasks t INDEXED BY tasks_due ${WITH_ACCOUNT}
  WHERE ${IN_SCOPE} AND ${ACCOUNT_FREE} AND t.run_at <= NOW AND ${ELIGIBLE_AT} <= NOW`;
/** The earliest moment any queued task in scope becomes claimable (the runner's sleep). */
const NEXT_CLAIM_AT = `SELECT min(${ELIGIBLE_AT}) - NOW AS wait
  FROM tasks t ${WITH_ACCOUNT} WHERE ${IN_SCOPE} AND ${ACCOUNT_FREE}`;

/**
 * Tasks in SQLite. Every write after a claim carries the lease token (`id` + `lease_token` + `running`): no
 * changed row means the lease was lost to recovery or to another runner, and the caller records nothing.
 * Writes are short BEGIN IMMEDIATE transactions; nothing is held open while a job works.
 */
export class SqliteTaskStore implements TaskStore {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly sql: Sql,
  ) {
    const NOW = sql.now;
    const lease = "id = @id AND lease_token = @token AND status = 'running'";
    const p = (text: string) => db.prepare(text.replace(/\bNOW\b/g, NOW));
    this.s = {
      now: db.prepare<[], { now: number }>(`SELECT ${NOW} AS now`),
      insert: p(
        `INSERT INTO tasks (platform, account, file, identity, content_hash, digest, title, status, run_at,
           max_attempts, force_new, mode, write_back, draft_id, state, created_at, updated_at)
         VALUES (@platform, @account, @file, @identity, @contentHash, @digest, @title, 'queued', coalesce(@runAt, NOW),
           @maxAttempts, @forceNew, @mode, @writeBack, @draftId, @state, NOW, NOW)
         RETURNING *`,
      ),
      event: p(
        "INSERT INTO task_events (task_id, at, status, attempt, message) VALUES (@id, NOW, @status, @attempt, @message)",
      ),
      activeByIdentity: db.prepare<[string, string, string], { id: number; status: TaskStatus }>(
        `SELECT id, status FROM tasks
         WHERE platform = ? AND account = ? AND identity = ? AND status IN ('queued', 'running')`,
      ),
      articleByFile: db.prepare<[string, string, string], ArticleRow>(
        "SELECT * FROM articles WHERE platform = ? AND account = ? AND file = ? ORDER BY updated_at DESC LIMIT 1",
      ),
      articleById: db.prepare<[string, string, string], ArticleRow>(
        "SELECT * FROM articles WHERE platform = ? AND account = ? AND article_id = ?",
      ),
      articles: db.prepare<[string, string], ArticleRow>(
        "SELECT * FROM articles WHERE platform = ? AND account = ? ORDER BY published_at, article_id",
      ),
      moveArticle: db.prepare<[string, string, string, string]>(
        "UPDATE articles SET file = ? WHERE platform = ? AND account = ? AND article_id = ?",
      ),
      leftoverDraft: db.prepare<[string, string, string], { draft_id: string }>(
        `SELECT draft_id FROM tasks WHERE platform = ? AND account = ? AND identity = ? AND draft_id IS NOT NULL
           AND status IN ('failed', 'cancelled') AND force_new = 0 ORDER BY id DESC LIMIT 1`,
      ),
      claim: p(
        `UPDATE tasks SET status = 'running', lease_owner = @owner, lease_token = @token,
           lease_expires_at = NOW + @leaseMs, attempts = attempts + 1, started_at = NOW, finished_at = NULL,
           updated_at = NOW
         WHERE id = (SELECT t.id FROM ${CLAIMABLE_NOW}
                     ORDER BY t.run_at, t.id LIMIT 1)
         RETURNING *`,
      ),
      claimableNow: p(
        `SELECT t.id FROM ${CLAIMABLE_NOW} ORDER BY t.run_at, t.id LIMIT 1`,
      ) as Database.Statement<Record<string, unknown>, { id: number }>,
      nextClaimAt: p(NEXT_CLAIM_AT) as Database.Statement<Record<string, unknown>, { wait: number | null }>,
      heartbeat: p(`UPDATE tasks SET lease_expires_at = NOW + @leaseMs WHERE ${lease}`),
      checkpoint: p(
        `UPDATE tasks SET checkpoint = @checkpoint, draft_id = coalesce(@draftId, draft_id), url = coalesce(@url, url),
           state = coalesce(@state, state), updated_at = NOW
         WHERE ${lease} RETURNING attempts`,
      ),
      succeed: p(
        `UPDATE tasks SET status = 'succeeded', url = @url, draft_id = @articleId,
           checkpoint = CASE WHEN @state = 'draft' THEN 'saved' ELSE 'published' END,
           lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, error_kind = NULL, error_step = NULL,
           error_message = NULL, finished_at = NOW, updated_at = NOW
         WHERE ${lease} RETURNING *`,
      ),
      remember: p(
        `INSERT INTO articles (platform, account, article_id, url, title, file, digest, content_hash, state, task_id,
           published_at, updated_at)
         VALUES (@platform, @account, @articleId, @url, @title, @file, @digest, @contentHash, @state, @id, NOW, NOW)
         ON CONFLICT (platform, account, article_id) DO UPDATE SET
           url = excluded.url, title = excluded.title, file = excluded.file, task_id = excluded.task_id,
           updated_at = excluded.updated_at,
           -- Saving the draft of a live article changes neither what is live nor what "unchanged" compares with.
           digest = CASE WHEN excluded.state = 'draft' AND articles.state = 'published'
                         THEN articles.digest ELSE excluded.digest END,
           content_hash = CASE WHEN excluded.state = 'draft' AND articles.state = 'published'
                         THEN articles.content_hash ELSE excluded.content_hash END,
           published_at = CASE WHEN excluded.state = 'published' THEN excluded.published_at ELSE articles.published_at END,
           state = CASE WHEN articles.state = 'published' THEN 'published' ELSE excluded.state END`,
      ),
      // The file now stands for this article; an older article of the same file (`--new`) keeps no file.
      releaseFile: db.prepare(
        `UPDATE articles SET file = NULL
         WHERE platform = @platform AND account = @account AND file = @file AND article_id <> @articleId`,
      ),
      published: p(
        "INSERT INTO publishes (platform, account, task_id, at) VALUES (@platform, @account, @id, NOW)",
      ),
      clearStrikes: db.prepare(
        "UPDATE accounts SET strikes = 0 WHERE platform = @platform AND name = @account AND strikes > 0",
      ),
      requeue: p(
        `UPDATE tasks SET status = 'queued', run_at = coalesce(NOW + @delayMs, run_at), lease_owner = NULL, lease_token = NULL,
           lease_expires_at = NULL, attempts = attempts - @refund, error_kind = @kind, error_step = @step,
           error_message = @message, updated_at = NOW
         WHERE ${lease} RETURNING *`,
      ),
      fail: p(
        `UPDATE tasks SET status = 'failed', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
           error_kind = @kind, error_step = @step, error_message = @message, finished_at = NOW, updated_at = NOW
         WHERE ${lease} RETURNING *`,
      ),
      pause: p(PAUSE_ACCOUNT),
      runningOwners: db.prepare<[], { lease_owner: string }>(
        "SELECT DISTINCT lease_owner FROM tasks WHERE status = 'running' AND lease_owner IS NOT NULL",
      ),
      recoverable: p(
        `SELECT id, lease_token, lease_owner, attempts FROM tasks
         WHERE status = 'running' AND (lease_expires_at < NOW OR lease_owner IN (SELECT value FROM json_each(@dead)))
           AND lease_token NOT IN (SELECT value FROM json_each(@keep))`,
      ) as Database.Statement<
        Record<string, unknown>,
        { id: number; lease_token: string; lease_owner: string; attempts: number }
      >,
      // The expiry is tested again here, inside the write: a lease renewed since the read is not taken.
      // The task keeps its run_at: it was first in line when it was claimed.
      recover: p(
        `UPDATE tasks SET
           status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
           lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
           error_kind = CASE WHEN attempts >= max_attempts THEN 'interrupted' ELSE error_kind END,
           error_step = CASE WHEN attempts >= max_attempts THEN coalesce(checkpoint, 'start') ELSE error_step END,
           error_message = CASE WHEN attempts >= max_attempts THEN @why ELSE error_message END,
           finished_at = CASE WHEN attempts >= max_attempts THEN NOW ELSE NULL END, updated_at = NOW
         WHERE id = @id AND lease_token = @token AND status = 'running'
           AND (lease_expires_at < NOW OR lease_owner IN (SELECT value FROM json_each(@dead)))
         RETURNING *`,
      ),
      byId: db.prepare<[number], TaskRow>("SELECT * FROM tasks WHERE id = ?"),
      events: db.prepare<[number], TaskEventRow>("SELECT * FROM task_events WHERE task_id = ? ORDER BY id"),
      list: db.prepare<Record<string, unknown>, TaskRow>(
        `SELECT * FROM tasks
         WHERE (@status IS NULL OR status = @status) AND (@account IS NULL OR account = @account)
         ORDER BY id DESC LIMIT @limit`,
      ),
      pending: p(
        "SELECT count(*) FILTER (WHERE run_at <= NOW) AS due, min(run_at) AS next FROM tasks WHERE status = 'queued'",
      ) as Database.Statement<[], { due: number; next: number | null }>,
      failedIds: db.prepare<[], { id: number }>("SELECT id FROM tasks WHERE status = 'failed' ORDER BY id"),
      newer: db.prepare<Record<string, unknown>, { id: number; status: TaskStatus }>(
        `SELECT id, status FROM tasks
         WHERE platform = @platform AND account = @account AND id > @id
           AND status IN ('succeeded', 'queued', 'running')
           AND (identity = @identity OR (@draftId IS NOT NULL AND draft_id = @draftId))
         ORDER BY id DESC LIMIT 1`,
      ),
      reset: p(
        `UPDATE tasks SET status = 'queued', run_at = NOW, attempts = 0, error_kind = NULL, error_step = NULL,
           error_message = NULL, finished_at = NULL, updated_at = NOW
         WHERE id = @id AND status IN ('failed', 'cancelled') RETURNING *`,
      ),
      cancel: p(
        `UPDATE tasks SET status = 'cancelled', finished_at = NOW, updated_at = NOW
         WHERE id = @id AND status IN ('queued', 'failed') RETURNING *`,
      ),
      reschedule: p(
        "UPDATE tasks SET run_at = @runAt, updated_at = NOW WHERE id = @id AND status = 'queued' RETURNING *",
      ),
      prunable: p(
        `SELECT id FROM tasks WHERE status IN ('succeeded', 'failed', 'cancelled')
           AND coalesce(finished_at, updated_at) < NOW - @olderThanMs ORDER BY id`,
      ) as Database.Statement<Record<string, unknown>, { id: number }>,
      deleteTask: db.prepare<[number]>("DELETE FROM tasks WHERE id = ?"),
      // Pacing belongs to the account: computed once per account with queued tasks, not once per task.
      holds: p(
        `SELECT t.platform, t.account, a.paused_kind, a.paused_reason, a.paused_fix, a.paused_at, a.paused_until,
           ${GAP_UNTIL} AS gap_until, ${CAP_UNTIL} AS cap_until, NOW AS now
         FROM (SELECT DISTINCT platform, account FROM tasks WHERE status = 'queued') t ${WITH_ACCOUNT}`,
      ) as Database.Statement<Record<string, unknown>, HoldRow>,
      hosts: db.prepare<[string, string], { host: string; seen_at: number }>(
        "SELECT host, seen_at FROM hosts WHERE platform = ? AND account = ? ORDER BY seen_at DESC",
      ),
    };
  }

  private event(id: number, status: TaskStatus, attempt: number, message: string): void {
    this.s.event.run({ id, status, attempt, message });
  }

  /** better-sqlite3 transactions are synchronous: a write lock is never held across an await. */
  private write<T>(fn: () => T): Promise<T> {
    return this.sql.retry(() => this.db.transaction(fn).immediate());
  }

  private read<T>(fn: () => T): Promise<T> {
    return this.sql.retry(fn);
  }

  async now(): Promise<number> {
    return this.read(() => this.s.now.get()!.now);
  }

  async enqueue(tasks: readonly NewTask[], opts: { atomic?: boolean } = {}): Promise<EnqueueOutcome[]> {
    const atomic = opts.atomic ?? true;
    const run = () => {
      const outcomes = tasks.map((t) => this.enqueueOne(t));
      const conflicts = outcomes.flatMap((o, index) =>
        o.kind === "active" ? [{ index, id: o.id, status: o.status }] : [],
      );
      if (atomic && conflicts.length > 0) throw new EnqueueConflict(conflicts);
      return outcomes;
    };
    return this.write(run);
  }

  /** Runs inside the enqueue transaction: every check enqueue relies on sees what this insert sees. */
  private enqueueOne(t: NewTask): EnqueueOutcome {
    let article: ArticleRow | undefined;
    if (t.articleId) article = this.s.articleById.get(t.platform, t.account, t.articleId);
    else if (!t.forceNew) {
      for (const file of [t.file, ...(t.aliases ?? [])]) {
        article = this.s.articleByFile.get(t.platform, t.account, file);
        if (article) break;
      }
    }
    const articleId = t.articleId ?? article?.article_id ?? null;
    const identity = articleId ? articleKey(articleId) : pathKey(t.file);
    const active = this.s.activeByIdentity.get(t.platform, t.account, identity);
    if (active) return { kind: "active", id: active.id, status: active.status };
    const mode = t.mode ?? "publish";
    if (
      article &&
      !t.force &&
      article.digest === t.digest &&
      (article.state === "published" || mode === "draft")
    ) {
      // A moved file with the same content: the article now belongs to its new path.
      if (article.file !== t.file) this.s.moveArticle.run(t.file, t.platform, t.account, article.article_id);
      return { kind: "unchanged", articleId: article.article_id, url: article.url };
    }
    const draftId =
      articleId ??
      (t.forceNew ? null : (this.s.leftoverDraft.get(t.platform, t.account, identity)?.draft_id ?? null));
    const state = {
      ...(t.state ?? {}),
      ...(article?.state === "published" ? { updates: article.article_id } : {}),
    };
    const row = this.s.insert.get({
      platform: t.platform,
      account: t.account,
      file: t.file,
      identity,
      contentHash: t.contentHash,
      digest: t.digest,
      title: t.title,
      runAt: t.runAt,
      maxAttempts: t.maxAttempts,
      forceNew: t.forceNew ? 1 : 0,
      mode,
      writeBack: t.writeBack === false ? 0 : 1,
      draftId,
      state: JSON.stringify(state),
    }) as TaskRow;
    const now = this.s.now.get()!.now;
    const when = row.run_at > now ? `scheduled for ${new Date(row.run_at).toISOString()}` : "queued";
    const what = article
      ? `updates ${article.url ?? article.article_id}`
      : articleId
        ? `updates article ${articleId}`
        : "new article";
    this.event(row.id, "queued", 0, `${when} (account ${t.account}; ${what})`);
    return { kind: "queued", task: toTask(row) };
  }

  async claim(req: ClaimRequest): Promise<Task | undefined> {
    return this.write(() => {
      const row = this.s.claim.get({
        ...scopeParams(req),
        owner: req.owner,
        token: req.token,
        leaseMs: req.leaseMs,
      }) as TaskRow | undefined;
      if (!row) return undefined;
      this.event(row.id, "running", row.attempts, `attempt ${row.attempts} of ${row.max_attempts} started`);
      return toTask(row);
    });
  }

  async nextClaimIn(scope: ClaimScope): Promise<number | null> {
    const params = scopeParams(scope);
    return this.read(() => {
      // The claim's own walk answers "now" after a few index entries; the minimum over the whole queue is
      // needed only when nothing is claimable, i.e. before the runner sleeps.
      if (this.s.claimableNow.get(params)) return 0;
      const wait = this.s.nextClaimAt.get(params)!.wait;
      return wait === null ? null : Math.max(0, wait);
    });
  }

  async heartbeat(lease: Lease, leaseMs: number): Promise<boolean> {
    return this.write(() => this.s.heartbeat.run({ ...lease, leaseMs }).changes === 1);
  }

  async checkpoint(lease: Lease, patch: CheckpointPatch): Promise<number | undefined> {
    return this.write(() => {
      const row = this.s.checkpoint.get({
        ...lease,
        checkpoint: patch.checkpoint,
        draftId: patch.draftId ?? null,
        url: patch.url ?? null,
        state: patch.state ? JSON.stringify(patch.state) : null,
      }) as { attempts: number } | undefined;
      if (!row) return undefined;
      this.event(lease.id, "running", row.attempts, patch.message ?? patch.checkpoint);
      return row.attempts;
    });
  }

  async succeed(lease: Lease, outcome: Outcome): Promise<Task | undefined> {
    return this.write(() => {
      const row = this.s.succeed.get({
        ...lease,
        url: outcome.url,
        articleId: outcome.articleId,
        state: outcome.state,
      }) as TaskRow | undefined;
      if (!row) return undefined;
      const base = { platform: row.platform, account: row.account, id: row.id, articleId: outcome.articleId };
      this.s.remember.run({
        ...base,
        url: outcome.url,
        title: row.title,
        file: row.file,
        digest: outcome.digest,
        contentHash: outcome.contentHash,
        state: outcome.state,
      });
      this.s.releaseFile.run({ ...base, file: row.file });
      if (outcome.state === "published") {
        this.s.published.run(base);
        this.s.clearStrikes.run(base);
      }
      const what =
        outcome.state === "draft" ? `saved as a draft: ${outcome.url}` : `published: ${outcome.url}`;
      this.event(row.id, "succeeded", row.attempts, what);
      return toTask(row);
    });
  }

  async requeue(
    lease: Lease,
    delayMs: number,
    message: string,
    failure?: Failure,
    opts: { refund?: boolean } = {},
  ): Promise<Task | undefined> {
    return this.write(() => this.requeueNow(lease, delayMs, message, failure, opts.refund ?? false));
  }

  /** `delayMs` null: the task keeps its place in the queue (its old run_at). */
  private requeueNow(
    lease: Lease,
    delayMs: number | null,
    message: string,
    failure: Failure | undefined,
    refund: boolean,
  ) {
    const row = this.s.requeue.get({
      ...lease,
      delayMs: delayMs === null ? null : Math.max(0, Math.round(delayMs)),
      refund: refund ? 1 : 0,
      kind: failure?.kind ?? null,
      step: failure?.step ?? null,
      message: failure?.message ?? null,
    }) as TaskRow | undefined;
    if (!row) return undefined;
    this.event(row.id, "queued", row.attempts, message);
    return toTask(row);
  }

  async fail(lease: Lease, failure: Failure, message: string): Promise<Task | undefined> {
    return this.write(() => {
      const row = this.s.fail.get({ ...lease, ...failure }) as TaskRow | undefined;
      if (!row) return undefined;
      this.event(row.id, "failed", row.attempts, message);
      return toTask(row);
    });
  }

  async hold(lease: Lease, pause: AccountPause, failure: Failure): Promise<Task | undefined> {
    return this.write(() => {
      const task = this.requeueNow(
        lease,
        null,
        `held: account paused — ${pause.reason}; fix: ${pause.fix}`,
        failure,
        true,
      );
      if (!task) return undefined;
      this.s.pause.run(pauseParams(task.platform, task.account, pause));
      return task;
    });
  }

  async runningOwners(): Promise<string[]> {
    return this.read(() => this.s.runningOwners.all().map((r) => r.lease_owner));
  }

  async recover(opts: { deadOwners: readonly string[]; keep: readonly string[] }): Promise<Task[]> {
    const params = { dead: JSON.stringify(opts.deadOwners), keep: JSON.stringify(opts.keep) };
    // A read first: the write lock is taken only when there is something to recover.
    if ((await this.read(() => this.s.recoverable.all(params))).length === 0) return [];
    return this.write(() => {
      const out: Task[] = [];
      for (const r of this.s.recoverable.all(params)) {
        const why = `runner ${r.lease_owner} stopped during attempt ${r.attempts} (lease expired or process gone)`;
        const row = this.s.recover.get({ ...params, id: r.id, token: r.lease_token, why }) as
          | TaskRow
          | undefined;
        if (!row) continue;
        this.event(
          row.id,
          row.status,
          row.attempts,
          row.status === "failed" ? `${why}; no attempts left` : `recovered: ${why}`,
        );
        out.push(toTask(row));
      }
      return out;
    });
  }

  async get(id: number): Promise<Task | undefined> {
    return this.read(() => {
      const row = this.s.byId.get(id);
      return row ? toTask(row) : undefined;
    });
  }

  async events(id: number): Promise<TaskEvent[]> {
    return this.read(() => this.s.events.all(id).map(toEvent));
  }

  async list(filter: ListFilter = {}): Promise<Task[]> {
    return this.read(() =>
      this.s.list
        .all({ status: filter.status ?? null, account: filter.account ?? null, limit: filter.limit ?? -1 })
        .map(toTask),
    );
  }

  async pending(): Promise<{ due: number; next: number | null }> {
    return this.read(() => this.s.pending.get()!);
  }

  async retry(ids: readonly number[], opts: { skipSuperseded?: boolean } = {}): Promise<RetryResult> {
    return this.write(() => {
      const choice = new RetryChoice<TaskRow>(Boolean(opts.skipSuperseded));
      for (const id of ids) {
        const t = this.s.byId.get(id);
        RetryChoice.check(id, t);
        choice.consider(
          t,
          this.s.newer.get({
            platform: t.platform,
            account: t.account,
            id: t.id,
            identity: t.identity,
            draftId: t.draft_id,
          }),
        );
      }
      const retried = choice.chosen().map((t) => {
        const row = this.s.reset.get({ id: t.id }) as TaskRow;
        this.event(t.id, "queued", 0, "retry requested");
        return toTask(row);
      });
      return { retried, skipped: choice.skipped };
    });
  }

  async failedIds(): Promise<number[]> {
    return this.read(() => this.s.failedIds.all().map((r) => r.id));
  }

  async cancel(ids: readonly number[]): Promise<{ task: Task; was: TaskStatus }[]> {
    return this.write(() => {
      for (const id of ids) {
        const t = this.s.byId.get(id);
        if (!t) throw new TransitionRefused(id, "missing", `task ${id} does not exist`);
        if (t.status !== "queued" && t.status !== "failed")
          throw new TransitionRefused(id, t.status, `task ${id} is ${t.status}`);
      }
      return ids.map((id) => {
        const was = this.s.byId.get(id)!.status;
        const row = this.s.cancel.get({ id }) as TaskRow;
        this.event(id, "cancelled", row.attempts, was === "failed" ? "dismissed" : "cancelled");
        return { task: toTask(row), was };
      });
    });
  }

  async reschedule(id: number, runAt: number): Promise<Task> {
    return this.write(() => {
      const t = this.s.byId.get(id);
      if (!t) throw new TransitionRefused(id, "missing", `task ${id} does not exist`);
      if (t.status !== "queued") throw new TransitionRefused(id, t.status, `task ${id} is ${t.status}`);
      const row = this.s.reschedule.get({ id, runAt }) as TaskRow;
      this.event(id, "queued", row.attempts, `rescheduled for ${new Date(runAt).toISOString()}`);
      return toTask(row);
    });
  }

  async prune(olderThanMs: number): Promise<number[]> {
    return this.write(() => {
      const ids = this.s.prunable.all({ olderThanMs }).map((r) => r.id);
      for (const id of ids) this.s.deleteTask.run(id);
      return ids;
    });
  }

  async articleForFile(platform: string, account: string, files: readonly string[]) {
    return this.read(() => {
      for (const file of files) {
        const row = this.s.articleByFile.get(platform, account, file);
        if (row) return toArticle(row);
      }
      return undefined;
    });
  }

  async article(platform: string, account: string, articleId: string) {
    return this.read(() => {
      const row = this.s.articleById.get(platform, account, articleId);
      return row ? toArticle(row) : undefined;
    });
  }

  async articles(platform: string, account: string): Promise<ArticleRecord[]> {
    return this.read(() => this.s.articles.all(platform, account).map(toArticle));
  }

  async holds(pacing: PacingDefaults): Promise<AccountHold[]> {
    return this.read(() =>
      this.s.holds.all({ gapMs: pacing.gapMs, dailyCap: pacing.dailyCap }).map((r) => ({
        platform: r.platform,
        account: r.account,
        pause: pauseOf(r),
        gapUntil: r.gap_until > r.now ? r.gap_until : null,
        capUntil: r.cap_until > r.now ? r.cap_until : null,
        hosts: this.s.hosts.all(r.platform, r.account).map((h) => ({ host: h.host, seenAt: h.seen_at })),
      })),
    );
  }
}

interface HoldRow extends PauseColumns {
  platform: string;
  account: string;
  gap_until: number;
  cap_until: number;
}

function scopeParams(scope: ClaimScope) {
  return {
    only: scope.only ? JSON.stringify(scope.only) : null,
    accounts: scope.accounts ? JSON.stringify(scope.accounts) : null,
    gapMs: scope.pacing.gapMs,
    dailyCap: scope.pacing.dailyCap,
  };
}
