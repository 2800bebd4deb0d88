// `topn accounts [--check]` and `topn logout` as real processes against the simulator: a session that
// Zhihu ends (or that goes missing) is found by --check with exit 1 and the fix; logout forgets both the
// session and the row.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { simEnv, tempDir, topn } from "./helpers/run.js";
import { type Simulator, startSimulator } from "./sim/index.js";

let sim: Simulator;
before(async () => {
  sim = await startSimulator({ controlPort: false });
});
after(async () => {
  await sim?.close();
});

interface Row {
  name: string;
  display_name: string | null;
  session_state: string | null;
  checked_at: string | null;
  stored: string | null;
  check?: { state: string; message: string | null };
}

test("accounts, --check, and logout", async (t) => {
  const home = tempDir(t);
  const env = simEnv(sim, home);
  env.TOPN_MACHINE = "laptop";
  const run = (...args: string[]) => topn(args, { env });
  const json = async (...args: string[]) => {
    const r = await run("accounts", "--json", ...args);
    return { ...r, rows: JSON.parse(r.stdout) as Row[] };
  };
  const byName = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.name, r]));
  const session = (name: string) => join(home, "credentials", "zhihu", `${name}.json`);

  let r = await run("accounts");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /no accounts yet: topn login zhihu/);

  const alice = sim.createAccount("alice");
  const bob = sim.createAccount("bob");
  const carol = sim.createAccount("carol");
  for (const [name, acc] of [
    ["a", alice],
    ["b", bob],
    ["c", carol],
  ] as const) {
    r = await topn(["login", "zhihu", "--cookies", "-", "--account", name], { env, input: acc.cookieHeader });
    assert.equal(r.code, 0, r.stderr);
  }

  r = await run("accounts");
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^ACCOUNT\s+USER\s+SESSION\s+CHECKED\s+EXPIRES\s+PACING\s+STORED\s+MACHINES$/);
  // Imported as a Cookie header, the session carries no expiry; pacing is off in the test environment.
  // The machine that logged in is the one that can publish for the account.
  assert.match(lines[1]!, /^a\s+alice\s+ok\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+no gap, no cap\s+file\s+laptop$/);
  assert.equal(lines.length, 4);

  // All alive.
  let j = await json("--check");
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(
    j.rows.map((x) => [x.name, x.check?.state, x.session_state]),
    [
      ["a", "ok", "ok"],
      ["b", "ok", "ok"],
      ["c", "ok", "ok"],
    ],
  );
  const checkedBefore = byName(j.rows).b!.checked_at!;
  assert.deepEqual(
    (byName(j.rows).a as unknown as { machines: { name: string }[] }).machines.map((m) => m.name),
    ["laptop"],
  );

  // Zhihu ends bob's session; carol's goes missing from the credential store.
  sim.revokeSessions("bob");
  rmSync(session("c"));
  r = await run("accounts", "--check");
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^topn: account b: session expired \(Zhihu answered 401, code 100 "请求需要登录"\); log in again: topn login zhihu --account b$/m,
  );
  assert.match(r.stderr, /^topn: account c: no saved session; log in again: topn login zhihu --account c$/m);
  assert.doesNotMatch(r.stderr, /account a\b/);
  // A dead session pauses its account (its tasks would fail the same way); a missing one does not.
  assert.match(r.stdout, /^b\s+bob\s+expired, paused\s.*\bfile\s+laptop$/m);
  assert.match(r.stdout, /^c\s+carol\s+missing\s.*\bmissing\s+laptop$/m);
  assert.match(r.stdout, /^b: paused since .* — session expired .*; fix: topn login zhihu --account b$/m);

  // The outcome is recorded: a plain listing (no live check) shows it.
  j = await json();
  assert.equal(j.code, 0);
  const rows = byName(j.rows);
  assert.equal(rows.a!.session_state, "ok");
  assert.equal(rows.b!.session_state, "expired");
  assert.equal((rows.b as Row & { paused: { kind: string } | null }).paused?.kind, "session_expired");
  assert.equal(rows.c!.session_state, "missing");
  assert.equal(rows.c!.stored, null);
  assert.ok(rows.b!.checked_at! >= checkedBefore);

  // Logging b in again revives it, and lifts the pause.
  r = await topn(["login", "zhihu", "--cookies", "-", "--account", "b"], {
    env,
    input: sim.createAccount("bob").cookieHeader,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^account b resumed; it was paused since .* — session expired/m);
  rmSync(session("a")); // keep only b alive for the next check
  r = await run("accounts", "--check");
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, /account b\b/);

  // Logout: several accounts need --account.
  r = await run("logout", "zhihu");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /several zhihu accounts \(a, b, c\); pick one with --account NAME/);

  r = await run("logout", "zhihu", "--account", "b");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^logged out: account b \(session deleted from .*b\.json\)$/m);
  assert.equal(existsSync(session("b")), false);
  r = await run("logout", "zhihu", "--account", "a");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /logged out: account a \(no saved session was left\)/);
  // With one account left, --account may be omitted.
  r = await run("logout", "zhihu");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /logged out: account c/);
  j = await json();
  assert.deepEqual(j.rows, []);
  assert.deepEqual(readdirSync(join(home, "credentials", "zhihu")), []);

  r = await run("logout", "zhihu", "--account", "nobody");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no zhihu account yet|no zhihu account named "nobody"/);

  // No cookie value ever reached the database.
  const db = readFileSync(join(home, "topn.db"));
  for (const acc of [alice, bob, carol]) {
    const z = acc.cookies.find((c) => c.name === "z_c0")!.value;
    assert.ok(!db.includes(Buffer.from(z)));
  }
});

test("accounts --json and --check with no accounts", async (t) => {
  const env = { TOPN_HOME: tempDir(t), TOPN_CREDENTIAL_STORE: "file" };
  const r = await topn(["accounts", "--check", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), []);
});
