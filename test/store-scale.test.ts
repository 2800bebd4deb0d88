// The store's hot paths cost the same with a long queue as with a short one. Not timed: the injected clock is
// a SQL function called every time a statement evaluates "now", so its calls count the rows a statement
// looked at. Before these were fixed, a claim sorted the whole queue (34 tasks/s with 5,000 queued instead
// of 570) and `topn tasks` computed pacing once per queued task (469 ms on a 100,000-task database).
import assert from "node:assert/strict";
import { test } from "node:test";
import { tasks as tasksCommand } from "../src/commands/tasks.js";
import type { Context } from "../src/context.js";
import type { PacingDefaults, Store } from "../src/store/types.js";
import { newTask, testStore } from "./helpers/store.js";

const PACED: PacingDefaults = { gapMs: 60_000, dailyCap: 10 };
const UNPACED: PacingDefaults = { gapMs: 0, dailyCap: 0 };

/**
 * A store whose queue holds `queued` due tasks over `accounts` accounts, each account with a publish two days
 * ago (so pacing has rows to look at and lets every account run), and a counter of clock reads.
 */
async function queue(t: Parameters<typeof testStore>[0], queued: number, accounts: number) {
  let now = 1_800_000_000_000;
  let reads = 0;
  const { store, home } = testStore(t, {
    clock: () => {
      reads++;
      return now;
    },
  });
  for (let a = 0; a < accounts; a++) {
    const [first] = await store.tasks.enqueue([newTask({ account: `acct-${a}`, runAt: 0 })]);
    if (first?.kind !== "queued") throw new Error("not queued");
    const lease = { id: first.task.id, token: `k${a}` };
    await store.tasks.claim({
      owner: "o",
      token: lease.token,
      leaseMs: 60_000,
      pacing: UNPACED,
      only: [lease.id],
    });
    const outcome = {
      url: "u",
      articleId: `p${a}`,
      state: "published",
      contentHash: "h",
      digest: "d",
    } as const;
    await store.tasks.succeed(lease, outcome);
  }
  now += 2 * 86_400_000;
  await store.tasks.enqueue(
    Array.from({ length: queued }, (_, i) => newTask({ account: `acct-${i % accounts}`, runAt: 0 })),
  );
  return {
    store,
    home,
    /** Clock reads made by `fn`. */
    async reads(fn: () => Promise<unknown>): Promise<number> {
      const before = reads;
      await fn();
      return reads - before;
    },
  };
}

async function readsFor(
  t: Parameters<typeof testStore>[0],
  queued: number,
  fn: (store: Store) => Promise<unknown>,
): Promise<number> {
  const q = await queue(t, queued, 5);
  return q.reads(() => fn(q.store));
}

test("a claim walks the queue in order and stops at the first claimable task", async (t) => {
  const claim = (store: Store) =>
    store.tasks.claim({ owner: "o", token: "k", leaseMs: 60_000, pacing: PACED });
  const short = await readsFor(t, 10, claim);
  const long = await readsFor(t, 2000, claim);
  assert.ok(long <= short + 5, `a claim read the clock ${long} times with 2000 queued, ${short} with 10`);
});

test("asking when a claim could next succeed costs the same with a long queue while one is claimable", async (t) => {
  const next = (store: Store) => store.tasks.nextClaimIn({ pacing: PACED });
  const short = await readsFor(t, 10, next);
  const long = await readsFor(t, 2000, next);
  assert.ok(long <= short + 5, `nextClaimIn read the clock ${long} times with 2000 queued, ${short} with 10`);
  const q = await queue(t, 20, 5);
  assert.equal(await q.store.tasks.nextClaimIn({ pacing: PACED }), 0);
});

test("holds are computed once per account, not once per queued task", async (t) => {
  const holds = (store: Store) => store.tasks.holds(PACED);
  const short = await readsFor(t, 10, holds);
  const long = await readsFor(t, 2000, holds);
  assert.ok(long <= short + 5, `holds read the clock ${long} times with 2000 queued, ${short} with 10`);
});

test("`topn tasks` computes holds only when it lists a queued task", async (t) => {
  const { store, home } = await queue(t, 3, 1);
  let holds = 0;
  const counted: Store = {
    ...store,
    tasks: Object.assign(Object.create(store.tasks) as Store["tasks"], {
      holds: (p: PacingDefaults) => {
        holds++;
        return store.tasks.holds(p);
      },
    }),
  };
  const out: string[] = [];
  const ctx: Context = {
    env: { TOPN_HOME: home },
    databaseUrl: undefined,
    cwd: home,
    debug: false,
    out: (line) => void out.push(line),
    err: () => {},
    warn: () => {},
    home: () => home,
    store: async () => counted,
    close: async () => {},
  };
  assert.equal(await tasksCommand(ctx, { status: "failed", limit: 20 }), 0);
  assert.equal(holds, 0, "no queued task listed: no holds");
  assert.equal(await tasksCommand(ctx, { limit: 20 }), 0);
  assert.equal(holds, 1);
  assert.match(out.join("\n"), /queued/);
});
