// Unattended for months (issue 11), as real topn processes against the simulator: an account in trouble pauses
// itself after one request, its tasks wait and say why, one alert goes out, and the person's one action (log
// in again, or --resume) lets every task publish. Scheduling asks Zhihu first; watch mode re-checks sessions.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Hook, startHook } from "./helpers/hook.js";
import { collect, simEnv, spawnTopn, tempDir, topn, waitFor, waitForOutput } from "./helpers/run.js";
import { type AccountInfo, type Simulator, startSimulator } from "./sim/index.js";

let sim: Simulator;
before(async () => {
  sim = await startSimulator({ controlPort: false });
});
after(async () => {
  await sim?.close();
});

interface TaskJson {
  id: number;
  status: string;
  held: { reason: string; until: string | null } | null;
}

/** A TOPN_HOME with one logged-in account and five queued articles. */
async function queued(t: { after(fn: () => void | Promise<void>): void }, account: string) {
  const home = tempDir(t);
  const env = simEnv(sim, home);
  const run = (args: string[], input?: string) =>
    topn(args, { env, cwd: home, ...(input === undefined ? {} : { input }) });
  const acc = sim.createAccount(account);
  let r = await run(["login", "zhihu", "--cookies", "-", "--account", account], acc.cookieHeader);
  assert.equal(r.code, 0, r.stderr);
  const files: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const file = join(home, `${account}-${i}.md`);
    writeFileSync(file, `---\ntitle: ${account} ${i}\ntopics: [编程]\n---\n\nBody ${i}.\n`);
    files.push(file);
  }
  r = await run(["publish", ...files, "--no-wait"]);
  assert.equal(r.code, 0, r.stderr);
  const tasks = async () => {
    const l = await run(["tasks", "--json"]);
    assert.equal(l.code, 0, l.stderr);
    return JSON.parse(l.stdout) as TaskJson[];
  };
  assert.deepEqual(
    (await tasks()).map((x) => x.status),
    ["queued", "queued", "queued", "queued", "queued"],
  );
  return { home, env, run, tasks, acc };
}

/** Calls to Zhihu's API (not pages, preflights or paths it does not serve). */
const apiCalls = (account: string | undefined, since: number) =>
  sim
    .requests(account, { since })
    .filter((c) => !c.preflight && !c.endpoint.startsWith("page.") && c.endpoint !== "unknown");

const secrets = (acc: AccountInfo) => acc.cookies.map((c) => c.value);

function assertOneAlert(hook: Hook, account: string, kind: string, fix: RegExp, leaked: string[]) {
  assert.equal(hook.bodies.length, 1, hook.bodies.join("\n"));
  const [alert] = hook.alerts();
  assert.equal(alert!.event, "account_paused");
  assert.equal(alert!.account, account);
  assert.equal(alert!.platform, "zhihu");
  assert.equal((alert!.pause as { kind: string }).kind, kind);
  assert.match(alert!.fix as string, fix);
  assert.match(alert!.text as string, new RegExp(`^topn: account ${account} \\(zhihu\\) paused: `));
  for (const s of leaked) assert.ok(!hook.bodies[0]!.includes(s), "a cookie value is in the alert");
}

async function publishesAll(w: Awaited<ReturnType<typeof queued>>, account: string) {
  const r = await w.run(["run", "--once"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(
    (await w.tasks()).map((x) => x.status),
    Array(5).fill("succeeded"),
  );
  assert.equal(sim.articles({ account }).filter((a) => a.state === "published").length, 5);
}

describe("an account in trouble pauses itself", { concurrency: false }, () => {
  test("a revoked session: one request, five tasks held, one alert; logging in again publishes all five", async (t) => {
    const w = await queued(t, "revoked");
    const hook = await startHook(t);
    const mark = sim.lastSeq;
    sim.revokeSessions("revoked");

    let r = await w.run(["run", "--once", "--notify", hook.url]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      apiCalls(undefined, mark).map((c) => [c.endpoint, c.status]),
      [["me", 401]],
      "one request to Zhihu, refused",
    );
    const tasks = await w.tasks();
    assert.deepEqual(
      tasks.map((x) => x.status),
      Array(5).fill("queued"),
    );
    for (const x of tasks)
      assert.match(
        x.held?.reason ?? "",
        /^account paused — the Zhihu session of account revoked has expired.*; fix: topn login zhihu --account revoked$/,
      );
    assertOneAlert(
      hook,
      "revoked",
      "session_expired",
      /^topn login zhihu --account revoked$/,
      secrets(w.acc),
    );

    r = await w.run(["tasks"]);
    assert.match(r.stdout, /held: account paused, session expired; fix: topn login zhihu --account revoked/);
    r = await w.run(["accounts"]);
    assert.match(r.stdout, /^revoked\s+revoked\s+expired, paused\s/m, "the failed session is marked");

    r = await w.run(
      ["login", "zhihu", "--cookies", "-", "--account", "revoked"],
      sim.createAccount("revoked").cookieHeader,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^account revoked resumed; it was paused since .* — the Zhihu session of account revoked has expired/m,
    );
    await publishesAll(w, "revoked");
  });

  test("a 40352 verification: one request, five tasks held, one alert; --resume publishes all five", async (t) => {
    const w = await queued(t, "flagged");
    const hook = await startHook(t);
    const mark = sim.lastSeq;
    sim.faults.set({ rateLimit: { mode: "40352", endpoints: ["draft.create"], accounts: ["flagged"] } });
    t.after(() => sim.faults.clear());

    let r = await w.run(["run", "--once", "--notify", hook.url]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      sim.writes("flagged", { since: mark }).map((c) => [c.endpoint, c.status]),
      [["draft.create", 403]],
      "one write, refused; never retried",
    );
    const tasks = await w.tasks();
    assert.deepEqual(
      tasks.map((x) => x.status),
      Array(5).fill("queued"),
    );
    for (const x of tasks)
      assert.match(
        x.held?.reason ?? "",
        /40352.*fix: open the link .*unhuman.*then: topn accounts --resume flagged$/,
      );
    assertOneAlert(
      hook,
      "flagged",
      "needs_verification",
      /unhuman.*then: topn accounts --resume flagged$/,
      [],
    );

    sim.faults.clear();
    r = await w.run(["accounts", "--resume", "flagged"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^account flagged resumed; it was paused since .* — Zhihu wants a person to pass its security check/m,
    );
    assert.match(r.stdout, /^5 queued task\(s\) of flagged run with the next: topn run --once$/m);
    await publishesAll(w, "flagged");
  });

  test("a 429 storm: one request, five tasks held until the back-off ends, one alert; --resume publishes all five", async (t) => {
    const w = await queued(t, "busy");
    const hook = await startHook(t);
    const mark = sim.lastSeq;
    sim.faults.set({ rateLimit: { mode: "429", accounts: ["busy"], retryAfterSec: 600 } });
    t.after(() => sim.faults.clear());

    let r = await w.run(["run", "--once", "--notify", hook.url]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      apiCalls("busy", mark).map((c) => [c.endpoint, c.status]),
      [["me", 429]],
    );
    const tasks = await w.tasks();
    assert.deepEqual(
      tasks.map((x) => x.status),
      Array(5).fill("queued"),
    );
    for (const x of tasks) {
      assert.match(x.held?.reason ?? "", /^account paused until .* — Zhihu is limiting the request rate/);
      // Retry-After (600 s) is the floor of the account's pause.
      assert.ok(Date.parse(x.held!.until!) >= Date.now() + 590_000, x.held!.until!);
    }
    assertOneAlert(
      hook,
      "busy",
      "rate_limited",
      /^it resumes by itself; to try sooner: topn accounts --resume busy$/,
      [],
    );
    r = await w.run(["tasks"]);
    assert.match(
      r.stdout,
      /held: account paused, rate limited until \d{4}-\d\d-\d\d \d\d:\d\d; fix: it resumes by itself/,
    );

    sim.faults.clear();
    r = await w.run(["accounts", "--resume", "busy"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^account busy resumed; it was paused since .*, due to lift at .* — Zhihu is limiting/m,
    );
    await publishesAll(w, "busy");
  });
});

describe("scheduling asks Zhihu first", { concurrency: false }, () => {
  test("unknown topics (with suggestions) and a foreign column refuse the batch; a dead session refuses it too", async (t) => {
    const home = tempDir(t);
    const env = simEnv(sim, home);
    const run = (args: string[], input?: string) =>
      topn(args, { env, cwd: home, ...(input === undefined ? {} : { input }) });
    const acc = sim.createAccount("sched");
    let r = await run(["login", "zhihu", "--cookies", "-", "--account", "sched"], acc.cookieHeader);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(
      join(home, "good.md"),
      "---\ntitle: Good\ntopics: [编程]\ncolumn: sched的专栏\n---\n\nBody.\n",
    );
    writeFileSync(join(home, "also.md"), "---\ntitle: Also good\ntopics: [Python]\n---\n\nBody.\n");
    writeFileSync(
      join(home, "bad.md"),
      "---\ntitle: Bad\ntopics: [编程, pyth]\ncolumn: Nope\n---\n\nBody.\n",
    );

    const mark = sim.lastSeq;
    r = await run(["publish", "good.md", "bad.md", "--at", "2099-01-01 09:00"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^topn: bad\.md: Zhihu has no topic named "pyth"; did you mean: Python\? fix topics: in the front matter$/m,
    );
    assert.match(
      r.stderr,
      /^topn: bad\.md: the account has no column named "Nope"; its columns: sched的专栏$/m,
    );
    assert.match(r.stderr, /^topn: nothing was enqueued$/m);
    assert.doesNotMatch(r.stderr, /good\.md/);
    assert.deepEqual(sim.writes(undefined, { since: mark }), [], "nothing was written on Zhihu");
    r = await run(["tasks", "--json"]);
    assert.deepEqual(JSON.parse(r.stdout), []);

    r = await run(["publish", "good.md", "also.md", "--every", "2h", "--at", "2099-01-01 09:00", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const scheduled = JSON.parse(r.stdout) as Array<{ run_at: string; scheduled: boolean }>;
    assert.deepEqual(
      scheduled.map((s) => s.scheduled),
      [true, true],
    );
    assert.equal(Date.parse(scheduled[1]!.run_at) - Date.parse(scheduled[0]!.run_at), 2 * 3_600_000);

    sim.revokeSessions("sched");
    writeFileSync(join(home, "later.md"), "---\ntitle: Later\ntopics: [编程]\n---\n\nBody.\n");
    r = await run(["publish", "later.md", "--at", "2099-01-02 09:00"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^topn: cannot schedule for account sched: the Zhihu session of account sched has expired or was logged out \(HTTP 401, code 100: 请求需要登录\); log in again: topn login zhihu --account sched$/m,
    );
    // A file that names its article is asked about even when published now: refused with the cause, not a crash.
    writeFileSync(
      join(home, "named.md"),
      "---\ntitle: Named\ntopics: [编程]\nzhihu: 1913000000000000001\n---\n\nBody.\n",
    );
    r = await run(["publish", "named.md"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^topn: named\.md:\d+: could not check article 1913000000000000001 with Zhihu: the Zhihu session of account sched has expired.*; log in again: topn login zhihu --account sched$/m,
    );
    r = await run(["tasks", "--json"]);
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, 2);
  });
});

describe("session health", { concurrency: false }, () => {
  test("watch mode re-checks sessions: one soon ending is warned about, a dead one pauses its account after one request", async (t) => {
    const home = tempDir(t);
    const env = { ...simEnv(sim, home), TOPN_SESSION_CHECK_MS: "1000", TOPN_POLL_MS: "50" };
    const hook = await startHook(t);
    // A cookie export whose z_c0 ends in 3 days and 1 hour.
    const soon = sim.createAccount("soon");
    const ends = Date.now() / 1000 + 3 * 86_400 + 3600;
    const exported = soon.cookies.map((c) => ({
      ...c,
      expirationDate: c.name === "z_c0" ? ends : c.expires,
    }));
    const file = join(home, "cookies.json");
    writeFileSync(file, JSON.stringify(exported));
    let r = await topn(["login", "zhihu", "--cookies", file, "--account", "soon"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: this session expires in 3 days \(.*\) by its cookies; log in again before then/,
    );
    r = await topn(["login", "zhihu", "--cookies", "-", "--account", "other"], {
      env,
      input: sim.createAccount("other").cookieHeader,
    });
    assert.equal(r.code, 0, r.stderr);

    r = await topn(["accounts", "--json"], { env });
    const rows = JSON.parse(r.stdout) as Array<{ name: string; days_left: number | null; expiring: boolean }>;
    assert.deepEqual(
      rows.map((x) => [x.name, x.days_left, x.expiring]),
      [
        ["other", null, false],
        ["soon", 3, true],
      ],
    );
    r = await topn(["accounts"], { env });
    assert.match(r.stdout, /^soon\s+soon\s+ok\s+\S+ \S+\s+in 3d\s/m);
    assert.match(
      r.stderr,
      /^topn: warning: the session of account soon expires in 3 days \(.*\); log in again before then: topn login zhihu --account soon$/m,
    );

    const child = spawnTopn(["run", "--notify", hook.url], { env });
    t.after(() => void child.kill("SIGKILL"));
    const done = collect(child);
    await waitForOutput(
      child,
      /session check {2}account soon: alive, but the session expires in 3 days .*; log in again before then: topn login zhihu --account soon\n/,
    );
    await waitFor("the expiry alert", () =>
      hook.alerts().some((a) => a.event === "session_expiring" && a.account === "soon"),
    );

    const mark = sim.lastSeq;
    sim.revokeSessions("soon");
    await waitForOutput(
      child,
      /session check {2}account soon: session expired \(Zhihu answered 401, code 100 "请求需要登录"\); paused — fix: topn login zhihu --account soon\n/,
      { timeoutMs: 30_000 },
    );
    await waitFor("the pause alert", () =>
      hook.alerts().some((a) => a.event === "account_paused" && a.account === "soon"),
    );
    // Three more checks of `other`, each a second after the last: `soon` fell due again meanwhile, and was left alone.
    let seen = 0;
    await waitFor(
      "three more checks of the other account",
      () => {
        seen = sim.requests("other", { since: mark }).filter((c) => c.endpoint === "me").length;
        return seen >= 3;
      },
      { timeoutMs: 30_000 },
    );
    child.kill("SIGTERM");
    const end = await done;
    assert.equal(end.code, 130, end.stderr);
    const revokedChecks = sim
      .requests(undefined, { since: mark })
      .filter((c) => c.endpoint === "me" && c.status === 401);
    assert.equal(revokedChecks.length, 1, "one request for the dead session, then none");
    r = await topn(["accounts", "--json"], { env });
    const soonRow = (
      JSON.parse(r.stdout) as Array<{ name: string; session_state: string; paused: { kind: string } | null }>
    ).find((x) => x.name === "soon")!;
    assert.equal(soonRow.session_state, "expired");
    assert.equal(soonRow.paused?.kind, "session_expired");
    assert.equal(
      hook.alerts().filter((a) => a.account === "soon").length,
      2,
      "one of each, not one per check",
    );
    for (const s of secrets(soon)) assert.ok(!hook.bodies.join("").includes(s));
  });

  test("accounts --check: a dead session pauses its account and alerts by webhook and command; a paused one is not asked again", async (t) => {
    const home = tempDir(t);
    const env = simEnv(sim, home);
    const hook = await startHook(t);
    const acc = sim.createAccount("checked");
    let r = await topn(["login", "zhihu", "--cookies", "-", "--account", "checked"], {
      env,
      input: acc.cookieHeader,
    });
    assert.equal(r.code, 0, r.stderr);
    sim.revokeSessions("checked");
    const out = join(home, "alert.json");
    r = await topn(["accounts", "--check", "--notify", hook.url, "--notify-cmd", `cat > '${out}'`], { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^topn: account checked: session expired \(Zhihu answered 401, code 100 "请求需要登录"\); log in again: topn login zhihu --account checked$/m,
    );
    assert.match(r.stdout, /^checked\s+checked\s+expired, paused\s/m);
    assert.match(
      r.stdout,
      /^checked: paused since .* — session expired .*; fix: topn login zhihu --account checked$/m,
    );
    assert.equal(hook.bodies.length, 1);
    assert.equal(readFileSync(out, "utf8"), hook.bodies[0], "the command gets the same JSON on stdin");
    const alert = hook.alerts()[0]!;
    assert.equal(alert.event, "account_paused");
    assert.equal((alert.session as { state: string }).state, "expired");
    for (const s of secrets(acc)) assert.ok(!hook.bodies[0]!.includes(s));

    const mark = sim.lastSeq;
    r = await topn(["accounts", "--check", "--notify", hook.url], { env });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^topn: account checked: paused \(not checked\) — session expired .*; fix: topn login zhihu --account checked$/m,
    );
    assert.deepEqual(apiCalls(undefined, mark), [], "nothing asked for a paused account");
    assert.equal(hook.bodies.length, 1, "no second alert");
  });
});
