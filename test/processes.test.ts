// Real topn processes on a real SQLite file: racing runners, kill -9 mid-job, SIGTERM grace.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openStore } from "../src/store/db.js";
import type { NewTask } from "../src/store/tasks.js";
import { type FakeBehaviour, type FakeLogLine, readFakeLog } from "./fixtures/fake-platform.js";
import { collect, FAKE_PLATFORM, spawnTopn, tempDir, topn, waitFor, waitForOutput } from "./helpers/run.js";

function world(t: { after(fn: () => void): void }) {
  const home = tempDir(t);
  const log = join(home, "fake.log");
  const scriptPath = join(home, "script.json");
  const env = {
    TOPN_HOME: home,
    TOPN_EXTRA_PLATFORM: FAKE_PLATFORM,
    FAKE_LOG: log,
    FAKE_SCRIPT: scriptPath,
    TOPN_POLL_MS: "50",
  };
  const store = openStore(home);
  t.after(() => store.close());
  return {
    home,
    env,
    store,
    log: () => readFakeLog(log),
    script: (s: Record<string, FakeBehaviour>) => writeFileSync(scriptPath, JSON.stringify(s)),
    enqueue: (tasks: Partial<NewTask>[]) =>
      store.tasks.enqueue(
        tasks.map((over, i) => ({
          platform: "fake",
          account: "a",
          file: `/posts/${i}.md`,
          contentHash: "h",
          title: `T${i}`,
          runAt: Date.now() - 1,
          maxAttempts: 3,
          ...over,
        })),
      ),
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

test("two runners race for the same tasks: each runs once, accounts stay serial, accounts run in parallel", async (t) => {
  const w = world(t);
  const files: Record<string, FakeBehaviour> = {};
  for (let i = 0; i < 24; i++) files[`${i}.md`] = { delayMs: 40, barrierPids: 2 };
  w.script(files);
  const ids = w.enqueue(Array.from({ length: 24 }, (_, i) => ({ account: ["a", "b", "c"][i % 3]! })));
  const [r1, r2] = await Promise.all([
    topn(["run", "--once", "--concurrency", "2"], { env: w.env, tsx: true }),
    topn(["run", "--once", "--concurrency", "2"], { env: w.env, tsx: true }),
  ]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r2.code, 0, r2.stderr);
  for (const id of ids) assert.equal(w.store.tasks.get(id)!.status, "succeeded");
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
});

test("kill -9 in the middle of a job: the next run recovers it, resumes its draft, counts the attempt", async (t) => {
  const w = world(t);
  w.script({ "0.md": { delayMs: 60_000 } });
  const [id] = w.enqueue([{}]);
  const child = spawnTopn(["run"], { env: w.env, tsx: true });
  const exited = collect(child);
  await waitFor("the job to start", () => w.log().some((l) => l.event === "start"));
  await waitFor("the draft checkpoint", () => w.store.tasks.get(id!)!.draftId);
  child.kill("SIGKILL");
  const killed = await exited;
  assert.equal(killed.signal, "SIGKILL");
  const stranded = w.store.tasks.get(id!)!;
  assert.equal(stranded.status, "running", "a killed runner leaves its lease behind");

  w.script({ "0.md": { delayMs: 0 } });
  const next = await topn(["run", "--once"], { env: w.env, tsx: true });
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stdout, /recovered/);
  const done = w.store.tasks.get(id!)!;
  assert.equal(done.status, "succeeded");
  assert.equal(done.attempts, 2, "the killed attempt is counted");
  const starts = w.log().filter((l) => l.event === "start");
  assert.equal(starts.length, 2);
  assert.equal(starts[1]!.draftId, "draft-1", "the second attempt resumed the first attempt's draft");
  assert.equal(w.log().filter((l) => l.event === "end").length, 1, "published once");
  const messages = w.store.tasks.events(id!).map((e) => e.message);
  assert.ok(
    messages.some((m) => /recovered: runner .* stopped during attempt 1/.test(m)),
    messages.join("\n"),
  );
});

test("SIGTERM: the running job finishes within the grace period, nothing new starts", async (t) => {
  const w = world(t);
  w.script({ "0.md": { delayMs: 800 }, "1.md": { delayMs: 0 } });
  const [id, other] = w.enqueue([{}, {}]);
  const child = spawnTopn(["run", "--grace", "20"], { env: w.env, tsx: true });
  const exited = collect(child);
  await waitFor("the job to start", () => w.log().some((l) => l.event === "start"));
  child.kill("SIGTERM");
  const r = await exited;
  assert.equal(r.code, 130);
  assert.match(r.stderr, /SIGTERM: no new tasks will start/);
  assert.equal(w.store.tasks.get(id!)!.status, "succeeded");
  assert.equal(w.store.tasks.get(other!)!.status, "queued");
});

test("SIGTERM past the grace period hands the task back; a second signal exits at once", async (t) => {
  const w = world(t);
  w.script({ "0.md": { delayMs: 60_000 } });
  const [id] = w.enqueue([{}]);
  const child = spawnTopn(["run", "--grace", "0"], { env: w.env, tsx: true });
  const exited = collect(child);
  await waitFor("the job to start", () => w.log().some((l) => l.event === "start"));
  child.kill("SIGTERM");
  const r = await exited;
  assert.equal(r.code, 130);
  const back = w.store.tasks.get(id!)!;
  assert.equal(back.status, "queued");
  assert.equal(back.attempts, 0, "an interrupted attempt is given back");
  assert.match(w.store.tasks.events(id!).at(-1)!.message, /handed back/);

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
  assert.equal(w.store.tasks.get(id!)!.status, "queued");
});

test("run --once exit codes: 1 when a task failed, 75 when one waits for a retry", async (t) => {
  const w = world(t);
  w.script({ "0.md": { outcomes: ["permanent"] }, "1.md": { outcomes: ["transient"] } });
  w.enqueue([{ account: "a" }, { account: "b" }]);
  const r = await topn(["run", "--once"], { env: { ...w.env, TOPN_RETRY_BASE_MS: "60000" }, tsx: true });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /#1 .*failed\s+rejected at publish: the fake platform rejected it/);
  const w2 = world(t);
  w2.script({ "0.md": { outcomes: ["transient"] } });
  w2.enqueue([{}]);
  const r2 = await topn(["run", "--once"], { env: { ...w2.env, TOPN_RETRY_BASE_MS: "60000" }, tsx: true });
  assert.equal(r2.code, 75, r2.stdout + r2.stderr);
  assert.match(r2.stdout, /will retry/);
});
