import assert from "node:assert/strict";
import { test } from "node:test";
import { TaskFailure } from "../src/errors.js";
import type { JobContext, Platform, TaskSnapshot } from "../src/platform.js";
import { backoffMs, decide } from "../src/runner/policy.js";
import { Runner, type RunnerEvent } from "../src/runner/runner.js";
import type { Store } from "../src/store/db.js";
import type { NewTask } from "../src/store/tasks.js";
import { testStore } from "./helpers/store.js";

const task = (over: Partial<NewTask> = {}): NewTask => ({
  platform: "t",
  account: "a",
  file: "/a.md",
  contentHash: "h",
  title: "T",
  runAt: Date.now() - 1,
  maxAttempts: 3,
  ...over,
});

/** Resolves `started` when the platform calls `release`: the job is under way. */
function jobStarted() {
  let release!: () => void;
  const started = new Promise<void>((res) => {
    release = res;
  });
  return { started, release };
}

function runner(
  store: Store,
  home: string,
  platform: Platform,
  over: Partial<ConstructorParameters<typeof Runner>[0]> = {},
) {
  const events: RunnerEvent[] = [];
  const r = new Runner({
    store: store.tasks,
    home,
    platform: async () => platform,
    leaseMs: 5_000,
    pollMs: 20,
    retry: { baseMs: 100, capMs: 1_000, random: () => 0.5 },
    onEvent: (e) => events.push(e),
    ...over,
  });
  return { r, events };
}

const platform = (
  publish: (task: TaskSnapshot, ctx: JobContext) => Promise<{ url: string; articleId: string }>,
) => {
  let closed = 0;
  return {
    name: "t",
    publish: async (task: TaskSnapshot, ctx: JobContext) => ({
      state: "published" as const,
      contentHash: task.contentHash,
      digest: task.contentHash,
      ...(await publish(task, ctx)),
    }),
    close: async () => {
      closed++;
    },
    get closed() {
      return closed;
    },
  };
};

test("back-off doubles per attempt with jitter, capped", () => {
  const p = { baseMs: 1000, capMs: 5000 };
  assert.equal(backoffMs(1, { ...p, random: () => 0 }), 500);
  assert.equal(backoffMs(1, { ...p, random: () => 1 }), 1000);
  assert.equal(backoffMs(2, { ...p, random: () => 1 }), 2000);
  assert.equal(backoffMs(3, { ...p, random: () => 1 }), 4000);
  assert.equal(backoffMs(9, { ...p, random: () => 1 }), 5000);
  const f = new TaskFailure("rate_limited", "publish", "429", { retryAfterMs: 60_000 });
  assert.deepEqual(decide(f, 1, 5, { ...p, random: () => 0 }), { action: "retry", delayMs: 60_000 });
  assert.deepEqual(decide(new TaskFailure("session_expired", "check", "401"), 1, 5, p), { action: "fail" });
  assert.deepEqual(decide(new TaskFailure("transient", "x", "502"), 5, 5, p), { action: "fail" });
});

test("transient failures retry after their back-off until max attempts, then fail", async (t) => {
  const { home, store } = testStore(t);
  const starts: number[] = [];
  const p = platform(async () => {
    starts.push(Date.now());
    throw new TaskFailure("transient", "save draft", "HTTP 502");
  });
  const [id] = store.tasks.enqueue([task({ maxAttempts: 3 })]);
  const { r, events } = runner(store, home, p);
  const summary = await r.run({ only: [id!] });
  assert.deepEqual(summary.failed, [id]);
  assert.equal(starts.length, 3);
  // base 100 ms, jitter fixed at 0.5: 75 ms then 150 ms (half fixed + half of the random part).
  assert.ok(starts[1]! - starts[0]! >= 75, `first back-off ${starts[1]! - starts[0]!} ms`);
  assert.ok(starts[2]! - starts[1]! >= 150, `second back-off ${starts[2]! - starts[1]!} ms`);
  const final = store.tasks.get(id!)!;
  assert.equal(final.status, "failed");
  assert.equal(final.attempts, 3);
  assert.equal(final.errorStep, "save draft");
  assert.deepEqual(
    events.map((e) => e.type),
    ["claimed", "retrying", "claimed", "retrying", "claimed", "failed"],
  );
  assert.equal(p.closed, 1, "the platform is closed when the runner stops");
});

test("permanent failures are not retried", async (t) => {
  const { home, store } = testStore(t);
  let calls = 0;
  const p = platform(async () => {
    calls++;
    throw new TaskFailure("session_expired", "check session", "401 请求需要登录", {
      hint: "run: topn login zhihu --account a",
    });
  });
  const [id] = store.tasks.enqueue([task({ maxAttempts: 5 })]);
  const summary = await runner(store, home, p).r.run({ once: true });
  assert.equal(calls, 1);
  assert.deepEqual(summary.failed, [id]);
  const final = store.tasks.get(id!)!;
  assert.equal(final.errorKind, "session_expired");
  assert.match(final.errorMessage!, /topn login zhihu --account a/);
});

test("an unexpected exception is an internal failure, not a crash of the runner", async (t) => {
  const { home, store } = testStore(t);
  const p = platform(async () => {
    throw new TypeError("x is undefined");
  });
  const [id, other] = store.tasks.enqueue([task(), task({ account: "b", file: "/b.md" })]);
  const summary = await runner(store, home, p).r.run({ once: true });
  assert.deepEqual(summary.failed.sort(), [id, other]);
  assert.equal(store.tasks.get(id!)!.errorKind, "internal");
});

test("run --once leaves retries for later and reports them", async (t) => {
  const { home, store } = testStore(t);
  const p = platform(async () => {
    throw new TaskFailure("transient", "publish", "reset");
  });
  const [id] = store.tasks.enqueue([task()]);
  const { r } = runner(store, home, p, { retry: { baseMs: 60_000, capMs: 60_000 } });
  const summary = await r.run({ once: true });
  assert.deepEqual(summary.retrying, [id]);
  assert.equal(store.tasks.get(id!)!.status, "queued");
});

test("checkpoints are committed before the next step and survive into the next attempt", async (t) => {
  const { home, store } = testStore(t);
  const seen: (string | null)[] = [];
  const p = platform(async (snap, ctx) => {
    seen.push(snap.draftId);
    if (!snap.draftId) {
      await ctx.checkpoint({ checkpoint: "draft_created", draftId: "9000000000000000001", state: { images: 1 } });
      // While the job still runs, the checkpoint is already in the database.
      assert.equal(store.tasks.get(snap.id)!.draftId, "9000000000000000001");
      throw new TaskFailure("transient", "upload images", "timeout");
    }
    assert.deepEqual(snap.state, { images: 1 });
    return { url: `https://x/p/${snap.draftId}`, articleId: snap.draftId };
  });
  const [id] = store.tasks.enqueue([task()]);
  await runner(store, home, p).r.run({ only: [id!] });
  assert.deepEqual(seen, [null, "9000000000000000001"]);
  assert.equal(store.tasks.get(id!)!.url, "https://x/p/9000000000000000001");
});

test("one account runs one job at a time; two accounts run in parallel", async (t) => {
  const { home, store } = testStore(t);
  const running = new Map<string, number>();
  let maxPerAccount = 0;
  let maxTotal = 0;
  let total = 0;
  const p = platform(async (snap) => {
    const n = (running.get(snap.account) ?? 0) + 1;
    running.set(snap.account, n);
    total++;
    maxPerAccount = Math.max(maxPerAccount, n);
    maxTotal = Math.max(maxTotal, total);
    await new Promise((r) => setTimeout(r, 30));
    running.set(snap.account, n - 1);
    total--;
    return { url: "u", articleId: String(snap.id) };
  });
  const ids = store.tasks.enqueue(
    Array.from({ length: 8 }, (_, i) => task({ account: i % 2 ? "a" : "b", file: `/${i}.md` })),
  );
  const summary = await runner(store, home, p, { concurrency: 4 }).r.run({ once: true });
  assert.equal(summary.succeeded.length, ids.length);
  assert.equal(maxPerAccount, 1);
  assert.equal(maxTotal, 2);
});

test("stop(): running jobs finish within the grace period", async (t) => {
  const { home, store } = testStore(t);
  const { started, release } = jobStarted();
  const p = platform(async () => {
    release();
    await new Promise((r) => setTimeout(r, 100));
    return { url: "u", articleId: "1" };
  });
  const [id, later] = store.tasks.enqueue([task(), task({ file: "/later.md" })]);
  const { r } = runner(store, home, p);
  const done = r.run();
  await started;
  await r.stop(5_000);
  const summary = await done;
  assert.deepEqual(summary.succeeded, [id]);
  assert.equal(store.tasks.get(later!)!.status, "queued", "nothing new starts after stop");
  assert.equal(summary.interrupted, true);
});

test("stop(): jobs still running after the grace period are aborted and handed back, attempt refunded", async (t) => {
  const { home, store } = testStore(t);
  const { started, release } = jobStarted();
  let abortedWith: unknown;
  const p = platform(
    (_snap, ctx) =>
      new Promise((_res, rej) => {
        release();
        ctx.signal.addEventListener("abort", () => {
          abortedWith = ctx.signal.reason;
          rej(ctx.signal.reason);
        });
      }),
  );
  const [id] = store.tasks.enqueue([task()]);
  const { r, events } = runner(store, home, p);
  const done = r.run();
  await started;
  await r.stop(50);
  const summary = await done;
  assert.deepEqual(summary.handedBack, [id]);
  assert.ok(abortedWith instanceof TaskFailure);
  const back = store.tasks.get(id!)!;
  assert.equal(back.status, "queued");
  assert.equal(back.attempts, 0);
  assert.match(store.tasks.events(id!).at(-1)!.message, /handed back/);
  assert.ok(events.some((e) => e.type === "handed-back"));
});

test("a job whose lease was taken over stops and records nothing", async (t) => {
  const { home, store } = testStore(t);
  const { started, release } = jobStarted();
  const p = platform(
    (_snap, ctx) =>
      new Promise((_res, rej) => {
        release();
        ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason));
      }),
  );
  const [id] = store.tasks.enqueue([task()]);
  const { r, events } = runner(store, home, p, { leaseMs: 150 });
  const done = r.run({ once: true });
  await started;
  // Another runner decides this one is dead and takes the task over.
  store.tasks.recover(() => true);
  const other = store.tasks.claim("other:1:z", 60_000)!;
  assert.equal(other.id, id);
  await done;
  assert.ok(events.some((e) => e.type === "abandoned"));
  const now = store.tasks.get(id!)!;
  assert.equal(now.status, "running");
  assert.equal(now.leaseOwner, "other:1:z");
});
