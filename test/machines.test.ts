// Many machines, one queue (issue 10): real `topn run` processes, each with its own TOPN_HOME (its own
// sessions), sharing one PostgreSQL. The fake platform plays the sessions a machine holds (FAKE_ACCOUNTS)
// and a skewed clock plays a machine whose time is off (skew-clock.mjs, loaded into the real process).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Store } from "../src/store/types.js";
import { type FakeBehaviour, type FakeLogLine, readFakeLog } from "./fixtures/fake-platform.js";
import { engines } from "./helpers/engines.js";
import { adminQuery } from "./helpers/pg.js";
import { collect, FAKE_PLATFORM, type Result, spawnTopn, tempDir, waitFor } from "./helpers/run.js";
import { enqueueIds, newTask } from "./helpers/store.js";

const postgres = (await engines()).find((e) => e.name === "postgres")!;
const SKEW = fileURLToPath(new URL("./fixtures/skew-clock.mjs", import.meta.url));

interface Machine {
  name: string;
  accounts: string[];
  pid: number;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<Result>;
}

function shared(t: { after(fn: () => unknown): void }, url: string) {
  const dir = tempDir(t, "topn-machines-");
  const log = join(dir, "fake.log");
  const script = join(dir, "script.json");
  const machines: Machine[] = [];
  t.after(() => {
    // A failed assertion must not leave runners behind.
    for (const m of machines) m.kill("SIGKILL");
  });
  return {
    log: () => readFakeLog(log),
    script: (s: Record<string, FakeBehaviour>) => writeFileSync(script, JSON.stringify(s)),
    /** A machine: its own TOPN_HOME, the sessions of `accounts`, the shared database. */
    start(name: string, accounts: string[], extra: NodeJS.ProcessEnv = {}): Machine {
      const child = spawnTopn(["run", "--concurrency", "4", "--grace", "5"], {
        tsx: true,
        env: {
          TOPN_HOME: tempDir(t, `topn-${name}-`),
          TOPN_DATABASE_URL: url,
          TOPN_MACHINE: name,
          TOPN_EXTRA_PLATFORM: FAKE_PLATFORM,
          FAKE_ACCOUNTS: accounts.join(","),
          FAKE_LOG: log,
          FAKE_SCRIPT: script,
          TOPN_POLL_MS: "50",
          TOPN_LEASE_MS: "2000",
          // No pacing: back-to-back publishes of one account are what the test is about.
          TOPN_GAP: "0",
          TOPN_CAP: "0",
          ...extra,
        },
      });
      const m: Machine = {
        name,
        accounts,
        pid: child.pid!,
        kill: (signal) => void (child.exitCode === null && child.signalCode === null && child.kill(signal)),
        exited: collect(child),
      };
      machines.push(m);
      return m;
    },
  };
}

/** Each attempt's [start, end] from the fake platform's log; an attempt cut short by a kill ends at the kill. */
function attempts(lines: FakeLogLine[], killed: Map<number, number>) {
  const open = new Map<string, FakeLogLine>();
  const out: { task: number; account: string; pid: number; start: number; end: number; finished: boolean }[] =
    [];
  for (const l of lines) {
    const key = `${l.task}/${l.attempt}/${l.pid}`;
    if (l.event === "start") open.set(key, l);
    else {
      const s = open.get(key)!;
      open.delete(key);
      out.push({
        task: l.task,
        account: l.account,
        pid: l.pid,
        start: s.at,
        end: l.at,
        finished: l.event === "end",
      });
    }
  }
  for (const s of open.values()) {
    const end = killed.get(s.pid);
    assert.ok(
      end !== undefined,
      `task ${s.task} attempt ${s.attempt} never ended, and its runner was not killed`,
    );
    out.push({ task: s.task, account: s.account, pid: s.pid, start: s.at, end, finished: false });
  }
  return out;
}

async function statuses(store: Store) {
  const counts: Record<string, number> = {};
  for (const task of await store.tasks.list()) counts[task.status] = (counts[task.status] ?? 0) + 1;
  return counts;
}

test("three machines, one PostgreSQL: 60 articles over 4 accounts, one machine kill -9-ed mid-publish", {
  skip: postgres.skip,
  timeout: 120_000,
}, async (t) => {
  const { store, url } = await postgres.open(t);
  const w = shared(t, url!);
  const accounts = ["a", "b", "c", "d"];
  const files: Record<string, FakeBehaviour> = {};
  const tasks = Array.from({ length: 60 }, (_, i) => {
    files[`${i}.md`] = { delayMs: 200 };
    return newTask({ account: accounts[i % 4]!, file: `/posts/${i}.md` });
  });
  w.script(files);
  const ids = await enqueueIds(store, tasks);
  // Every account is held by two machines, so any one of them may die.
  const m1 = w.start("m1", ["a", "b", "c"]);
  const m2 = w.start("m2", ["b", "c", "d"]);
  const m3 = w.start("m3", ["a", "d"]);
  const byPid = new Map([m1, m2, m3].map((m) => [m.pid, m]));

  // Kill m1 while one of its jobs is between its draft and its publish.
  // Kill m1 once it has done some work and holds a job past its draft (the database says so).
  const drafted = await waitFor(
    "m1 to be between a draft and its publish",
    async () => {
      if (w.log().filter((l) => l.pid === m1.pid && l.event === "start").length < 3) return undefined;
      const running = await store.tasks.list({ status: "running" });
      const mine = running.filter((r) => r.leaseOwner?.split(":")[1] === String(m1.pid) && r.draftId);
      return mine.length > 0 ? mine.map((r) => r.id) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 5 },
  );
  // m1's jobs end no later than this: nothing of it runs after the signal, and nothing else can take its
  // accounts before it is gone (same clock: all "machines" share this host).
  const killedAt = Date.now();
  m1.kill("SIGKILL");
  const killed = await m1.exited;
  assert.equal(killed.signal, "SIGKILL");

  await waitFor("every task to succeed", async () => (await statuses(store))["succeeded"] === 60, {
    timeoutMs: 90_000,
    intervalMs: 100,
  });
  m2.kill("SIGTERM");
  m3.kill("SIGTERM");
  for (const m of [m2, m3]) assert.equal((await m.exited).code, 130, `${m.name} stopped on SIGTERM`);

  const log = w.log();
  const jobs = attempts(log, new Map([[m1.pid, killedAt]]));
  // m1 ran up to three accounts at once: the kill cut each of those jobs short.
  const interrupted = jobs.filter((j) => !j.finished);
  assert.ok(interrupted.length >= 1, "the kill cut a job short");
  for (const j of interrupted) assert.equal(byPid.get(j.pid), m1);

  // Every article once.
  const published = jobs.filter((j) => j.finished).map((j) => j.task);
  assert.deepEqual(
    [...published].sort((x, y) => x - y),
    ids,
    "each task published exactly once",
  );
  for (const cut of interrupted) {
    const redo = jobs.find((j) => j.task === cut.task && j.finished)!;
    assert.notEqual(byPid.get(redo.pid), m1, "another machine finished what m1 started");
  }
  for (const id of drafted) {
    const resumed = log.find((l) => l.task === id && l.event === "start" && l.pid !== m1.pid);
    assert.equal(resumed?.resumed, true, `task ${id} resumed m1's draft instead of making a second article`);
  }

  // Tasks only claimed by machines holding their account's session.
  for (const j of jobs) {
    const m = byPid.get(j.pid)!;
    assert.ok(m.accounts.includes(j.account), `${m.name} ran task ${j.task} of account ${j.account}`);
  }
  // No account with two publishes at once, across machines.
  for (const acct of accounts) {
    const mine = jobs.filter((j) => j.account === acct).sort((x, y) => x.start - y.start);
    for (let i = 1; i < mine.length; i++) {
      assert.ok(
        mine[i]!.start >= mine[i - 1]!.end,
        `account ${acct} ran two jobs at once: ${JSON.stringify([mine[i - 1], mine[i]])}`,
      );
    }
  }
  // All three did work, and accounts ran in parallel.
  assert.equal(new Set(jobs.map((j) => j.pid)).size, 3);
  assert.ok(
    jobs.some((x) => jobs.some((y) => x.account !== y.account && x.start < y.end && y.start < x.end)),
    "different accounts ran in parallel",
  );
  // Nothing stuck, and each killed attempt was counted on the task that met it.
  assert.deepEqual(await statuses(store), { succeeded: 60 });
  for (const cut of interrupted) {
    const victim = (await store.tasks.get(cut.task))!;
    assert.equal(victim.attempts, 2);
    const events = await store.tasks.events(victim.id);
    assert.ok(events.some((e) => /^recovered: runner .* stopped during attempt 1/.test(e.message)));
  }
  // Each machine told the others which accounts it can publish for (its sessions stayed in its TOPN_HOME).
  const hosts = await adminQuery(
    url!,
    "SELECT host, string_agg(account, ',' ORDER BY account) AS accounts FROM hosts GROUP BY host ORDER BY host",
  );
  assert.deepEqual(hosts.rows, [
    { host: "m1", accounts: "a,b,c" },
    { host: "m2", accounts: "b,c,d" },
    { host: "m3", accounts: "a,d" },
  ]);
});

test("a machine whose clock is an hour off claims by the database's clock: nothing early, no lease stolen", {
  skip: postgres.skip,
  timeout: 60_000,
}, async (t) => {
  const { store, url } = await postgres.open(t);
  const w = shared(t, url!);
  w.script({ "long.md": { delayMs: 4_000 }, "later.md": { delayMs: 0 }, "now.md": { delayMs: 0 } });
  const dbNow = await store.tasks.now();
  const [long] = await enqueueIds(store, [newTask({ account: "a", file: "/posts/long.md" })]);
  const behind = w.start("behind", ["a"], {
    NODE_OPTIONS: `--import ${SKEW}`,
    FAKE_CLOCK_SKEW_MS: "-3600000",
  });
  await waitFor(
    "the slow machine to claim the long task",
    async () => (await store.tasks.get(long!))?.status === "running",
  );
  // A machine an hour ahead: by its own clock, the lease above expired long ago and "later" is due.
  const later = dbNow + 3_000;
  const [laterId, nowId] = await enqueueIds(store, [
    newTask({ account: "b", file: "/posts/later.md", runAt: later }),
    newTask({ account: "b", file: "/posts/now.md" }),
  ]);
  const ahead = w.start("ahead", ["a", "b"], {
    NODE_OPTIONS: `--import ${SKEW}`,
    FAKE_CLOCK_SKEW_MS: "3600000",
  });
  await waitFor("every task to succeed", async () => (await statuses(store))["succeeded"] === 3, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  ahead.kill("SIGTERM");
  behind.kill("SIGTERM");
  await Promise.all([ahead.exited, behind.exited]);

  const starts = w.log().filter((l) => l.event === "start");
  assert.equal(
    starts.filter((l) => l.task === long).length,
    1,
    "the long task ran once: its lease was not taken",
  );
  assert.equal(starts.find((l) => l.task === long)!.pid, behind.pid);
  const longTask = (await store.tasks.get(long!))!;
  assert.equal(longTask.attempts, 1);
  assert.ok(!(await store.tasks.events(long!)).some((e) => /recovered/.test(e.message)));
  const claimedAt = (await store.tasks.events(laterId!)).find((e) => e.status === "running")!.at;
  assert.ok(claimedAt >= later, `"later" was claimed ${later - claimedAt} ms before it was due`);
  assert.equal((await store.tasks.get(nowId!))!.attempts, 1);
  assert.ok(
    starts.some((l) => l.task === laterId && l.pid === ahead.pid),
    "the machine ahead did claim (it is not just waiting)",
  );
});
