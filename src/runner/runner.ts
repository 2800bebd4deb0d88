import PQueue from "p-queue";
import { TaskFailure } from "../errors.js";
import { isOwnerDead, newOwnerId } from "../owner.js";
import type { JobContext, Platform, TaskSnapshot } from "../platform.js";
import { artifactsDir } from "../store/home.js";
import type { Task, TaskStore } from "../store/tasks.js";
import { DEFAULT_LEASE_MS, DEFAULT_POLL_MS } from "./config.js";
import { asTaskFailure, DEFAULT_RETRY, decide, type RetryPolicy } from "./policy.js";

export type RunnerEvent =
  | { type: "claimed"; task: Task }
  | { type: "progress"; task: Task; message: string }
  | { type: "succeeded"; task: Task }
  | { type: "retrying"; task: Task; failure: TaskFailure; runAt: number }
  | { type: "failed"; task: Task; failure: TaskFailure }
  | { type: "abandoned"; task: Task; reason: string }
  | { type: "handed-back"; task: Task }
  | { type: "recovered"; task: Task };

export interface RunnerOptions {
  store: TaskStore;
  home: string;
  /** Platform instances by name, created on first use and closed when the runner stops. */
  platform: (name: string) => Promise<Platform>;
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  retry?: RetryPolicy;
  onEvent?: (e: RunnerEvent) => void;
}

export interface RunOptions {
  /** Stop when nothing is due and nothing of ours is running, instead of watching for more. */
  once?: boolean;
  /** Run only these tasks, and keep going until each is finished (waiting out retry back-off). */
  only?: readonly number[];
}

export interface RunSummary {
  succeeded: number[];
  failed: number[];
  /** Transient failures waiting for their retry time. */
  retrying: number[];
  handedBack: number[];
  interrupted: boolean;
}

interface Job {
  task: Task;
  abort: AbortController;
  done: Promise<void>;
  handedBack: boolean;
}

/**
 * Claims due tasks and runs them: one job per account at a time (the database's partial unique index makes
 * that true across processes; the per-account p-queue makes it true inside this one), at most `concurrency`
 * jobs in all. A job holds no statement or transaction while the platform works: it reads its row at the
 * claim, and each checkpoint and the outcome are separate short transactions guarded by the lease.
 */
export class Runner {
  readonly owner: string;
  private readonly store: TaskStore;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly retry: RetryPolicy;
  private readonly global: PQueue;
  private readonly perAccount = new Map<string, PQueue>();
  private readonly jobs = new Map<number, Job>();
  private readonly platforms = new Map<string, Promise<Platform>>();
  private stopping = false;
  private wake: (() => void) | undefined;
  private summary: RunSummary = {
    succeeded: [],
    failed: [],
    retrying: [],
    handedBack: [],
    interrupted: false,
  };

  constructor(private readonly opts: RunnerOptions) {
    this.store = opts.store;
    this.owner = newOwnerId();
    this.concurrency = Math.max(1, opts.concurrency ?? 2);
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.global = new PQueue({ concurrency: this.concurrency });
  }

  async run(mode: RunOptions = {}): Promise<RunSummary> {
    this.summary = { succeeded: [], failed: [], retrying: [], handedBack: [], interrupted: false };
    const recoverEvery = Math.max(250, Math.floor(this.leaseMs / 2));
    let lastRecovery = 0;
    try {
      while (!this.stopping) {
        if (Date.now() - lastRecovery >= recoverEvery) {
          this.recover();
          lastRecovery = Date.now();
        }
        const claimed = this.fill(mode.only);
        if (this.stopping) break;
        if (this.jobs.size === 0 && claimed === 0 && this.finished(mode)) break;
        await this.sleep(this.nextWakeMs());
      }
      await this.drain();
    } finally {
      await this.closePlatforms();
    }
    // A retry that another runner finished for us is no longer pending.
    this.summary.retrying = [...new Set(this.summary.retrying)].filter(
      (id) => this.store.get(id)?.status === "queued",
    );
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
    if (timedOut) this.handBackAll();
  }

  /** Abort every running job now and put its task back in the queue with its attempt refunded. */
  handBackAll(): void {
    for (const job of this.jobs.values()) {
      if (job.handedBack) continue;
      job.handedBack = true;
      const t = this.store.requeue(
        job.task.id,
        this.owner,
        Date.now(),
        `handed back: topn was stopped before attempt ${job.task.attempts} finished`,
        undefined,
        { refund: true },
      );
      job.abort.abort(new TaskFailure("lease_lost", "shutdown", "topn is stopping"));
      if (t) {
        this.summary.handedBack.push(t.id);
        this.emit({ type: "handed-back", task: t });
      }
    }
  }

  private finished(mode: RunOptions): boolean {
    if (mode.only) {
      // Foreground publish: done when every task is final, even if another runner ran it.
      return mode.only.every((id) => {
        const s = this.store.get(id)?.status;
        return s === undefined || s === "succeeded" || s === "failed" || s === "cancelled";
      });
    }
    if (mode.once) return true;
    return false;
  }

  private nextWakeMs(): number {
    const next = this.store.nextDueAt();
    if (next === null) return this.pollMs;
    return Math.max(10, Math.min(this.pollMs, next - Date.now()));
  }

  private recover(): void {
    for (const task of this.store.recover(isOwnerDead)) this.emit({ type: "recovered", task });
  }

  private fill(only: readonly number[] | undefined): number {
    let claimed = 0;
    while (!this.stopping && this.jobs.size < this.concurrency) {
      const task = this.store.claim(this.owner, this.leaseMs, only ? { only } : {});
      if (!task) break;
      claimed++;
      this.start(task);
    }
    return claimed;
  }

  private start(task: Task): void {
    const key = `${task.platform}\u0000${task.account}`;
    let queue = this.perAccount.get(key);
    if (!queue) {
      queue = new PQueue({ concurrency: 1 });
      this.perAccount.set(key, queue);
    }
    const job: Job = { task, abort: new AbortController(), done: Promise.resolve(), handedBack: false };
    this.jobs.set(task.id, job);
    this.emit({ type: "claimed", task });
    const q = queue;
    job.done = q
      .add(() => this.global.add(() => this.execute(job)))
      .catch(() => {})
      .finally(() => {
        this.jobs.delete(task.id);
        if (q.size === 0 && q.pending === 0) this.perAccount.delete(key);
        this.wake?.();
      });
  }

  private async execute(job: Job): Promise<void> {
    const { task } = job;
    const heartbeat = setInterval(
      () => {
        if (job.handedBack) return;
        if (!this.store.heartbeat(task.id, this.owner, this.leaseMs)) {
          job.abort.abort(new TaskFailure("lease_lost", "heartbeat", "the lease was taken over"));
        }
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    const ctx: JobContext = {
      signal: job.abort.signal,
      artifactsDir: artifactsDir(this.opts.home, task.id),
      log: (message) => this.emit({ type: "progress", task, message }),
      ensureLease: async () => {
        if (job.abort.signal.aborted) throw asTaskFailure(job.abort.signal.reason, "lease");
      },
      checkpoint: async (patch) => {
        if (job.abort.signal.aborted) throw asTaskFailure(job.abort.signal.reason, patch.checkpoint);
        if (!this.store.checkpoint(task.id, this.owner, patch)) {
          throw new TaskFailure("lease_lost", patch.checkpoint, "the lease was taken over");
        }
        this.emit({ type: "progress", task, message: patch.message ?? patch.checkpoint });
      },
    };
    try {
      const platform = await this.platformFor(task.platform);
      const result = await platform.publish(snapshot(task), ctx);
      if (job.handedBack) return;
      const done = this.store.succeed(task.id, this.owner, result);
      if (done) {
        this.summary.succeeded.push(task.id);
        this.emit({ type: "succeeded", task: done });
      } else {
        this.emit({ type: "abandoned", task, reason: "lease lost before the outcome was recorded" });
      }
    } catch (e) {
      if (job.handedBack) return;
      this.settleFailure(task, asTaskFailure(e));
    } finally {
      clearInterval(heartbeat);
    }
  }

  private settleFailure(task: Task, failure: TaskFailure): void {
    const decision = decide(failure, task.attempts, task.maxAttempts, this.retry);
    const record = { kind: failure.kind, step: failure.step, message: describe(failure) };
    if (decision.action === "abandon") {
      this.emit({ type: "abandoned", task, reason: failure.message });
      return;
    }
    if (decision.action === "retry") {
      const runAt = Date.now() + decision.delayMs;
      const msg = `attempt ${task.attempts} failed at ${failure.step}: ${failure.message}; retry at ${new Date(runAt).toISOString()}`;
      const t = this.store.requeue(task.id, this.owner, runAt, msg, record);
      if (t) {
        this.summary.retrying.push(task.id);
        this.emit({ type: "retrying", task: t, failure, runAt });
      }
      return;
    }
    const t = this.store.fail(task.id, this.owner, record, `failed at ${failure.step}: ${describe(failure)}`);
    if (t) {
      this.summary.failed.push(task.id);
      this.emit({ type: "failed", task: t, failure });
    }
  }

  private platformFor(name: string): Promise<Platform> {
    let p = this.platforms.get(name);
    if (!p) {
      p = this.opts.platform(name);
      this.platforms.set(name, p);
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

  private emit(e: RunnerEvent): void {
    this.opts.onEvent?.(e);
  }
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
    mode: "publish",
  };
}
