// The runner against a real store, SQLite and PostgreSQL, with platforms written here: retries, holds,
// leases, shutdown, and a database that refuses writes.
import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { TaskFailure } from "../src/errors.js";
import type { JobContext, Platform, PublishResult, TaskSnapshot } from "../src/platform.js";
import { backoffMs, decide } from "../src/runner/policy.js";
import { Runner, type RunnerEvent } from "../src/runner/runner.js";
import type { Store, TaskStore } from "../src/store/types.js";
import { bothEngines, type Engine, engines } from "./helpers/engines.js";
import { waitFor } from "./helpers/run.js";
import { enqueueIds, newTask } from "./helpers/store.js";

const ENGINES = await engines();
const both = (name: string, fn: (t: TestContext, e: Engine) => Promise<void>) =>
  bothEngines(ENGINES, name, fn);

const task = newTask;

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
    tasks: store.tasks,
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
    name: "fake",
    publish: async (task: TaskSnapshot, ctx: JobContext): Promise<PublishResult> => ({
      state: "published" as const,
      contentHash: task.contentHash,
      digest: "d",
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

test("back-off doubles per attempt with jitter, capped; account-level failures hold instead of failing", () => {
  const p = { baseMs: 1000, capMs: 5000 };
  assert.equal(backoffMs(1, { ...p, random: () => 0 }), 500);
  assert.equal(backoffMs(1, { ...p, random: () => 1 }), 1000);
  assert.equal(backoffMs(2, { ...p, random: () => 1 }), 2000);
  assert.equal(backoffMs(3, { ...p, random: () => 1 }), 4000);
  assert.equal(backoffMs(9, { ...p, random: () => 1 }), 5000);
  const t = { attempts: 1, maxAttempts: 5, platform: "zhihu", account: "a" };
  const limited = decide(new TaskFailure("rate_limited", "publish", "429", { retryAfterMs: 60_000 }), t, p);
  assert.equal(limited.action, "hold");
  assert.equal(limited.action === "hold" && limited.pause.forMs, 60_000);
  const expired = decide(new TaskFailure("session_expired", "check", "401"), t, p);
  assert.deepEqual(expired.action === "hold" && expired.pause.fix, "topn login zhihu --account a");
  const verify = decide(
    new TaskFailure("needs_verification", "publish", "40352", {
      url: "https://www.zhihu.com/account/unhuman",
      hint: "open the link in a browser logged in as this account, pass the check, then: topn retry",
    }),
    t,
    p,
  );
  assert.equal(verify.action === "hold" && verify.pause.forMs, null);
  assert.match(verify.action === "hold" ? verify.pause.fix : "", /unhuman.*then: topn accounts --resume a$/);
  assert.deepEqual(decide(new TaskFailure("transient", "x", "502"), { ...t, attempts: 5 }, p), {
    action: "fail",
  });
  assert.deepEqual(decide(new TaskFailure("rejected", "x", "no"), t, p), { action: "fail" });
});

both("transient failures retry after their back-off until max attempts, then fail", async (t, e) => {
  const { home, store } = await e.open(t);
  const starts: number[] = [];
  const p = platform(async () => {
    starts.push(Date.now());
    throw new TaskFailure("transient", "save draft", "HTTP 502");
  });
  const [id] = await enqueueIds(store, [task({ maxAttempts: 3 })]);
  const { r, events } = runner(store, home, p);
  const summary = await r.run({ only: [id!] });
  assert.deepEqual(summary.failed, [id]);
  assert.equal(starts.length, 3);
  // base 100 ms, jitter fixed at 0.5: 75 ms then 150 ms (half fixed + half of the random part).
  assert.ok(starts[1]! - starts[0]! >= 70, `first back-off ${starts[1]! - starts[0]!} ms`);
  assert.ok(starts[2]! - starts[1]! >= 140, `second back-off ${starts[2]! - starts[1]!} ms`);
  const final = (await store.tasks.get(id!))!;
  assert.equal(final.status, "failed");
  assert.equal(final.attempts, 3);
  assert.equal(final.errorStep, "save draft");
  assert.deepEqual(
    events.map((e) => e.type),
    ["claimed", "retrying", "claimed", "retrying", "claimed", "failed"],
  );
  assert.equal(p.closed, 1, "the platform is closed when the runner stops");
});

both(
  "a dead session holds the account: one request, the other tasks wait, other accounts go on",
  async (t, e) => {
    const { home, store } = await e.open(t);
    const calls: string[] = [];
    const p = platform(async (snap) => {
      calls.push(snap.account);
      if (snap.account === "a") throw new TaskFailure("session_expired", "check session", "401 请求需要登录");
      return { url: "u", articleId: String(snap.id) };
    });
    const ids = await enqueueIds(store, [task(), task(), task(), task({ account: "b" })]);
    const { r, events } = runner(store, home, p);
    const summary = await r.run({ only: ids });
    assert.deepEqual(calls.filter((a) => a === "a").length, 1, "account a was asked once");
    assert.deepEqual(summary.succeeded, [ids[3]]);
    assert.deepEqual(summary.held, [ids[0]]);
    for (const id of ids.slice(0, 3)) assert.equal((await store.tasks.get(id))!.status, "queued");
    assert.equal((await store.tasks.get(ids[0]!))!.attempts, 0, "not the task's fault: attempt refunded");
    assert.ok(events.some((e) => e.type === "held" && e.fix === "topn login fake --account a"));
  },
);

both("an unexpected exception is an internal failure, not a crash of the runner", async (t, e) => {
  const { home, store } = await e.open(t);
  const p = platform(async () => {
    throw new TypeError("x is undefined");
  });
  const [id, other] = await enqueueIds(store, [task(), task({ account: "b" })]);
  const summary = await runner(store, home, p).r.run({ once: true });
  assert.deepEqual(summary.failed.sort(), [id, other]);
  assert.equal((await store.tasks.get(id!))!.errorKind, "internal");
});

both("run --once leaves retries for later and reports them", async (t, e) => {
  const { home, store } = await e.open(t);
  const p = platform(async () => {
    throw new TaskFailure("transient", "publish", "reset");
  });
  const [id] = await enqueueIds(store, [task()]);
  const { r } = runner(store, home, p, { retry: { baseMs: 60_000, capMs: 60_000 } });
  const summary = await r.run({ once: true });
  assert.deepEqual(summary.retrying, [id]);
  assert.equal((await store.tasks.get(id!))!.status, "queued");
});

both("checkpoints are committed before the next step and survive into the next attempt", async (t, e) => {
  const { home, store } = await e.open(t);
  const seen: (string | null)[] = [];
  const p = platform(async (snap, ctx) => {
    seen.push(snap.draftId);
    if (!snap.draftId) {
      await ctx.checkpoint({
        checkpoint: "draft_created",
        draftId: "9000000000000000001",
        state: { images: 1 },
      });
      // While the job still runs, the checkpoint is already in the database.
      assert.equal((await store.tasks.get(snap.id))!.draftId, "9000000000000000001");
      throw new TaskFailure("transient", "upload images", "timeout");
    }
    assert.deepEqual(snap.state, { images: 1 });
    return { url: `https://x/p/${snap.draftId}`, articleId: snap.draftId };
  });
  const [id] = await enqueueIds(store, [task()]);
  await runner(store, home, p).r.run({ only: [id!] });
  assert.deepEqual(seen, [null, "9000000000000000001"]);
  assert.equal((await store.tasks.get(id!))!.url, "https://x/p/9000000000000000001");
});

both("one account runs one job at a time; two accounts run in parallel", async (t, e) => {
  const { home, store } = await e.open(t);
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
  const ids = await enqueueIds(
    store,
    Array.from({ length: 8 }, (_, i) => task({ account: i % 2 ? "a" : "b" })),
  );
  const summary = await runner(store, home, p, { concurrency: 4 }).r.run({ once: true });
  assert.equal(summary.succeeded.length, ids.length);
  assert.equal(maxPerAccount, 1);
  assert.equal(maxTotal, 2);
});

both(
  "a task queued after the runner last looked is never run here without its account's session",
  async (t, e) => {
    // Several machines, one queue: the runner claims only accounts whose session it holds, as it last saw
    // them (every 5 s). A queue it saw empty taught it nothing; what arrives next must still be checked.
    const { home, store } = await e.open(t);
    const ran: string[] = [];
    const p = {
      ...platform(async (snap) => {
        ran.push(snap.account);
        return { url: "u", articleId: String(snap.id) };
      }),
      hasSession: async (account: string) => account === "mine",
    };
    const { r, events } = runner(store, home, p);
    const watching = r.run();
    t.after(() => r.stop(0));
    await waitFor("the runner's first look at an empty queue", () => r.stats.wakeUps >= 2);
    const [elsewhere, mine] = await enqueueIds(store, [
      task({ account: "other" }),
      task({ account: "mine" }),
    ]);
    await waitFor(
      "this machine's task to succeed",
      async () => (await store.tasks.get(mine!))?.status === "succeeded",
    );
    await r.stop(0);
    await watching;

    assert.deepEqual(ran, ["mine"], "only the account whose session this machine holds");
    const left = (await store.tasks.get(elsewhere!))!;
    assert.equal(left.status, "queued", "left for a machine that holds its session");
    assert.equal(left.attempts, 0, "and it cost no attempt");
    assert.ok(!events.some((ev) => ev.type === "claimed" && ev.task.id === elsewhere));
  },
);

both(
  "a busy account costs about one claim per task: the runner sleeps until the account is free",
  async (t, e) => {
    const { home, store } = await e.open(t);
    const p = platform(async (snap) => {
      await new Promise((r) => setTimeout(r, 300));
      return { url: "u", articleId: String(snap.id) };
    });
    const ids = await enqueueIds(store, [task(), task(), task()]);
    // A short poll would have woken the old runner every 10 ms and tried to claim each time.
    const { r } = runner(store, home, p, { concurrency: 3, pollMs: 10 });
    const summary = await r.run({ only: ids });
    assert.equal(summary.succeeded.length, 3);
    assert.ok(r.stats.claimAttempts <= 2 * ids.length, `${r.stats.claimAttempts} claim attempts for 3 tasks`);
  },
);

both("stop(): running jobs finish within the grace period", async (t, e) => {
  const { home, store } = await e.open(t);
  const { started, release } = jobStarted();
  const p = platform(async () => {
    release();
    await new Promise((r) => setTimeout(r, 100));
    return { url: "u", articleId: "1" };
  });
  const [id, later] = await enqueueIds(store, [task(), task()]);
  const { r } = runner(store, home, p);
  const done = r.run();
  await started;
  await r.stop(5_000);
  const summary = await done;
  assert.deepEqual(summary.succeeded, [id]);
  assert.equal((await store.tasks.get(later!))!.status, "queued", "nothing new starts after stop");
  assert.equal(summary.interrupted, true);
});

both(
  "stop(): jobs still running after the grace period are aborted and handed back, attempt refunded",
  async (t, e) => {
    const { home, store } = await e.open(t);
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
    const [id] = await enqueueIds(store, [task()]);
    const { r, events } = runner(store, home, p);
    const done = r.run();
    await started;
    await r.stop(50);
    const summary = await done;
    assert.deepEqual(summary.handedBack, [id]);
    assert.ok(abortedWith instanceof TaskFailure);
    const back = (await store.tasks.get(id!))!;
    assert.equal(back.status, "queued");
    assert.equal(back.attempts, 0);
    assert.match((await store.tasks.events(id!)).at(-1)!.message, /handed back/);
    assert.ok(events.some((e) => e.type === "handed-back"));
  },
);

both(
  "run() returns only after the hand-back is written: a caller that closes the store then loses nothing",
  async (t, e) => {
    const { home, store } = await e.open(t);
    const { started, release } = jobStarted();
    const p = platform(
      (_snap, ctx) =>
        new Promise((_res, rej) => {
          release();
          ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason));
        }),
    );
    const [id] = await enqueueIds(store, [task()]);
    // A slow hand-back write (a remote database): the aborted job ends long before it is recorded.
    const tasks = new Proxy(store.tasks, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== "function") return value;
        if (prop !== "requeue") return value.bind(target);
        return async (...args: unknown[]) => {
          await new Promise((r) => setTimeout(r, 200));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { r } = runner({ ...store, tasks }, home, p, { tasks });
    const done = r.run();
    await started;
    // As the signal handler does: stop without waiting for it; the caller waits for run() alone.
    void r.stop(0);
    const summary = await done;
    assert.deepEqual(summary.handedBack, [id]);
    assert.equal((await store.tasks.get(id!))!.status, "queued", "written before run() returned");
  },
);

both("a job whose lease was taken over sends no further request and records nothing", async (t, e) => {
  const { home, store } = await e.open(t);
  const { started, release } = jobStarted();
  let gate!: () => void;
  const proceed = new Promise<void>((r) => {
    gate = r;
  });
  let sent = 0;
  const p = platform(async (_snap, ctx) => {
    release();
    await proceed;
    // Frozen (SIGSTOP, a laptop lid): no timer fires, so no heartbeat noticed the takeover.
    const until = Date.now() + 150;
    while (Date.now() < until) {}
    await ctx.ensureLease();
    sent++;
    return { url: "u", articleId: "1" };
  });
  const [id] = await enqueueIds(store, [task()]);
  const { r, events } = runner(store, home, p, { leaseMs: 300 });
  const done = r.run({ once: true });
  await started;
  // Another runner decides this one is dead and takes the task over.
  await store.tasks.recover({ deadOwners: [r.owner], keep: [] });
  const other = await store.tasks.claim({
    owner: "other:1:z",
    token: "theirs",
    leaseMs: 60_000,
    pacing: { gapMs: 0, dailyCap: 0 },
  });
  assert.equal(other?.id, id);
  gate();
  await done;
  assert.equal(sent, 0, "the request was never sent");
  assert.ok(events.some((e) => e.type === "abandoned"));
  const now = (await store.tasks.get(id!))!;
  assert.equal(now.status, "running");
  assert.equal(now.leaseOwner, "other:1:z");
});

/** A TaskStore whose `method` throws an I/O error on the calls numbered in `failOn` (1-based). */
function refusing(inner: TaskStore, method: keyof TaskStore, failOn: (n: number) => boolean): TaskStore {
  let n = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== method || typeof value !== "function")
        return typeof value === "function" ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        if (failOn(++n)) throw Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

for (const method of ["heartbeat", "checkpoint", "succeed", "requeue", "fail"] as const) {
  both(
    `a database that refuses one ${method} write: the task still ends right, and it is said`,
    async (t, e) => {
      const { home, store } = await e.open(t);
      let published = 0;
      let attempts = 0;
      const p = platform(async (_snap, ctx) => {
        attempts++;
        if (method === "requeue" && attempts === 1) throw new TaskFailure("transient", "publish", "502");
        if (method === "fail") throw new TaskFailure("rejected", "publish", "banned word");
        await ctx.checkpoint({ checkpoint: "draft_created", draftId: "42" });
        await new Promise((r) => setTimeout(r, 120)); // a heartbeat or two
        await ctx.ensureLease();
        published++;
        return { url: "https://x/p/42", articleId: "42" };
      });
      const [id] = await enqueueIds(store, [task()]);
      const tasks = refusing(store.tasks, method, (n) => n === 1);
      const { r, events } = runner({ ...store, tasks }, home, p, { tasks, leaseMs: 150 });
      const summary = await r.run({ only: [id!] });
      const final = (await store.tasks.get(id!))!;
      if (method === "fail") {
        assert.deepEqual(summary.failed, [id]);
        assert.equal(final.status, "failed");
        assert.equal(final.errorKind, "rejected");
      } else {
        assert.deepEqual(summary.succeeded, [id]);
        assert.equal(final.status, "succeeded");
        assert.equal(published, 1, "published once");
      }
      if (method !== "checkpoint")
        assert.ok(
          events.some((e) => e.type === "store-trouble"),
          "the refusal was said",
        );
      else assert.equal(final.attempts, 2, "the refused checkpoint cost one attempt, then the task went on");
    },
  );
}

both(
  "an outcome the database never takes: the runner stops, says which task, and the next run settles it",
  async (t, e) => {
    const { home, store } = await e.open(t);
    const calls: (string | null)[] = [];
    const p = platform(async (snap, ctx) => {
      calls.push(snap.checkpoint);
      // Like Zhihu's flow: a task that reached "publishing" reads the article back instead of publishing again.
      if (snap.checkpoint === "publishing") return { url: "https://x/p/9", articleId: "9" };
      await ctx.checkpoint({ checkpoint: "publishing", draftId: "9" });
      return { url: "https://x/p/9", articleId: "9" };
    });
    const [id, next] = await enqueueIds(store, [task(), task()]);
    const tasks = refusing(store.tasks, "succeed", () => true);
    const first = runner({ ...store, tasks }, home, p, { tasks, outcomeRetryMs: 300, leaseMs: 200 });
    const summary = await first.r.run({ once: true });
    assert.deepEqual(
      summary.unrecorded.map((u) => u.id),
      [id],
    );
    assert.match(summary.unrecorded[0]!.error, /disk I\/O error/);
    assert.equal((await store.tasks.get(id!))!.status, "running", "not recorded as failed");
    assert.equal((await store.tasks.get(next!))!.status, "queued", "nothing else started");
    // The next run (its lease expired) reads the article back and records the success.
    await new Promise((r) => setTimeout(r, 250));
    const second = runner(store, home, p, { leaseMs: 200 });
    const after = await second.r.run({ once: true });
    assert.deepEqual(after.succeeded.sort(), [id, next]);
    assert.deepEqual(calls, [null, "publishing", null]);
  },
);

both(
  "a listener that throws stops the runner with that error instead of killing the process",
  async (t, e) => {
    const { home, store } = await e.open(t);
    const p = platform(async () => ({ url: "u", articleId: "1" }));
    const [id] = await enqueueIds(store, [task()]);
    const { r } = runner(store, home, p, {
      onEvent: (e) => {
        if (e.type === "succeeded") throw new Error("printer broke");
      },
    });
    await assert.rejects(r.run({ only: [id!] }), /printer broke/);
    assert.equal((await store.tasks.get(id!))!.status, "succeeded");
  },
);
