import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import PQueue from "p-queue";
import { firstLine, TaskFailure } from "../errors.js";
import { isOwnerDead, machineName, newOwnerId } from "../owner.js";
import type { JobContext, Platform, PublishResult, TaskSnapshot } from "../platform.js";
import { artifactsDir } from "../store/home.js";
import type { AccountStore, ClaimScope, Lease, PacingDefaults, Task, TaskStore } from "../store/types.js";
import { DEFAULT_LEASE_MS, DEFAULT_OUTCOME_RETRY_MS, DEFAULT_POLL_MS } from "./config.js";
import { SessionWatch, type SessionWatchOptions } from "./health.js";
import { asTaskFailure, DEFAULT_RETRY, decide, type RetryPolicy } from "./policy.js";

export type RunnerEvent =
  | { type: "claimed"; task: Task }
  | { type: "progress"; task: Task; message: string }
  | { type: "succeeded"; task: Task }
  | { type: "retrying"; task: Task; failure: TaskFailure; runAt: number }
  | { type: "failed"; task: Task; failure: TaskFailure }
  | { type: "held"; task: Task; failure: TaskFailure; fix: string }
  | { type: "abandoned"; task: Task; reason: string }
  | { type: "handed-back"; task: Task }
  | { type: "recovered"; task: Task }
  /** The database refused a write the runner keeps trying (busy, disk full): said once per task and kind. */
  | { type: "store-trouble"; task?: Task; what: string; error: string }
  /** A foreground run waits for its next task's time (pacing, rate limit, retry back-off). */
  | { type: "waiting"; until: number };

export interface RunnerOptions {
  tasks: TaskStore;
  /** Where the runner says which accounts this machine can publish for (several machines, one queue). */
  accounts?: AccountStore;
  /** This machine's name there (default: the host name). */
  machine?: string;
  home: string;
  /** Platform instances by name, created on first use and closed when the runner stops. */
  platform: (name: string) => Promise<Platform>;
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  retry?: RetryPolicy;
  pacing?: PacingDefaults;
  /** How long to keep trying to record an outcome before giving up on it (and exiting non-zero). */
  outcomeRetryMs?: number;
  /**
   * After a success is recorded (write-back into the file). Its message is shown as progress; its error is
   * shown as a warning and never changes the recorded outcome.
   */
  afterSuccess?: (task: Task, result: PublishResult) => Promise<string | null>;
  onEvent?: (e: RunnerEvent) => void;
  /** Watch mode (neither `once` nor `only`): re-check each account's session about once a day. */
  sessions?: SessionWatchOptions;
}

export interface RunOptions {
  /** Stop when nothing is claimable now and nothing of ours is running, instead of watching for more. */
  once?: boolean;
  /**
   * Run only these tasks, and keep going until each is finished (waiting out retry back-off and pacing);
   * stop early when what is left can never run without a person (its account is paused, or no session).
   * With `once` too, stop as soon as none of them can run now (`sync`: pacing trickles, cron comes back).
   */
  only?: readonly number[];
}

export interface RunSummary {
  succeeded: number[];
  failed: number[];
  /** Transient failures waiting for their retry time. */
  retrying: number[];
  /** Tasks whose account was paused (session gone, verification, rate limit): they wait, not failed. */
  held: number[];
  handedBack: number[];
  /** Outcomes the database would not take: the next run settles them by reading the article back. */
  unrecorded: { id: number; what: string; error: string }[];
  interrupted: boolean;
}

/** An outcome the database would not take within the retry budget. */
export class UnrecordedOutcome extends Error {
  constructor(
    readonly taskId: number,
    readonly what: string,
    readonly error: string,
  ) {
    super(`task ${taskId}: could not record ${what}: ${error}`);
  }
}

interface Job {
  task: Task;
  lease: Lease;
  abort: AbortController;
  done: Promise<void>;
  handedBack: boolean;
  /** When the lease was last known renewed (both clocks: see sinceRenewal). */
  renewedAt: { mono: number; wall: number };
}

const NO_PACING: PacingDefaults = { gapMs: 0, dailyCap: 0 };
/** Which accounts this machine can publish for is read again this often (sessions come and go). */
const SCOPE_REFRESH_MS = 5_000;
/** A foreground wait shorter than this is not announced. */
const WAIT_WORTH_SAYING_MS = 3_000;
/** How often this machine tells the database which accounts it can serve. */
const HOST_REFRESH_MS = 10 * 60_000;

/**
 * Claims due tasks and runs them: one job per account at a time (the database's partial unique index makes
 * that true across processes and machines; the per-account p-queue makes it true inside this one), at most
 * `concurrency` jobs in all. A job holds no statement or transaction while the platform works: it reads its
 * row at the claim, and each checkpoint and the outcome are separate short writes carrying its lease token.
 * The runner sleeps until something can happen: a task becomes claimable, a job of its own ends, a signal.
 */
export class Runner {
  readonly owner: string;
  private readonly tasks: TaskStore;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly retry: RetryPolicy;
  private readonly pacing: PacingDefaults;
  private readonly outcomeRetryMs: number;
  private readonly global: PQueue;
  private readonly perAccount = new Map<string, PQueue>();
  private readonly jobs = new Map<number, Job>();
  private readonly platforms = new Map<string, Promise<Platform>>();
  private stopping = false;
  private fatal: unknown = null;
  private wake: (() => void) | undefined;
  private scope: Record<string, string[]> = {};
  private scopeAt = Number.NEGATIVE_INFINITY;
  /** Accounts of platforms that know sessions, once seen: asked about at every look, queued or not. */
  private readonly seen = new Map<string, Set<string>>();
  private waitingUntil: number | null = null;
  private hostsAt = Number.NEGATIVE_INFINITY;
  private summary: RunSummary = emptySummary();
  /** Hand-back writes under way (see run()). */
  private readonly handingBack = new Set<Promise<unknown>>();
  /** Counts for benchmarks: claim attempts (write transactions) and their successes. */
  readonly stats = { claimAttempts: 0, claims: 0, wakeUps: 0 };

  constructor(private readonly opts: RunnerOptions) {
    this.tasks = opts.tasks;
    this.owner = newOwnerId();
    this.concurrency = Math.max(1, opts.concurrency ?? 2);
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.pacing = opts.pacing ?? NO_PACING;
    this.outcomeRetryMs = opts.outcomeRetryMs ?? DEFAULT_OUTCOME_RETRY_MS;
    this.global = new PQueue({ concurrency: this.concurrency });
  }

  async run(mode: RunOptions = {}): Promise<RunSummary> {
    this.summary = emptySummary();
    const recoverEvery = Math.max(250, Math.floor(this.leaseMs / 2));
    let lastRecovery = Number.NEGATIVE_INFINITY;
    let troubleSince: number | null = null;
    let backoff = 250;
    const watch =
      this.opts.sessions && !mode.once && !mode.only
        ? new SessionWatch(this.opts.sessions, {
            exclusive: (platform, account, fn) => this.exclusive(platform, account, fn),
            now: () => this.tasks.now(),
          })
        : null;
    try {
      while (!this.stopping) {
        this.stats.wakeUps++;
        watch?.poke();
        let waitMs: number | null;
        try {
          if (performance.now() - lastRecovery >= recoverEvery) {
            await this.recover();
            lastRecovery = performance.now();
          }
          await this.refreshScope();
          const filled = await this.fill(mode.only);
          waitMs = filled.waitMs;
          if (this.stopping) break;
          if (this.jobs.size === 0 && filled.claimed === 0 && (await this.finished(mode, waitMs))) break;
          this.sayWaiting(mode, waitMs);
          troubleSince = null;
          backoff = 250;
        } catch (e) {
          // The database is busy, locked by a frozen process, full or unreachable: say so once, keep the running
          // jobs going, and try again with a growing pause; past the outcome budget, give up loudly.
          if (!isSystemError(e)) throw e;
          const now = performance.now();
          if (troubleSince === null) {
            troubleSince = now;
            this.emit({ type: "store-trouble", what: "the queue", error: firstLine(e) });
          } else if (now - troubleSince > this.outcomeRetryMs) throw e;
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, 30_000);
          continue;
        }
        await this.sleep(this.sleepMs(waitMs, recoverEvery - (performance.now() - lastRecovery)));
      }
      await watch?.stop();
      await this.drain();
      // An aborted job ends before its hand-back write does; returning now would let the caller close the
      // store under that write (an async engine's write is still in flight).
      await Promise.all(this.handingBack);
    } catch (e) {
      this.fatal ??= e;
    } finally {
      if (this.fatal !== null) await this.handBackAll().catch(() => {});
      await watch?.stop();
      await this.closePlatforms();
    }
    if (this.fatal !== null) throw this.fatal;
    // A retry that another runner finished for us is no longer pending.
    const pending: number[] = [];
    for (const id of new Set(this.summary.retrying))
      if ((await this.tasks.get(id))?.status === "queued") pending.push(id);
    this.summary.retrying = pending;
    return this.summary;
  }

  /** Stop claiming; running jobs get `graceMs` to finish, then are aborted and handed back to the queue. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.summary.interrupted = true;
    this.wake?.();
    if (this.jobs.size === 0) return;
    const all = Promise.all([...this.jobs.values()].map((j) => j.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) await this.handBackAll();
  }

  /** Abort every running job now and put its task back in the queue with its attempt refunded. */
  async handBackAll(): Promise<void> {
    for (const job of this.jobs.values()) {
      if (job.handedBack) continue;
      job.handedBack = true;
      job.abort.abort(new TaskFailure("lease_lost", "shutdown", "topn is stopping"));
      const write = this.tasks
        .requeue(
          job.lease,
          0,
          `handed back: topn was stopped before attempt ${job.task.attempts} finished`,
          undefined,
          {
            refund: true,
          },
        )
        .catch((e: unknown) => {
          // The lease stays ours and expires; the next runner recovers the task (our pid is gone by then).
          this.emit({ type: "store-trouble", task: job.task, what: "the hand-back", error: firstLine(e) });
          return undefined;
        });
      this.handingBack.add(write);
      const t = await write.finally(() => this.handingBack.delete(write));
      if (t) {
        this.summary.handedBack.push(t.id);
        this.emit({ type: "handed-back", task: t });
      }
    }
  }

  private async finished(mode: RunOptions, waitMs: number | null): Promise<boolean> {
    if (this.summary.unrecorded.length > 0) return true;
    if (mode.only && !mode.once) {
      // Foreground publish: done when every task is final (even if another runner ran it), or when what is
      // left cannot run without a person (its account paused until someone acts, or no session on this
      // machine): it stays queued, held. A task waiting for its account elsewhere, or for its time, is waited for.
      const open: Task[] = [];
      for (const id of mode.only) {
        const t = await this.tasks.get(id);
        if (t?.status === "running") return false;
        if (t?.status === "queued") open.push(t);
      }
      if (open.length === 0 || waitMs !== null) return open.length === 0;
      const holds = await this.tasks.holds(this.pacing);
      return open.every((t) => {
        const hold = holds.find((h) => h.platform === t.platform && h.account === t.account);
        const servable = this.scope[t.platform];
        return (
          (hold?.pause && hold.pause.until === null) ||
          (servable !== undefined && !servable.includes(t.account))
        );
      });
    }
    return Boolean(mode.once) && (waitMs === null || waitMs > 0);
  }

  /**
   * A foreground run with nothing to do for a while (pacing, a rate limit, a retry back-off) says until when,
   * once per wait, so a person watching knows it is not stuck.
   */
  private sayWaiting(mode: RunOptions, waitMs: number | null): void {
    if (!mode.only || this.jobs.size > 0 || waitMs === null || waitMs < WAIT_WORTH_SAYING_MS) {
      this.waitingUntil = null;
      return;
    }
    const until = Date.now() + waitMs;
    if (this.waitingUntil !== null && Math.abs(until - this.waitingUntil) < WAIT_WORTH_SAYING_MS) return;
    this.waitingUntil = until;
    this.emit({ type: "waiting", until });
  }

  /** How long to sleep: until the next claimable task, a recovery round, or a poll for other processes' work. */
  private sleepMs(waitMs: number | null, recoveryInMs: number): number {
    const full = this.jobs.size >= this.concurrency;
    // Claimable now but no room: a job of ours ending wakes us.
    const untilClaimable =
      full || waitMs === null ? this.pollMs : waitMs === 0 ? Math.min(this.pollMs, 25) : waitMs;
    return Math.max(1, Math.min(untilClaimable, this.pollMs, Math.max(recoveryInMs, 1)));
  }

  private async recover(): Promise<void> {
    const owners = await this.tasks.runningOwners();
    const dead = owners.filter((o) => o !== this.owner && isOwnerDead(o));
    // Leases of our own live jobs are never taken back, however late their heartbeat (a paused process).
    const keep = [...this.jobs.values()].map((j) => j.lease.token);
    for (const task of await this.tasks.recover({ deadOwners: dead, keep }))
      this.emit({ type: "recovered", task });
  }

  /** Which accounts this machine can publish for, per platform that knows sessions. */
  private async refreshScope(): Promise<void> {
    const now = performance.now();
    if (now - this.scopeAt < SCOPE_REFRESH_MS) return;
    this.scopeAt = now;
    const holds = await this.tasks.holds(this.pacing);
    const known = this.opts.accounts ? await this.opts.accounts.list() : [];
    // A platform left out of the scope is not restricted at all, so one seen before stays in it even when
    // nothing of it is queued now: its accounts seen before are asked about again, queued or not.
    const byPlatform = new Map<string, Set<string>>();
    for (const { platform, account } of [
      ...[...this.seen].flatMap(([platform, accounts]) =>
        [...accounts].map((account) => ({ platform, account })),
      ),
      ...holds,
      ...known.map((a) => ({ platform: a.platform, account: a.name })),
    ]) {
      const set = byPlatform.get(platform) ?? new Set<string>();
      byPlatform.set(platform, set.add(account));
    }
    const scope: Record<string, string[]> = {};
    for (const [name, accounts] of byPlatform) {
      const platform = await this.platformFor(name).catch(() => undefined);
      if (!platform?.hasSession) continue;
      this.seen.set(name, accounts);
      const can: string[] = [];
      for (const account of accounts) if (await platform.hasSession(account)) can.push(account);
      scope[name] = can;
    }
    this.scope = scope;
    if (this.opts.accounts && now - this.hostsAt >= HOST_REFRESH_MS) {
      this.hostsAt = now;
      for (const [platform, accounts] of Object.entries(scope))
        await this.opts.accounts.registerHost(this.opts.machine ?? machineName(), platform, accounts);
    }
  }

  /**
   * Whether this machine holds the session of a task it just claimed. The claim already said so for a
   * platform in the scope; one that is not (a task queued since the last look, of a platform this runner
   * had not seen) is asked here, before any work.
   */
  private async canServe(task: Task): Promise<boolean> {
    if (this.scope[task.platform] !== undefined) return true;
    const platform = await this.platformFor(task.platform).catch(() => undefined);
    return !platform?.hasSession || (await platform.hasSession(task.account));
  }

  /** Back to the queue, attempt refunded, for a machine that holds the session; and look again at once. */
  private async handBackUnserved(task: Task, token: string): Promise<void> {
    await this.tasks.requeue(
      { id: task.id, token },
      0,
      `handed back: ${this.opts.machine ?? machineName()} has no session for ${task.platform} account ${task.account}`,
      undefined,
      { refund: true },
    );
    this.scopeAt = Number.NEGATIVE_INFINITY;
    await this.refreshScope();
  }

  private claimScope(only: readonly number[] | undefined): ClaimScope {
    return { ...(only ? { only } : {}), accounts: this.scope, pacing: this.pacing };
  }

  /**
   * Claim while there is room and the database says a task is claimable now. The read comes first, so a
   * runner waiting on a busy account takes no write lock at all.
   */
  private async fill(
    only: readonly number[] | undefined,
  ): Promise<{ claimed: number; waitMs: number | null }> {
    const scope = this.claimScope(only);
    let claimed = 0;
    for (;;) {
      const waitMs = await this.tasks.nextClaimIn(scope);
      if (this.stopping || this.jobs.size >= this.concurrency || waitMs !== 0) return { claimed, waitMs };
      const token = randomUUID();
      this.stats.claimAttempts++;
      const task = await this.tasks.claim({ ...scope, owner: this.owner, token, leaseMs: this.leaseMs });
      if (!task) return { claimed, waitMs: 0 };
      if (!(await this.canServe(task))) {
        await this.handBackUnserved(task, token);
        return { claimed, waitMs: 0 };
      }
      this.stats.claims++;
      claimed++;
      this.start(task, token);
    }
  }

  private accountQueue(key: string): PQueue {
    let queue = this.perAccount.get(key);
    if (!queue) {
      queue = new PQueue({ concurrency: 1 });
      this.perAccount.set(key, queue);
    }
    return queue;
  }

  /**
   * Runs `fn` with the account's platform while no job of that account runs here (a session check must not
   * share the account's page with a publish); a job claimed meanwhile waits behind it. Null when stopping.
   */
  private async exclusive<T>(
    platform: string,
    account: string,
    fn: (p: Platform) => Promise<T>,
  ): Promise<T | null> {
    if (this.stopping) return null;
    const key = `${platform}\u0000${account}`;
    const q = this.accountQueue(key);
    try {
      return await q.add(async () => (this.stopping ? null : fn(await this.platformFor(platform))));
    } finally {
      if (q.size === 0 && q.pending === 0 && this.perAccount.get(key) === q) this.perAccount.delete(key);
    }
  }

  private start(task: Task, token: string): void {
    const key = `${task.platform}\u0000${task.account}`;
    const queue = this.accountQueue(key);
    const job: Job = {
      task,
      lease: { id: task.id, token },
      abort: new AbortController(),
      done: Promise.resolve(),
      handedBack: false,
      renewedAt: { mono: performance.now(), wall: Date.now() },
    };
    this.jobs.set(task.id, job);
    this.emit({ type: "claimed", task });
    const q = queue;
    job.done = q
      .add(() => this.global.add(() => this.execute(job)))
      .catch((e: unknown) => this.crash(e))
      .finally(() => {
        this.jobs.delete(task.id);
        if (q.size === 0 && q.pending === 0) this.perAccount.delete(key);
        this.wake?.();
      });
  }

  /** A bug in the runner itself: stop claiming, hand running tasks back, and let run() throw it. */
  private crash(e: unknown): void {
    this.fatal ??= e;
    this.stopping = true;
    this.wake?.();
  }

  /** Renew the lease; false when it is gone. Throws only when the database cannot be reached. */
  private async renew(job: Job): Promise<boolean> {
    const at = { mono: performance.now(), wall: Date.now() };
    const ok = await this.tasks.heartbeat(job.lease, this.leaseMs);
    if (ok) job.renewedAt = at;
    else
      job.abort.abort(new TaskFailure("lease_lost", "lease", "the lease was taken over by another runner"));
    return ok;
  }

  private async execute(job: Job): Promise<void> {
    const { task } = job;
    const renewEvery = Math.max(50, Math.floor(this.leaseMs / 3));
    let beating = false;
    // The heartbeat starts at the claim. A failed beat is tried again on the next tick; ensureLease() stops
    // the job before its next request if the lease could not be renewed in time.
    const heartbeat = setInterval(() => {
      if (beating || job.handedBack || job.abort.signal.aborted) return;
      beating = true;
      this.renew(job)
        .catch((e: unknown) =>
          this.emit({ type: "store-trouble", task, what: "the lease renewal", error: firstLine(e) }),
        )
        .finally(() => {
          beating = false;
        });
    }, renewEvery);
    const stopped = (step: string) => asTaskFailure(job.abort.signal.reason, step);
    const ctx: JobContext = {
      signal: job.abort.signal,
      artifactsDir: artifactsDir(this.opts.home, task.id),
      log: (message) => this.emit({ type: "progress", task, message }),
      ensureLease: async () => {
        if (job.abort.signal.aborted) throw stopped("lease");
        // After a pause (Ctrl-Z, a frozen VM, a long GC) the timer has not fired yet: renew before the request.
        if (sinceRenewal(job) < renewEvery) return;
        let ok: boolean;
        try {
          ok = await this.renew(job);
        } catch (e) {
          throw new TaskFailure("transient", "lease", `the lease could not be renewed: ${firstLine(e)}`);
        }
        if (!ok) throw stopped("lease");
      },
      checkpoint: async (patch) => {
        if (job.abort.signal.aborted) throw stopped(patch.checkpoint);
        let attempt: number | undefined;
        try {
          attempt = await this.tasks.checkpoint(job.lease, patch);
        } catch (e) {
          // The step happened but its record did not: stop before the next step, retry the task later.
          throw new TaskFailure(
            "transient",
            patch.checkpoint,
            `the database refused the checkpoint: ${firstLine(e)}`,
          );
        }
        if (attempt === undefined)
          throw new TaskFailure("lease_lost", patch.checkpoint, "the lease was taken over");
        this.emit({ type: "progress", task, message: patch.message ?? patch.checkpoint });
      },
    };
    let result: PublishResult | undefined;
    let failure: TaskFailure | undefined;
    try {
      const platform = await this.platformFor(task.platform);
      result = await platform.publish(snapshot(task), ctx);
    } catch (e) {
      failure = asTaskFailure(e);
    } finally {
      clearInterval(heartbeat);
    }
    if (job.handedBack) return;
    try {
      if (result) await this.settleSuccess(job, result);
      else await this.settleFailure(job, failure ?? new TaskFailure("internal", "publish", "no result"));
    } catch (e) {
      if (!(e instanceof UnrecordedOutcome)) throw e;
      this.summary.unrecorded.push({ id: e.taskId, what: e.what, error: e.error });
      // Nothing more may start: this process cannot write to its database.
      this.stopping = true;
      this.wake?.();
    }
  }

  /**
   * Write an outcome, retrying whatever the database says (busy, locked, disk full, a lost connection)
   * until it takes it or the budget runs out. Never turns a refused write into a different outcome.
   */
  private async record<T>(job: Job, what: string, write: () => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.outcomeRetryMs;
    let delay = 100;
    let said = false;
    for (;;) {
      try {
        return await write();
      } catch (e) {
        if (performance.now() + delay > deadline)
          throw new UnrecordedOutcome(job.task.id, what, firstLine(e));
        if (!said) this.emit({ type: "store-trouble", task: job.task, what, error: firstLine(e) });
        said = true;
        await sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private async settleSuccess(job: Job, result: PublishResult): Promise<void> {
    const what = result.state === "draft" ? "that it saved the draft" : `that it published ${result.url}`;
    const done = await this.record(job, what, () => this.tasks.succeed(job.lease, result));
    if (done) {
      this.summary.succeeded.push(done.id);
      this.emit({ type: "succeeded", task: done });
      const after = this.opts.afterSuccess;
      if (after) {
        const message = await after(done, result).catch((e: unknown) => `warning: ${firstLine(e)}`);
        if (message) this.emit({ type: "progress", task: done, message });
      }
    } else {
      this.emit({ type: "abandoned", task: job.task, reason: "lease lost before the outcome was recorded" });
    }
  }

  private async settleFailure(job: Job, failure: TaskFailure): Promise<void> {
    const task = job.task;
    const decision = decide(failure, task, this.retry);
    const record = { kind: failure.kind, step: failure.step, message: describe(failure) };
    if (decision.action === "abandon") {
      this.emit({ type: "abandoned", task, reason: failure.message });
      return;
    }
    if (decision.action === "hold") {
      const t = await this.record(job, "that its account is paused", () =>
        this.tasks.hold(job.lease, decision.pause, record),
      );
      if (t) {
        this.summary.held.push(t.id);
        this.emit({ type: "held", task: t, failure, fix: decision.pause.fix });
      }
      return;
    }
    if (decision.action === "retry") {
      const msg = `attempt ${task.attempts} failed at ${failure.step}: ${failure.message}; retry in ${Math.round(decision.delayMs / 1000)} s`;
      const t = await this.record(job, "its retry", () =>
        this.tasks.requeue(job.lease, decision.delayMs, msg, record),
      );
      if (t) {
        this.summary.retrying.push(t.id);
        this.emit({ type: "retrying", task: t, failure, runAt: t.runAt });
      }
      return;
    }
    const t = await this.record(job, "its failure", () =>
      this.tasks.fail(job.lease, record, `failed at ${failure.step}: ${describe(failure)}`),
    );
    if (t) {
      this.summary.failed.push(t.id);
      this.emit({ type: "failed", task: t, failure });
    }
  }

  private platformFor(name: string): Promise<Platform> {
    let p = this.platforms.get(name);
    if (!p) {
      p = this.opts.platform(name);
      this.platforms.set(name, p);
      // A platform that failed to load is tried again next time, not remembered as broken.
      p.catch(() => {
        if (this.platforms.get(name) === p) this.platforms.delete(name);
      });
    }
    return p;
  }

  private async closePlatforms(): Promise<void> {
    const all = [...this.platforms.values()];
    this.platforms.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }

  private async drain(): Promise<void> {
    while (this.jobs.size > 0) await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  /** A listener that throws is a bug: it stops the runner like any other, and run() throws it. */
  private emit(e: RunnerEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch (error) {
      this.crash(error);
    }
  }
}

/**
 * Time since the last renewal. The monotonic clock stops while a laptop sleeps and the wall clock can be set
 * back; the larger of the two never underestimates how stale the lease is.
 */
function sinceRenewal(job: Job): number {
  return Math.max(performance.now() - job.renewedAt.mono, Date.now() - job.renewedAt.wall);
}

/** An error from the database or the system (it carries a code: SQLITE_BUSY, ECONNRESET, 57P01…), not a bug. */
function isSystemError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && code !== "";
}

function emptySummary(): RunSummary {
  return {
    succeeded: [],
    failed: [],
    retrying: [],
    held: [],
    handedBack: [],
    unrecorded: [],
    interrupted: false,
  };
}

/** The message stored and shown for a failure: the cause, then what the person should do. */
export function describe(f: TaskFailure): string {
  return [f.message, f.url ? `open ${f.url}` : "", f.hint ?? ""].filter(Boolean).join("; ");
}

function snapshot(t: Task): TaskSnapshot {
  return {
    id: t.id,
    platform: t.platform,
    account: t.account,
    file: t.file,
    contentHash: t.contentHash,
    title: t.title,
    attempt: t.attempts,
    maxAttempts: t.maxAttempts,
    draftId: t.draftId,
    checkpoint: t.checkpoint,
    state: t.state,
    url: t.url,
    forceNew: t.forceNew,
    mode: t.mode,
  };
}
