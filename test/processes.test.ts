// Real topn processes on a real database, SQLite and PostgreSQL: racing runners, kill -9 mid-job, SIGTERM
// grace, SIGSTOP past the lease, a database that refuses the outcome.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { NewTask } from "../src/store/types.js";
import { type FakeBehaviour, type FakeLogLine, readFakeLog } from "./fixtures/fake-platform.js";
import { bothEngines, type Engine, engines } from "./helpers/engines.js";
import { collect, FAKE_PLATFORM, spawnTopn, topn, waitFor, waitForOutput } from "./helpers/run.js";

const ENGINES = await engines();
const both = (name: string, fn: (t: TestContext, e: Engine) => Promise<void>) =>
  bothEngines(ENGINES, name, fn);

async function world(t: TestContext, e: Engine) {
  const { store, home, env: storeEnv, blockWrites } = await e.open(t);
  const log = join(home, "fake.log");
  const scriptPath = join(home, "script.json");
  const env = {
    ...storeEnv,
    TOPN_EXTRA_PLATFORM: FAKE_PLATFORM,
    FAKE_LOG: log,
    FAKE_SCRIPT: scriptPath,
    TOPN_POLL_MS: "50",
    // No pacing: these tests are about the queue, not about sparing an account.
    TOPN_GAP: "0",
    TOPN_CAP: "0",
  };
  return {
    home,
    env,
    store,
    blockWrites,
    log: () => readFakeLog(log),
    script: (s: Record<string, FakeBehaviour>) => writeFileSync(scriptPath, JSON.stringify(s)),
    enqueue: async (tasks: Partial<NewTask>[]) =>
      (
        await store.tasks.enqueue(
          tasks.map((over, i) => ({
            platform: "fake",
            account: "a",
            file: `/posts/${i}.md`,
            contentHash: "h",
            digest: "d",
            title: `T${i}`,
            runAt: null,
            maxAttempts: 3,
            ...over,
          })),
        )
      ).map((o) => (o.kind === "queued" ? o.task.id : -1)),
    task: async (id: number) => (await store.tasks.get(id))!,
    events: async (id: number) => (await store.tasks.events(id)).map((e) => e.message),
  };
}

/** [start, end] of each job from the fake platform's log. */
function intervals(lines: FakeLogLine[]) {
  const open = new Map<string, FakeLogLine>();
  const out: { task: number; account: string; pid: number; start: number; end: number }[] = [];
  for (const l of lines) {
    const key = `${l.task}/${l.attempt}`;
    if (l.event === "start") open.set(key, l);
    else {
      const s = open.get(key)!;
      out.push({ task: l.task, account: l.account, pid: l.pid, start: s.at, end: l.at });
    }
  }
  return out;
}

both(
  "two runners race for the same tasks: each runs once, accounts stay serial, accounts run in parallel",
  async (t, e) => {
    const w = await world(t, e);
    const files: Record<string, FakeBehaviour> = {};
    for (let i = 0; i < 24; i++) files[`${i}.md`] = { delayMs: 40, barrierPids: 2 };
    w.script(files);
    const ids = await w.enqueue(Array.from({ length: 24 }, (_, i) => ({ account: ["a", "b", "c"][i % 3]! })));
    const [r1, r2] = await Promise.all([
      topn(["run", "--once", "--concurrency", "2"], { env: w.env, tsx: true }),
      topn(["run", "--once", "--concurrency", "2"], { env: w.env, tsx: true }),
    ]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    for (const id of ids) assert.equal((await w.task(id!)).status, "succeeded");
    const jobs = intervals(w.log());
    assert.equal(jobs.length, ids.length, "every task ran exactly once");
    assert.deepEqual(
      [...new Set(jobs.map((j) => j.task))].sort((a, b) => a - b),
      ids,
    );
    assert.equal(new Set(jobs.map((j) => j.pid)).size, 2, "both runners did work");
    for (const acct of ["a", "b", "c"]) {
      const mine = jobs.filter((j) => j.account === acct).sort((x, y) => x.start - y.start);
      for (let i = 1; i < mine.length; i++) {
        assert.ok(mine[i]!.start >= mine[i - 1]!.end, `account ${acct} ran two jobs at once`);
      }
    }
    const overlapping = jobs.some((x) =>
      jobs.some((y) => x.account !== y.account && x.start < y.end && y.start < x.end),
    );
    assert.ok(overlapping, "different accounts ran in parallel");
  },
);

both(
  "kill -9 in the middle of a job: the next run recovers it, resumes its draft, counts the attempt",
  async (t, e) => {
    const w = await world(t, e);
    w.script({ "0.md": { delayMs: 60_000 } });
    const [id] = await w.enqueue([{}]);
    const child = spawnTopn(["run"], { env: w.env, tsx: true });
    const exited = collect(child);
    await waitFor("the job to start", () => w.log().some((l) => l.event === "start"));
    await waitFor("the draft checkpoint", async () => (await w.task(id!)).draftId);
    child.kill("SIGKILL");
    const killed = await exited;
    assert.equal(killed.signal, "SIGKILL");
    const stranded = await w.task(id!);
    assert.equal(stranded.status, "running", "a killed runner leaves its lease behind");

    w.script({ "0.md": { delayMs: 0 } });
    const next = await topn(["run", "--once"], { env: w.env, tsx: true });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /recovered/);
    const done = await w.task(id!);
    assert.equal(done.status, "succeeded");
    assert.equal(done.attempts, 2, "the killed attempt is counted");
    const starts = w.log().filter((l) => l.event === "start");
    assert.equal(starts.length, 2);
    assert.equal(starts[1]!.draftId, "draft-1", "the second attempt resumed the first attempt's draft");
    assert.equal(w.log().filter((l) => l.event === "end").length, 1, "published once");
    const messages = await w.events(id!);
    assert.ok(
      messages.some((m) => /recovered: runner .* stopped during attempt 1/.test(m)),
      messages.join("\n"),
    );
  },
);

both("SIGTERM: the running job finishes within the grace period, nothing new starts", async (t, e) => {
  const w = await world(t, e);
  w.script({ "0.md": { delayMs: 800 }, "1.md": { delayMs: 0 } });
  const [id, other] = await w.enqueue([{}, {}]);
  const child = spawnTopn(["run", "--grace", "20"], { env: w.env, tsx: true });
  const exited = collect(child);
  await waitFor("the job to start", () => w.log().some((l) => l.event === "start"));
  child.kill("SIGTERM");
  const r = await exited;
  assert.equal(r.code, 130);
  assert.match(r.stderr, /SIGTERM: no new tasks will start/);
  assert.equal((await w.task(id!)).status, "succeeded");
  assert.equal((await w.task(other!)).status, "queued");
});

both("SIGTERM past the grace period hands the task back; a second signal exits at once", async (t, e) => {
  const w = await world(t, e);
  w.script({ "0.md": { delayMs: 60_000 } });
  const [id] = await w.enqueue([{}]);
  const child = spawnTopn(["run", "--grace", "0"], { env: w.env, tsx: true });
  const exited = collect(child);
  await waitFor("the job to start", () => w.log().some((l) => l.event === "start"));
  child.kill("SIGTERM");
  const r = await exited;
  assert.equal(r.code, 130);
  const back = await w.task(id!);
  assert.equal(back.status, "queued");
  assert.equal(back.attempts, 0, "an interrupted attempt is given back");
  assert.match((await w.events(id!)).at(-1)!, /handed back/);

  w.script({ "0.md": { delayMs: 60_000, ignoreAbort: true } });
  const stubborn = spawnTopn(["run", "--grace", "60"], { env: w.env, tsx: true });
  const gone = collect(stubborn);
  await waitFor("the job to start again", () => w.log().filter((l) => l.event === "start").length === 2);
  const noticed = waitForOutput(stubborn, /SIGTERM: no new tasks/, { stream: "stderr" });
  stubborn.kill("SIGTERM");
  await noticed;
  const t0 = Date.now();
  stubborn.kill("SIGTERM");
  const r2 = await gone;
  assert.ok(Date.now() - t0 < 5_000, "the second signal exits at once");
  assert.equal(r2.code, 130);
  assert.equal((await w.task(id!)).status, "queued");
});

both("run --once exit codes: 1 when a task failed, 75 when one waits for a retry", async (t, e) => {
  const w = await world(t, e);
  w.script({ "0.md": { outcomes: ["permanent"] }, "1.md": { outcomes: ["transient"] } });
  await w.enqueue([{ account: "a" }, { account: "b" }]);
  const r = await topn(["run", "--once"], { env: { ...w.env, TOPN_RETRY_BASE_MS: "60000" }, tsx: true });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /#1 .*failed\s+rejected at publish: the fake platform rejected it/);
  const w2 = await world(t, e);
  w2.script({ "0.md": { outcomes: ["transient"] } });
  await w2.enqueue([{}]);
  const r2 = await topn(["run", "--once"], { env: { ...w2.env, TOPN_RETRY_BASE_MS: "60000" }, tsx: true });
  assert.equal(r2.code, 75, r2.stdout + r2.stderr);
  assert.match(r2.stdout, /will retry/);
});

/** Intervals of each account's jobs never overlap: one request in flight per account. */
function assertSerialPerAccount(lines: FakeLogLine[]) {
  const jobs = intervals(lines);
  for (const acct of new Set(jobs.map((j) => j.account))) {
    const mine = jobs.filter((j) => j.account === acct).sort((x, y) => x.start - y.start);
    for (let i = 1; i < mine.length; i++) {
      assert.ok(mine[i]!.start >= mine[i - 1]!.end, `account ${acct} ran two jobs at once`);
    }
  }
}

both(
  "a runner frozen past its lease (SIGSTOP) does not recover its own job or start a second one of the account",
  async (t, e) => {
    const w = await world(t, e);
    w.script({ "0.md": { delayMs: 1_500 }, "1.md": { delayMs: 0 } });
    const [first, second] = await w.enqueue([{}, {}]);
    const env = { ...w.env, TOPN_LEASE_MS: "400" };
    const child = spawnTopn(["run", "--once"], { env, tsx: true });
    t.after(() => {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    });
    const exited = collect(child);
    await waitFor("the first job's draft", async () => (await w.task(first!)).draftId);
    child.kill("SIGSTOP");
    // Three leases long: by the clock the lease has expired.
    await waitFor("the lease to expire", async () => {
      const t0 = await w.task(first!);
      return t0.leaseExpiresAt !== null && t0.leaseExpiresAt < Date.now() - 800;
    });
    child.kill("SIGCONT");
    const r = await exited;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await w.task(first!)).status, "succeeded");
    assert.equal((await w.task(second!)).status, "succeeded");
    assert.doesNotMatch(r.stdout, /recovered|abandoned/);
    const ends = w.log().filter((l) => l.event === "end");
    assert.deepEqual(
      ends.map((l) => l.task),
      [first, second],
      "each published once, in order",
    );
    assertSerialPerAccount(w.log());
  },
);

both(
  "two runners, one frozen past its lease: the other takes the task over, the frozen one records nothing",
  async (t, e) => {
    const w = await world(t, e);
    w.script({ "0.md": { delayMs: 1_200 } });
    const [id] = await w.enqueue([{}]);
    const env = { ...w.env, TOPN_LEASE_MS: "400" };
    const frozen = spawnTopn(["run", "--once"], { env, tsx: true });
    t.after(() => {
      frozen.kill("SIGCONT");
      frozen.kill("SIGKILL");
    });
    const frozenExit = collect(frozen);
    // Frozen between two writes: a process stopped inside a write transaction would hold SQLite's lock.
    await waitFor("the draft checkpoint", async () => (await w.task(id!)).draftId);
    frozen.kill("SIGSTOP");
    await waitFor("the lease to expire", async () => {
      const t0 = await w.task(id!);
      return t0.leaseExpiresAt !== null && t0.leaseExpiresAt < Date.now();
    });
    w.script({ "0.md": { delayMs: 0 } });
    const other = await topn(["run", "--once"], { env, tsx: true });
    assert.equal(other.code, 0, other.stdout + other.stderr);
    assert.match(other.stdout, /recovered/);
    frozen.kill("SIGCONT");
    const r = await frozenExit;
    assert.equal((await w.task(id!)).status, "succeeded");
    assert.equal((await w.task(id!)).attempts, 2);
    assert.match(r.stdout, /abandoned/, "the woken runner saw it lost the task");
    const ends = w.log().filter((l) => l.event === "end");
    assert.equal(ends.length, 1, "published once");
    assert.equal(ends[0]!.attempt, 2, "by the runner that took it over");
  },
);

both(
  "a database that refuses the outcome: topn exits 74 naming the unrecorded task; the next run settles it",
  async (t, e) => {
    const w = await world(t, e);
    w.script({ "0.md": { delayMs: 400 } });
    const [id] = await w.enqueue([{}]);
    const env = { ...w.env, TOPN_BUSY_TIMEOUT_MS: "50", TOPN_OUTCOME_RETRY_MS: "1500" };
    const child = spawnTopn(["run", "--once"], { env, tsx: true });
    const exited = collect(child);
    await waitFor("the job to start", () => w.log().some((l) => l.event === "start"));
    await waitFor("the draft checkpoint", async () => (await w.task(id!)).draftId);
    // Another process takes the write lock and keeps it past the runner's patience.
    const release = await w.blockWrites();
    const r = await exited;
    await release();
    assert.equal(r.code, 74, r.stdout + r.stderr);
    const lines = r.stderr
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("topn:"));
    assert.ok(
      lines.some((l) =>
        new RegExp(`^topn: task ${id} is unrecorded: .*next \`topn run\` settles it`).test(l),
      ),
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.equal((await w.task(id!)).status, "running", "not recorded as failed");
    const next = await topn(["run", "--once"], { env: w.env, tsx: true });
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.equal((await w.task(id!)).status, "succeeded");
  },
);
