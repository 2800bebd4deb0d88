import type pg from "pg";
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
import type { Db, Queryable } from "./db.js";
import { isUniqueViolation } from "./errors.js";

interface TaskRow {
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
  state: Record<string, unknown>;
  url: string | null;
  force_new: boolean;
  mode: PublishMode;
  write_back: boolean;
  error_kind: string | null;
  error_step: string | null;
  error_message: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

const toTask = (r: TaskRow): Task => ({
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
  state: r.state,
  url: r.url,
  forceNew: r.force_new,
  mode: r.mode,
  writeBack: r.write_back,
  errorKind: r.error_kind,
  errorStep: r.error_step,
  errorMessage: r.error_message,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  updatedAt: r.updated_at,
});

interface HoldRow extends PauseColumns {
  platform: string;
  account: string;
  gap_until: number;
  cap_until: number;
}

const DAY_MS = 86_400_000;
const ONE_RUNNING = "tasks_one_running_per_account";
const ONE_ACTIVE = "tasks_one_active_per_identity";
const ANALYZE_BATCH = 50;

// The same definitions as SQLite's (src/store/sqlite/tasks.ts), in PostgreSQL's words: "when could this
// queued task run" (its time, a timed pause, the pacing gap, the slot the 24-hour cap frees; drafts are not
// paced) and "which queued tasks could some claim take". One definition for the claim, the runner's sleep
// and `tasks`/`show`. Needs `t` (tasks) and `a` (accounts, left-joined).
const GAP_UNTIL = `coalesce((SELECT max(p.at) FROM publishes p WHERE p.platform = t.platform AND p.account = t.account)
    + coalesce(a.gap_ms, @gapMs::bigint), 0)`;
const CAP = "coalesce(a.daily_cap, @dailyCap::integer)";
// The cap-th most recent publish: a slot frees 24 h after it. (SQLite counts newer publishes instead,
// because it allows no outer column in OFFSET; the answer is the same.)
const CAP_UNTIL = `CASE WHEN ${CAP} <= 0 THEN 0 ELSE coalesce((SELECT p.at FROM publishes p
    WHERE p.platform = t.platform AND p.account = t.account ORDER BY p.at DESC LIMIT 1 OFFSET ${CAP} - 1) + ${DAY_MS}, 0) END`;
const ELIGIBLE_AT = `greatest(t.run_at, coalesce(a.paused_until, 0),
    CASE WHEN t.mode = 'draft' THEN 0 ELSE ${GAP_UNTIL} END,
    CASE WHEN t.mode = 'draft' THEN 0 ELSE ${CAP_UNTIL} END)`;
const CLAIMABLE_FROM = `tasks t LEFT JOIN accounts a ON a.platform = t.platform AND a.name = t.account
  WHERE t.status = 'queued'
    AND (@only::bigint[] IS NULL OR t.id = ANY(@only::bigint[]))
    AND (@accounts::jsonb IS NULL OR NOT (@accounts::jsonb ? t.platform)
         OR (@accounts::jsonb -> t.platform) ? t.account)
    AND NOT (a.paused_kind IS NOT NULL AND a.paused_until IS NULL)
    AND NOT EXISTS (SELECT 1 FROM tasks r
                    WHERE r.status = 'running' AND r.platform = t.platform AND r.account = t.account)`;

const LEASE = "id = @id AND lease_token = @token AND status = 'running'";
const EVENT =
  "INSERT INTO task_events (task_id, at, status, attempt, message) VALUES (@id, NOW, @status, @attempt, @message)";

/**
 * Tasks in PostgreSQL, shared by runners on many machines. Claims lock one candidate row with
 * `FOR UPDATE SKIP LOCKED` (runners never queue behind each other's candidates) and the partial unique
 * index settles two runners claiming two tasks of one account at once: the loser tries again. Every write
 * after a claim carries the lease token; every time compared is the database's.
 */
export class PgTaskStore implements TaskStore {
  private readonly s;

  constructor(private readonly db: Db) {
    const q = (text: string) => db.sql(text);
    this.s = {
      now: q("SELECT NOW AS now"),
      insert: q(
        `INSERT INTO tasks (platform, account, file, identity, content_hash, digest, title, status, run_at,
           max_attempts, force_new, mode, write_back, draft_id, state, created_at, updated_at)
         VALUES (@platform, @account, @file, @identity, @contentHash, @digest, @title, 'queued',
           coalesce(@runAt::bigint, NOW), @maxAttempts, @forceNew, @mode, @writeBack, @draftId, @state::jsonb,
           NOW, NOW)
         RETURNING *, NOW AS now`,
      ),
      event: q(EVENT),
      activeByIdentity: q(
        `SELECT id, status FROM tasks
         WHERE platform = @platform AND account = @account AND identity = @identity AND status IN ('queued', 'running')`,
      ),
      articleByFile: q(
        `SELECT * FROM articles WHERE platform = @platform AND account = @account AND file = @file
         ORDER BY updated_at DESC LIMIT 1`,
      ),
      articleById: q(
        "SELECT * FROM articles WHERE platform = @platform AND account = @account AND article_id = @articleId",
      ),
      articles: q(
        "SELECT * FROM articles WHERE platform = @platform AND account = @account ORDER BY published_at, article_id",
      ),
      moveArticle: q(
        "UPDATE articles SET file = @file WHERE platform = @platform AND account = @account AND article_id = @articleId",
      ),
      leftoverDraft: q(
        `SELECT draft_id FROM tasks WHERE platform = @platform AND account = @account AND identity = @identity
           AND draft_id IS NOT NULL AND status IN ('failed', 'cancelled') AND NOT force_new ORDER BY id DESC LIMIT 1`,
      ),
      // One statement: pick, lock, lease and log. SKIP LOCKED passes over a candidate another runner is
      // claiming right now; the status test in the UPDATE refuses a row that changed since it was picked.
      claim: q(
        `WITH pick AS (
           SELECT t.id FROM ${CLAIMABLE_FROM} AND t.run_at <= NOW AND ${ELIGIBLE_AT} <= NOW
           ORDER BY t.run_at, t.id LIMIT 1
           FOR UPDATE OF t SKIP LOCKED
         ), claimed AS (
           UPDATE tasks SET status = 'running', lease_owner = @owner, lease_token = @token,
             lease_expires_at = NOW + @leaseMs::bigint, attempts = attempts + 1, started_at = NOW,
             finished_at = NULL, updated_at = NOW
           FROM pick WHERE tasks.id = pick.id AND tasks.status = 'queued'
           RETURNING tasks.*
         ), logged AS (
           INSERT INTO task_events (task_id, at, status, attempt, message)
           SELECT id, NOW, 'running', attempts, 'attempt ' || attempts || ' of ' || max_attempts || ' started'
           FROM claimed
         )
         SELECT * FROM claimed`,
      ),
      claimedBy: q("SELECT * FROM tasks WHERE lease_token = @token AND status = 'running'"),
      nextClaimAt: q(`SELECT min(${ELIGIBLE_AT}) - NOW AS wait FROM ${CLAIMABLE_FROM}`),
      heartbeat: q(`UPDATE tasks SET lease_expires_at = NOW + @leaseMs::bigint WHERE ${LEASE}`),
      checkpoint: q(
        `WITH done AS (
           UPDATE tasks SET checkpoint = @checkpoint, draft_id = coalesce(@draftId, draft_id),
             url = coalesce(@url, url), state = coalesce(@state::jsonb, state), updated_at = NOW
           WHERE ${LEASE} RETURNING id, attempts
         ), logged AS (
           INSERT INTO task_events (task_id, at, status, attempt, message)
           SELECT id, NOW, 'running', attempts, @message FROM done
         )
         SELECT attempts FROM done`,
      ),
      // One statement each (one round trip, one commit): the outcome, what the database remembers of the
      // article, pacing's publish record and the timeline. The sub-statements touch different rows: the
      // upsert writes this article's row, the release only other articles' rows.
      succeed: q(
        `WITH done AS (
           UPDATE tasks SET status = 'succeeded', url = @url, draft_id = @articleId,
             checkpoint = CASE WHEN @state = 'draft' THEN 'saved' ELSE 'published' END,
             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, error_kind = NULL, error_step = NULL,
             error_message = NULL, finished_at = NOW, updated_at = NOW
           WHERE ${LEASE} RETURNING *
         ), remembered AS (
           INSERT INTO articles AS old (platform, account, article_id, url, title, file, digest, content_hash, state,
             task_id, published_at, updated_at)
           SELECT platform, account, @articleId, @url, title, file, @digest, @contentHash, @state, id, NOW, NOW FROM done
           ON CONFLICT (platform, account, article_id) DO UPDATE SET
             url = excluded.url, title = excluded.title, file = excluded.file, task_id = excluded.task_id,
             updated_at = excluded.updated_at,
             -- Saving the draft of a live article changes neither what is live nor what "unchanged" compares with.
             digest = CASE WHEN excluded.state = 'draft' AND old.state = 'published'
                           THEN old.digest ELSE excluded.digest END,
             content_hash = CASE WHEN excluded.state = 'draft' AND old.state = 'published'
                           THEN old.content_hash ELSE excluded.content_hash END,
             published_at = CASE WHEN excluded.state = 'published' THEN excluded.published_at ELSE old.published_at END,
             state = CASE WHEN old.state = 'published' THEN 'published' ELSE excluded.state END
         ), released AS (
           -- The file now stands for this article; an older article of the same file (--new) keeps no file.
           UPDATE articles SET file = NULL FROM done
           WHERE articles.platform = done.platform AND articles.account = done.account AND articles.file = done.file
             AND articles.article_id <> @articleId
         ), published AS (
           INSERT INTO publishes (platform, account, task_id, at)
           SELECT platform, account, id, NOW FROM done WHERE @state = 'published'
         ), cleared AS (
           UPDATE accounts SET strikes = 0 FROM done
           WHERE @state = 'published' AND accounts.platform = done.platform AND accounts.name = done.account
             AND accounts.strikes > 0
         ), logged AS (
           INSERT INTO task_events (task_id, at, status, attempt, message)
           SELECT id, NOW, 'succeeded', attempts,
             CASE WHEN @state = 'draft' THEN 'saved as a draft: ' ELSE 'published: ' END || @url FROM done
         )
         SELECT * FROM done`,
      ),
      requeue: q(
        `WITH back AS (
           UPDATE tasks SET status = 'queued', run_at = coalesce(NOW + @delayMs::bigint, run_at), lease_owner = NULL,
             lease_token = NULL, lease_expires_at = NULL, attempts = attempts - @refund::integer, error_kind = @kind,
             error_step = @step, error_message = @message, updated_at = NOW
           WHERE ${LEASE} RETURNING *
         ), logged AS (
           INSERT INTO task_events (task_id, at, status, attempt, message)
           SELECT id, NOW, 'queued', attempts, @event FROM back
         )
         SELECT * FROM back`,
      ),
      fail: q(
        `WITH failed AS (
           UPDATE tasks SET status = 'failed', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
             error_kind = @kind, error_step = @step, error_message = @message, finished_at = NOW, updated_at = NOW
           WHERE ${LEASE} RETURNING *
         ), logged AS (
           INSERT INTO task_events (task_id, at, status, attempt, message)
           SELECT id, NOW, 'failed', attempts, @event FROM failed
         )
         SELECT * FROM failed`,
      ),
      pause: q(PAUSE_ACCOUNT),
      runningOwners: q(
        "SELECT DISTINCT lease_owner FROM tasks WHERE status = 'running' AND lease_owner IS NOT NULL",
      ),
      recoverable: q(
        `SELECT 1 FROM tasks
         WHERE status = 'running' AND (lease_expires_at < NOW OR lease_owner = ANY(@dead::text[]))
           AND NOT (lease_token = ANY(@keep::text[])) LIMIT 1`,
      ),
      // The expiry is tested inside the write, on the row it locked: a lease renewed since is not taken, and
      // a row another recovering runner holds is left to it. The task keeps its run_at: it was first in line
      // when it was claimed.
      recover: q(
        `WITH gone AS (
           SELECT id, lease_owner,
             'runner ' || lease_owner || ' stopped during attempt ' || attempts
               || ' (lease expired or process gone)' AS why
           FROM tasks
           WHERE status = 'running' AND (lease_expires_at < NOW OR lease_owner = ANY(@dead::text[]))
             AND NOT (lease_token = ANY(@keep::text[]))
           ORDER BY id
           FOR UPDATE SKIP LOCKED
         ), back AS (
           UPDATE tasks SET
             status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
             error_kind = CASE WHEN attempts >= max_attempts THEN 'interrupted' ELSE error_kind END,
             error_step = CASE WHEN attempts >= max_attempts THEN coalesce(checkpoint, 'start') ELSE error_step END,
             error_message = CASE WHEN attempts >= max_attempts THEN gone.why ELSE error_message END,
             finished_at = CASE WHEN attempts >= max_attempts THEN NOW ELSE NULL END, updated_at = NOW
           FROM gone
           WHERE tasks.id = gone.id AND tasks.status = 'running'
             AND (tasks.lease_expires_at < NOW OR tasks.lease_owner = ANY(@dead::text[]))
           RETURNING tasks.*, gone.why
         ), logged AS (
           INSERT INTO task_events (task_id, at, status, attempt, message)
           SELECT id, NOW, status, attempts,
             CASE WHEN status = 'failed' THEN why || '; no attempts left' ELSE 'recovered: ' || why END
           FROM back
         )
         SELECT * FROM back ORDER BY id`,
      ),
      byId: q("SELECT * FROM tasks WHERE id = @id"),
      // Commands that change a task lock its row first: a claim on another machine waits or skips it.
      byIdLocked: q("SELECT * FROM tasks WHERE id = @id FOR UPDATE"),
      events: q("SELECT * FROM task_events WHERE task_id = @id ORDER BY id"),
      list: q(
        `SELECT * FROM tasks
         WHERE (@status::text IS NULL OR status = @status) AND (@account::text IS NULL OR account = @account)
         ORDER BY id DESC LIMIT @limit::bigint`,
      ),
      pending: q(
        `SELECT count(*) FILTER (WHERE run_at <= NOW) AS due, min(run_at) AS next FROM tasks
         WHERE status = 'queued'`,
      ),
      failedIds: q("SELECT id FROM tasks WHERE status = 'failed' ORDER BY id"),
      newer: q(
        `SELECT id, status FROM tasks
         WHERE platform = @platform AND account = @account AND id > @id
           AND status IN ('succeeded', 'queued', 'running')
           AND (identity = @identity OR (@draftId::text IS NOT NULL AND draft_id = @draftId))
         ORDER BY id DESC LIMIT 1`,
      ),
      reset: q(
        `UPDATE tasks SET status = 'queued', run_at = NOW, attempts = 0, error_kind = NULL, error_step = NULL,
           error_message = NULL, finished_at = NULL, updated_at = NOW
         WHERE id = @id AND status IN ('failed', 'cancelled') RETURNING *`,
      ),
      cancel: q(
        `UPDATE tasks SET status = 'cancelled', finished_at = NOW, updated_at = NOW
         WHERE id = @id AND status IN ('queued', 'failed') RETURNING *`,
      ),
      reschedule: q(
        "UPDATE tasks SET run_at = @runAt, updated_at = NOW WHERE id = @id AND status = 'queued' RETURNING *",
      ),
      prune: q(
        `DELETE FROM tasks WHERE status IN ('succeeded', 'failed', 'cancelled')
           AND coalesce(finished_at, updated_at) < NOW - @olderThanMs::bigint
         RETURNING id`,
      ),
      holds: q(
        `SELECT t.platform, t.account, a.paused_kind, a.paused_reason, a.paused_fix, a.paused_at, a.paused_until,
           max(${GAP_UNTIL}) AS gap_until, max(${CAP_UNTIL}) AS cap_until, NOW AS now
         FROM tasks t LEFT JOIN accounts a ON a.platform = t.platform AND a.name = t.account
         WHERE t.status = 'queued'
         GROUP BY t.platform, t.account, a.paused_kind, a.paused_reason, a.paused_fix, a.paused_at, a.paused_until
         ORDER BY t.platform, t.account`,
      ),
      hosts: q(
        "SELECT host, seen_at FROM hosts WHERE platform = @platform AND account = @account ORDER BY seen_at DESC",
      ),
    };
  }

  private event(c: Queryable, id: number, status: TaskStatus, attempt: number, message: string) {
    return this.db.run(c, this.s.event, { id, status, attempt, message });
  }

  private one<R extends pg.QueryResultRow>(rows: R[]): R | undefined {
    return rows[0];
  }

  async now(): Promise<number> {
    return this.db.read(async (c) => this.one(await this.db.run<{ now: number }>(c, this.s.now))!.now);
  }

  async enqueue(tasks: readonly NewTask[], opts: { atomic?: boolean } = {}): Promise<EnqueueOutcome[]> {
    const atomic = opts.atomic ?? true;
    // Another machine enqueueing the same article at the same moment fills the identity index first; the
    // next try sees its task and reports it as active, as SQLite's serialized writes would have.
    return this.db.tx(
      async (c) => {
        const outcomes: EnqueueOutcome[] = [];
        for (const t of tasks) outcomes.push(await this.enqueueOne(c, t));
        const conflicts = outcomes.flatMap((o, index) =>
          o.kind === "active" ? [{ index, id: o.id, status: o.status }] : [],
        );
        if (atomic && conflicts.length > 0) throw new EnqueueConflict(conflicts);
        // Planner statistics of a table that just grew by a batch still describe it as it was (autovacuum
        // catches up within a minute or so); meanwhile each claim sorted every queued task instead of
        // walking the due index (80 ms instead of 0.5 ms per claim at 2,000 tasks). Analyzed in this
        // transaction (it counts our own rows), skipped if another analyze holds the table.
        if (tasks.length >= ANALYZE_BATCH) await c.query("ANALYZE (SKIP_LOCKED) tasks");
        return outcomes;
      },
      (e) => isUniqueViolation(e, ONE_ACTIVE),
    );
  }

  private async enqueueOne(c: pg.PoolClient, t: NewTask): Promise<EnqueueOutcome> {
    const base = { platform: t.platform, account: t.account };
    let article: ArticleRow | undefined;
    if (t.articleId)
      article = this.one(
        await this.db.run<ArticleRow>(c, this.s.articleById, { ...base, articleId: t.articleId }),
      );
    else if (!t.forceNew) {
      for (const file of [t.file, ...(t.aliases ?? [])]) {
        article = this.one(await this.db.run<ArticleRow>(c, this.s.articleByFile, { ...base, file }));
        if (article) break;
      }
    }
    const articleId = t.articleId ?? article?.article_id ?? null;
    const identity = articleId ? articleKey(articleId) : pathKey(t.file);
    const active = this.one(
      await this.db.run<{ id: number; status: TaskStatus }>(c, this.s.activeByIdentity, {
        ...base,
        identity,
      }),
    );
    if (active) return { kind: "active", id: active.id, status: active.status };
    const mode = t.mode ?? "publish";
    if (
      article &&
      !t.force &&
      article.digest === t.digest &&
      (article.state === "published" || mode === "draft")
    ) {
      // A moved file with the same content: the article now belongs to its new path.
      if (article.file !== t.file) {
        await this.db.run(c, this.s.moveArticle, { ...base, file: t.file, articleId: article.article_id });
      }
      return { kind: "unchanged", articleId: article.article_id, url: article.url };
    }
    let draftId = articleId;
    if (draftId === null && !t.forceNew) {
      const leftover = this.one(
        await this.db.run<{ draft_id: string }>(c, this.s.leftoverDraft, { ...base, identity }),
      );
      draftId = leftover?.draft_id ?? null;
    }
    const state = {
      ...(t.state ?? {}),
      ...(article?.state === "published" ? { updates: article.article_id } : {}),
    };
    const row = this.one(
      await this.db.run<TaskRow & { now: number }>(c, this.s.insert, {
        ...base,
        file: t.file,
        identity,
        contentHash: t.contentHash,
        digest: t.digest,
        title: t.title,
        runAt: t.runAt,
        maxAttempts: t.maxAttempts,
        forceNew: t.forceNew ?? false,
        mode,
        writeBack: t.writeBack !== false,
        draftId,
        state: JSON.stringify(state),
      }),
    )!;
    const when = row.run_at > row.now ? `scheduled for ${new Date(row.run_at).toISOString()}` : "queued";
    const what = article
      ? `updates ${article.url ?? article.article_id}`
      : articleId
        ? `updates article ${articleId}`
        : "new article";
    await this.event(c, row.id, "queued", 0, `${when} (account ${t.account}; ${what})`);
    return { kind: "queued", task: toTask(row) };
  }

  async claim(req: ClaimRequest): Promise<Task | undefined> {
    const params = { ...scopeParams(req), owner: req.owner, token: req.token, leaseMs: req.leaseMs };
    // Losing the one-running-per-account index to another machine's claim is an ordinary outcome: the next
    // try no longer sees that account as free and takes another account's task, or none.
    return this.db.read(
      async (c, attempt) => {
        // A retry after a lost answer: the token is this claim's own, so finding it means it committed.
        if (attempt > 0) {
          const mine = this.one(await this.db.run<TaskRow>(c, this.s.claimedBy, { token: req.token }));
          if (mine) return toTask(mine);
        }
        const row = this.one(await this.db.run<TaskRow>(c, this.s.claim, params));
        return row ? toTask(row) : undefined;
      },
      (e) => isUniqueViolation(e, ONE_RUNNING),
    );
  }

  async nextClaimIn(scope: ClaimScope): Promise<number | null> {
    return this.db.read(async (c) => {
      const wait = this.one(
        await this.db.run<{ wait: number | null }>(c, this.s.nextClaimAt, scopeParams(scope)),
      )!.wait;
      return wait === null ? null : Math.max(0, wait);
    });
  }

  async heartbeat(lease: Lease, leaseMs: number): Promise<boolean> {
    return this.db.read(async (c) => (await this.db.count(c, this.s.heartbeat, { ...lease, leaseMs })) === 1);
  }

  async checkpoint(lease: Lease, patch: CheckpointPatch): Promise<number | undefined> {
    return this.db.read(async (c) => {
      const row = this.one(
        await this.db.run<{ attempts: number }>(c, this.s.checkpoint, {
          ...lease,
          checkpoint: patch.checkpoint,
          draftId: patch.draftId ?? null,
          url: patch.url ?? null,
          state: patch.state ? JSON.stringify(patch.state) : null,
          message: patch.message ?? patch.checkpoint,
        }),
      );
      return row?.attempts;
    });
  }

  async succeed(lease: Lease, outcome: Outcome): Promise<Task | undefined> {
    return this.db.read(async (c) => {
      const row = this.one(
        await this.db.run<TaskRow>(c, this.s.succeed, {
          ...lease,
          url: outcome.url,
          articleId: outcome.articleId,
          state: outcome.state,
          digest: outcome.digest,
          contentHash: outcome.contentHash,
        }),
      );
      return row ? toTask(row) : undefined;
    });
  }

  async requeue(
    lease: Lease,
    delayMs: number,
    message: string,
    failure?: Failure,
    opts: { refund?: boolean } = {},
  ): Promise<Task | undefined> {
    return this.db.read((c) => this.requeueOn(c, lease, delayMs, message, failure, opts.refund ?? false));
  }

  /** `delayMs` null: the task keeps its place in the queue (its old run_at). */
  private async requeueOn(
    c: Queryable,
    lease: Lease,
    delayMs: number | null,
    message: string,
    failure: Failure | undefined,
    refund: boolean,
  ): Promise<Task | undefined> {
    const row = this.one(
      await this.db.run<TaskRow>(c, this.s.requeue, {
        ...lease,
        delayMs: delayMs === null ? null : Math.max(0, Math.round(delayMs)),
        refund: refund ? 1 : 0,
        kind: failure?.kind ?? null,
        step: failure?.step ?? null,
        message: failure?.message ?? null,
        event: message,
      }),
    );
    return row ? toTask(row) : undefined;
  }

  async fail(lease: Lease, failure: Failure, message: string): Promise<Task | undefined> {
    return this.db.read(async (c) => {
      const row = this.one(
        await this.db.run<TaskRow>(c, this.s.fail, { ...lease, ...failure, event: message }),
      );
      return row ? toTask(row) : undefined;
    });
  }

  async hold(lease: Lease, pause: AccountPause, failure: Failure): Promise<Task | undefined> {
    return this.db.tx(async (c) => {
      const task = await this.requeueOn(
        c,
        lease,
        null,
        `held: account paused — ${pause.reason}; fix: ${pause.fix}`,
        failure,
        true,
      );
      if (!task) return undefined;
      await this.db.run(c, this.s.pause, pauseParams(task.platform, task.account, pause));
      return task;
    });
  }

  async runningOwners(): Promise<string[]> {
    return this.db.read(async (c) =>
      (await this.db.run<{ lease_owner: string }>(c, this.s.runningOwners)).map((r) => r.lease_owner),
    );
  }

  async recover(opts: { deadOwners: readonly string[]; keep: readonly string[] }): Promise<Task[]> {
    const params = { dead: [...opts.deadOwners], keep: [...opts.keep] };
    // A read first: most calls find nothing, and then nothing is locked or written.
    const any = await this.db.read((c) => this.db.run(c, this.s.recoverable, params));
    if (any.length === 0) return [];
    return this.db.read(async (c) => (await this.db.run<TaskRow>(c, this.s.recover, params)).map(toTask));
  }

  async get(id: number): Promise<Task | undefined> {
    return this.db.read(async (c) => {
      const row = this.one(await this.db.run<TaskRow>(c, this.s.byId, { id }));
      return row ? toTask(row) : undefined;
    });
  }

  async events(id: number): Promise<TaskEvent[]> {
    return this.db.read(async (c) =>
      (await this.db.run<TaskEventRow>(c, this.s.events, { id })).map(toEvent),
    );
  }

  async list(filter: ListFilter = {}): Promise<Task[]> {
    return this.db.read(async (c) =>
      (
        await this.db.run<TaskRow>(c, this.s.list, {
          status: filter.status ?? null,
          account: filter.account ?? null,
          limit: filter.limit ?? null,
        })
      ).map(toTask),
    );
  }

  async pending(): Promise<{ due: number; next: number | null }> {
    return this.db.read(
      async (c) => this.one(await this.db.run<{ due: number; next: number | null }>(c, this.s.pending))!,
    );
  }

  async retry(ids: readonly number[], opts: { skipSuperseded?: boolean } = {}): Promise<RetryResult> {
    // A task of the same article enqueued elsewhere in the meantime fills the identity index: the next try
    // sees it as the newer task and refuses (or skips) this one, as SQLite would have.
    return this.db.tx(
      async (c) => {
        const choice = new RetryChoice<TaskRow>(Boolean(opts.skipSuperseded));
        for (const id of ids) {
          const t = this.one(await this.db.run<TaskRow>(c, this.s.byIdLocked, { id }));
          RetryChoice.check(id, t);
          const newer = await this.db.run<{ id: number; status: TaskStatus }>(c, this.s.newer, {
            platform: t.platform,
            account: t.account,
            id: t.id,
            identity: t.identity,
            draftId: t.draft_id,
          });
          choice.consider(t, this.one(newer));
        }
        const retried: Task[] = [];
        for (const t of choice.chosen()) {
          const row = this.one(await this.db.run<TaskRow>(c, this.s.reset, { id: t.id }))!;
          await this.event(c, t.id, "queued", 0, "retry requested");
          retried.push(toTask(row));
        }
        return { retried, skipped: choice.skipped };
      },
      (e) => isUniqueViolation(e, ONE_ACTIVE),
    );
  }

  async failedIds(): Promise<number[]> {
    return this.db.read(async (c) =>
      (await this.db.run<{ id: number }>(c, this.s.failedIds)).map((r) => r.id),
    );
  }

  async cancel(ids: readonly number[]): Promise<{ task: Task; was: TaskStatus }[]> {
    return this.db.tx(async (c) => {
      const was = new Map<number, TaskStatus>();
      for (const id of ids) {
        const t = this.one(await this.db.run<TaskRow>(c, this.s.byIdLocked, { id }));
        if (!t) throw new TransitionRefused(id, "missing", `task ${id} does not exist`);
        if (t.status !== "queued" && t.status !== "failed") {
          throw new TransitionRefused(id, t.status, `task ${id} is ${t.status}`);
        }
        was.set(id, t.status);
      }
      const out: { task: Task; was: TaskStatus }[] = [];
      for (const id of ids) {
        const row = this.one(await this.db.run<TaskRow>(c, this.s.cancel, { id }));
        // The same id twice in one request: the first one cancelled it.
        if (!row) continue;
        const before = was.get(id)!;
        await this.event(c, id, "cancelled", row.attempts, before === "failed" ? "dismissed" : "cancelled");
        out.push({ task: toTask(row), was: before });
      }
      return out;
    });
  }

  async reschedule(id: number, runAt: number): Promise<Task> {
    return this.db.tx(async (c) => {
      const t = this.one(await this.db.run<TaskRow>(c, this.s.byIdLocked, { id }));
      if (!t) throw new TransitionRefused(id, "missing", `task ${id} does not exist`);
      if (t.status !== "queued") throw new TransitionRefused(id, t.status, `task ${id} is ${t.status}`);
      const row = this.one(await this.db.run<TaskRow>(c, this.s.reschedule, { id, runAt }))!;
      await this.event(c, id, "queued", row.attempts, `rescheduled for ${new Date(runAt).toISOString()}`);
      return toTask(row);
    });
  }

  async prune(olderThanMs: number): Promise<number[]> {
    return this.db.read(async (c) =>
      (await this.db.run<{ id: number }>(c, this.s.prune, { olderThanMs }))
        .map((r) => r.id)
        .sort((a, b) => a - b),
    );
  }

  async articleForFile(platform: string, account: string, files: readonly string[]) {
    return this.db.read(async (c) => {
      for (const file of files) {
        const row = this.one(
          await this.db.run<ArticleRow>(c, this.s.articleByFile, { platform, account, file }),
        );
        if (row) return toArticle(row);
      }
      return undefined;
    });
  }

  async article(platform: string, account: string, articleId: string) {
    return this.db.read(async (c) => {
      const row = this.one(
        await this.db.run<ArticleRow>(c, this.s.articleById, { platform, account, articleId }),
      );
      return row ? toArticle(row) : undefined;
    });
  }

  async articles(platform: string, account: string): Promise<ArticleRecord[]> {
    return this.db.read(async (c) =>
      (await this.db.run<ArticleRow>(c, this.s.articles, { platform, account })).map(toArticle),
    );
  }

  async holds(pacing: PacingDefaults): Promise<AccountHold[]> {
    return this.db.read(async (c) => {
      const rows = await this.db.run<HoldRow>(c, this.s.holds, {
        gapMs: pacing.gapMs,
        dailyCap: pacing.dailyCap,
      });
      const out: AccountHold[] = [];
      for (const r of rows) {
        const hosts = await this.db.run<{ host: string; seen_at: number }>(c, this.s.hosts, {
          platform: r.platform,
          account: r.account,
        });
        out.push({
          platform: r.platform,
          account: r.account,
          pause: pauseOf(r),
          gapUntil: r.gap_until > r.now ? r.gap_until : null,
          capUntil: r.cap_until > r.now ? r.cap_until : null,
          hosts: hosts.map((h) => ({ host: h.host, seenAt: h.seen_at })),
        });
      }
      return out;
    });
  }
}

function scopeParams(scope: ClaimScope) {
  return {
    only: scope.only ? [...scope.only] : null,
    accounts: scope.accounts ? JSON.stringify(scope.accounts) : null,
    gapMs: scope.pacing.gapMs,
    dailyCap: scope.pacing.dailyCap,
  };
}
