// `topn doctor` as a real process, against the simulator: all well, then each problem in turn — no browser, a
// dead session, a stuck lease (and a task running for half an hour), a corrupt copy of the database.
import assert from "node:assert/strict";
import { closeSync, copyFileSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openConnection, openSqliteStore } from "../src/store/sqlite/open.js";
import { simEnv, tempDir, topn } from "./helpers/run.js";
import { newTask } from "./helpers/store.js";
import { type Simulator, startSimulator } from "./sim/index.js";

let sim: Simulator;
before(async () => {
  sim = await startSimulator({ controlPort: false });
});
after(async () => {
  await sim?.close();
});

interface Doctor {
  ok: boolean;
  checks: Array<{ check: string; ok: boolean; detail: string; fix: string | null }>;
}

async function loggedIn(t: { after(fn: () => void | Promise<void>): void }, account: string) {
  const home = tempDir(t);
  const env = simEnv(sim, home);
  const r = await topn(["login", "zhihu", "--cookies", "-", "--account", account], {
    env,
    input: sim.createAccount(account).cookieHeader,
  });
  assert.equal(r.code, 0, r.stderr);
  return { home, env };
}

describe("topn doctor", { concurrency: false }, () => {
  test("all well: one ✓ line per check, exit 0", async (t) => {
    const { env } = await loggedIn(t, "well");
    const r = await topn(["doctor"], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => l.replace(/:.*$/, "")),
      ["✓ database", "✓ disk", "✓ leases", "✓ running", "✓ sessions", "✓ browser", "✓ account zhihu"],
    );
    assert.match(r.stdout, /^✓ database: .*topn\.db: schema \d+ of \d+, integrity ok$/m);
    assert.match(
      r.stdout,
      /^✓ sessions: TOPN_CREDENTIAL_STORE=file: sessions are kept in files only you can read under /m,
    );
    assert.match(r.stdout, /^✓ browser: .* \(.*\) launches$/m);
    assert.match(r.stdout, /^✓ account zhihu:well: session alive \(well\); not paused$/m);
  });

  test("no browser, and a dead session: ✗ with the fix, exit 1", async (t) => {
    const { env } = await loggedIn(t, "dead");
    sim.revokeSessions("dead");
    let r = await topn(["doctor"], { env });
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stdout,
      /^✗ account zhihu:dead: session expired \(Zhihu answered 401, code 100 "请求需要登录"\); fix: log in again: topn login zhihu --account dead$/m,
    );
    assert.match(r.stdout, /^✓ browser: /m);

    r = await topn(["doctor", "--json"], { env: { ...env, TOPN_BROWSER: "/nonexistent/chrome" } });
    assert.equal(r.code, 1);
    const d = JSON.parse(r.stdout) as Doctor;
    assert.equal(d.ok, false);
    const browser = d.checks.find((c) => c.check === "browser")!;
    assert.equal(browser.ok, false);
    assert.equal(browser.detail, "TOPN_BROWSER=/nonexistent/chrome does not exist");
    assert.match(browser.fix!, /^install one \(Debian\/Ubuntu: apt-get install chromium/);
    // The account found dead before is paused now: doctor says so without asking Zhihu again.
    const account = d.checks.find((c) => c.check === "account zhihu:dead")!;
    assert.deepEqual([account.ok, account.fix], [false, "topn login zhihu --account dead"]);
    assert.match(account.detail, /^paused — session expired/);
  });

  test("a stuck lease and a task running for half an hour", async (t) => {
    const { home, env } = await loggedIn(t, "lease");
    const store = openSqliteStore(home);
    t.after(() => store.close());
    const [queued] = await store.tasks.enqueue([newTask({ platform: "zhihu", account: "lease" })]);
    assert.equal(queued?.kind, "queued");
    const claimed = await store.tasks.claim({
      owner: "elsewhere:4242:abc",
      token: "t1",
      leaseMs: 1,
      pacing: { gapMs: 0, dailyCap: 0 },
    });
    assert.ok(claimed);
    const db = openConnection(join(home, "topn.db"));
    db.prepare(
      "UPDATE tasks SET started_at = started_at - 1800000, lease_expires_at = lease_expires_at - 60000",
    ).run();
    db.close();
    const r = await topn(["doctor"], { env });
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stdout,
      new RegExp(
        `^✗ leases: task ${claimed.id}'s lease expired 1m\\d*s? ago \\(runner elsewhere:4242:abc\\); fix: topn run --once recovers it`,
        "m",
      ),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `^✗ running: task ${claimed.id} has been running for 30m\\d*s? \\(runner elsewhere:4242:abc\\); fix: see where it is: topn show ${claimed.id}`,
        "m",
      ),
    );
    assert.match(r.stdout, /^✓ account zhihu:lease: session alive/m);
  });

  test("a corrupt copy of the database", async (t) => {
    const { home } = await loggedIn(t, "corrupt");
    const store = openSqliteStore(home);
    await store.tasks.enqueue(
      Array.from({ length: 100 }, (_, i) =>
        newTask({ title: `${"T".repeat(300)} ${i}`, file: `/p/c${i}.md` }),
      ),
    );
    await store.close();
    const db = openConnection(join(home, "topn.db"));
    db.pragma("wal_checkpoint(TRUNCATE)");
    const root = (
      db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").get() as { rootpage: number }
    ).rootpage;
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    db.close();
    const copy = tempDir(t);
    copyFileSync(join(home, "topn.db"), join(copy, "topn.db"));
    const fd = openSync(join(copy, "topn.db"), "r+");
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (root - 1) * pageSize);
    closeSync(fd);

    const r = await topn(["doctor"], { env: { ...simEnv(sim, copy) } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^✗ database: .*topn\.db: the integrity check failed: database disk image is malformed; fix: stop every topn, keep a copy of topn\.db, then rebuild it: sqlite3 topn\.db \.recover/m,
    );
    // What the database holds is not read: no line for leases or accounts, and no crash.
    assert.doesNotMatch(r.stdout, /leases|account /);
    assert.equal(r.stderr, "");
  });
});
