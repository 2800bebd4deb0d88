// The keychain test needs a Secret Service. CI runs this file as:
//   dbus-run-session -- sh -c 'echo pw | gnome-keyring-daemon --unlock --components=secrets;
//     node --test --import tsx test/credentials.test.ts'
// There (CI=true) a missing keychain fails the test; elsewhere it is skipped with the reason.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FileCredentialStore } from "../src/credentials/file.js";
import { openCredentialStore, type StoredSession } from "../src/credentials/index.js";
import { UsageError } from "../src/errors.js";
import { ROOT, tempDir } from "./helpers/run.js";

const POSIX = process.platform !== "win32";

const session = (tag: string): StoredSession => ({
  savedAt: "2026-01-02T03:04:05.000Z",
  cookies: [
    {
      name: "z_c0",
      value: `2|1:0|10:1735689600|4:z_c0|8:ZmFrZQ==|fake-${tag}`,
      domain: ".zhihu.com",
      path: "/",
    },
    { name: "_xsrf", value: `fake-xsrf-${tag}`, domain: "www.zhihu.com", path: "/", httpOnly: false },
  ],
});

const tmp = tempDir({ after }, "topn-credentials-");
const freshHome = (name: string) => {
  const home = join(tmp, name);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { mode: 0o700 }); // as resolveHome leaves it
  return home;
};

/**
 * Runs a scenario in a fresh node process (the keychain probe and the fallback warning are once per
 * process) with the environment given, and returns what it printed as JSON.
 */
function child(env: NodeJS.ProcessEnv, body: string): Promise<Record<string, unknown>> {
  const code = `
    import { openCredentialStore } from ${JSON.stringify(join(ROOT, "src/credentials/index.ts"))};
    const warnings = [];
    const warn = (m) => warnings.push(m);
    const home = process.env.TEST_HOME;
    const probeTimeoutMs = Number(process.env.TEST_PROBE_MS || 3000);
    const out = { warnings };
    try {
      ${body}
    } catch (e) {
      out.error = { name: e.name, message: e.message, hint: e.hint };
    }
    process.stdout.write(JSON.stringify(out));`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", code],
      { cwd: ROOT, env, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

/** This process's environment without a D-Bus session bus, so no Secret Service can answer. */
function noBus(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env["DBUS_SESSION_BUS_ADDRESS"];
  delete env["TOPN_CREDENTIAL_STORE"];
  return { ...env, ...extra };
}

describe("file fallback when no keychain answers", () => {
  test("no D-Bus at all: file store, one warning for two opens, 0600 file, round trip", async () => {
    const home = freshHome("nobus");
    const r = await child(
      noBus({ TEST_HOME: home }),
      `
      const t0 = performance.now();
      const a = await openCredentialStore({ home, warn, probeTimeoutMs });
      out.openMs = performance.now() - t0;
      const b = await openCredentialStore({ home, warn, probeTimeoutMs });
      out.kinds = [a.kind, b.kind];
      out.before = await a.get("zhihu", "work");
      await a.set("zhihu", "work", ${JSON.stringify(session("one"))});
      const { statSync } = await import("node:fs");
      out.mode = statSync(home + "/credentials/zhihu/work.json").mode & 0o777;
      out.got = await b.get("zhihu", "work");
      out.deleted = [await a.delete("zhihu", "work"), await a.delete("zhihu", "work")];
      out.after = await b.get("zhihu", "work");`,
    );
    assert.equal(r["error"], undefined);
    assert.deepEqual(r["kinds"], ["file", "file"]);
    const warnings = r["warnings"] as string[];
    assert.equal(warnings.length, 1, `one warning only: ${JSON.stringify(warnings)}`);
    assert.match(
      warnings[0]!,
      /^no OS keychain answered \(no D-Bus session bus \(DBUS_SESSION_BUS_ADDRESS is not set\)\)/,
    );
    assert.ok(warnings[0]!.includes(join(home, "credentials")));
    assert.match(warnings[0]!, /TOPN_CREDENTIAL_STORE=file/);
    assert.equal(r["before"], null);
    if (POSIX) assert.equal(r["mode"], 0o600);
    assert.deepEqual(r["got"], session("one"));
    assert.deepEqual(r["deleted"], [true, false]);
    assert.equal(r["after"], null);
  });

  test("a bus address that leads nowhere: the probe fails fast and says why", async (t) => {
    const home = freshHome("deadbus");
    const r = await child(
      noBus({ TEST_HOME: home, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(tmp, "no-such-bus")}` }),
      `
      const t0 = performance.now();
      out.kind = (await openCredentialStore({ home, warn, probeTimeoutMs })).kind;
      out.openMs = performance.now() - t0;`,
    );
    t.diagnostic(`probe against a missing bus socket: ${Math.round(r["openMs"] as number)} ms`);
    assert.equal(r["kind"], "file");
    const warnings = r["warnings"] as string[];
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /no OS keychain answered \(.*Failed to connect to socket/);
  });

  test("a D-Bus that accepts but never answers costs the probe timeout, not a hang", async (t) => {
    const sock = join(tmp, "hung-bus.sock");
    const conns = new Set<import("node:net").Socket>();
    const server: Server = createServer((c) => {
      conns.add(c);
      c.on("close", () => conns.delete(c));
      c.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const home = freshHome("hungbus");
      const r = await child(
        noBus({ TEST_HOME: home, DBUS_SESSION_BUS_ADDRESS: `unix:path=${sock}`, TEST_PROBE_MS: "1000" }),
        `
        const t0 = performance.now();
        const s = await openCredentialStore({ home, warn, probeTimeoutMs });
        out.openMs = performance.now() - t0;
        out.kind = s.kind;`,
      );
      t.diagnostic(
        `open with a hung D-Bus and a 1000 ms probe timeout: ${Math.round(r["openMs"] as number)} ms`,
      );
      assert.equal(r["kind"], "file");
      assert.match(
        (r["warnings"] as string[])[0]!,
        /no answer from the Secret Service over D-Bus within 1000 ms/,
      );
      assert.ok((r["openMs"] as number) < 3000, `took ${r["openMs"]} ms`);
    } finally {
      for (const c of conns) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("TOPN_CREDENTIAL_STORE=keychain without a keychain is a clear UsageError", async () => {
    const r = await child(
      noBus({ TEST_HOME: freshHome("forced"), TOPN_CREDENTIAL_STORE: "keychain" }),
      "await openCredentialStore({ home, warn, probeTimeoutMs });",
    );
    const error = r["error"] as { name: string; message: string; hint: string };
    assert.equal(error.name, "UsageError");
    assert.match(
      error.message,
      /^TOPN_CREDENTIAL_STORE=keychain, but no OS keychain answered: no D-Bus session bus/,
    );
    assert.match(error.hint, /gnome-keyring.*TOPN_CREDENTIAL_STORE=file/);
    assert.deepEqual(r["warnings"], []);
  });
});

describe("TOPN_CREDENTIAL_STORE", () => {
  test("any other value is a UsageError naming the variable and the allowed values", async () => {
    for (const value of ["keyring", "FILE", "none"]) {
      await assert.rejects(
        openCredentialStore({ home: freshHome("bad"), env: { TOPN_CREDENTIAL_STORE: value } }),
        (e: unknown) => {
          assert.ok(e instanceof UsageError);
          assert.equal(e.message, `TOPN_CREDENTIAL_STORE is "${value}"`);
          assert.match(e.hint ?? "", /TOPN_CREDENTIAL_STORE to keychain or file/);
          return true;
        },
      );
    }
  });

  test("=file: no probe, no warning, files only the owner can read", async () => {
    const home = freshHome("forcedfile");
    const warnings: string[] = [];
    const store = await openCredentialStore({
      home,
      env: { TOPN_CREDENTIAL_STORE: "file" },
      warn: (m) => warnings.push(m),
    });
    assert.equal(store.kind, "file");
    await store.set("zhihu", "Work/../Me", session("a"));
    await store.set("zhihu", "work", session("b"));
    assert.deepEqual(await store.get("zhihu", "Work/../Me"), session("a"));
    assert.deepEqual(
      await store.get("zhihu", "work"),
      session("b"),
      "names differing only in case stay apart",
    );
    const dir = join(home, "credentials", "zhihu");
    assert.deepEqual(readdirSync(dir).sort(), ["%57ork%2F..%2F%4De.json", "work.json"]);
    if (POSIX) {
      assert.equal(statSync(join(home, "credentials")).mode & 0o777, 0o700);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600);
    }
    assert.deepEqual(warnings, []);
  });
});

describe("FileCredentialStore", () => {
  const warnings: string[] = [];
  const store = () => new FileCredentialStore(freshHome("files"), (m) => warnings.push(m));

  test("writes by atomic rename: a new inode each time, no temp file left, old file kept on failure", async () => {
    const s = store();
    await s.set("zhihu", "work", session("old"));
    const path = s.pathOf("zhihu", "work");
    const ino = statSync(path).ino;
    await s.set("zhihu", "work", session("new"));
    assert.notEqual(statSync(path).ino, ino, "replaced by rename, not rewritten in place");
    assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), session("new"));

    const bad = { savedAt: "x", cookies: [{ name: "z_c0", value: 1n }] } as unknown as StoredSession;
    await assert.rejects(s.set("zhihu", "work", bad), /BigInt/);
    assert.deepEqual(await s.get("zhihu", "work"), session("new"));
    assert.deepEqual(readdirSync(join(s.dir, "zhihu")), ["work.json"]);
  });

  test("a file others can read is fixed to 0600, with a warning", {
    skip: !POSIX && "POSIX modes only",
  }, async () => {
    const s = store();
    await s.set("zhihu", "work", session("m"));
    const path = s.pathOf("zhihu", "work");
    chmodSync(path, 0o644);
    warnings.length = 0;
    assert.deepEqual(await s.get("zhihu", "work"), session("m"));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /was readable by other users \(mode 644\); its mode is now 600$/);
  });

  test("a corrupt file reads as no session, with a warning that does not show its content", async () => {
    const s = store();
    await s.set("zhihu", "work", session("c"));
    writeFileSync(s.pathOf("zhihu", "work"), '{"savedAt": 1, "cookies": "z_c0=fake-secret"}', {
      mode: 0o600,
    });
    warnings.length = 0;
    assert.equal(await s.get("zhihu", "work"), null);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /is unreadable; log in to zhihu again/);
    assert.ok(!warnings[0]!.includes("fake-secret"));
  });
});

describe("OS keychain (Secret Service)", () => {
  test("set/get/delete round trip under service topn:zhihu, adopting a file session", async (t) => {
    const home = freshHome("keychain");
    const warnings: string[] = [];
    const env = { ...process.env };
    delete env["TOPN_CREDENTIAL_STORE"];
    const started = performance.now();
    const store = await openCredentialStore({ home, env, warn: (m) => warnings.push(m) });
    const openMs = Math.round(performance.now() - started);
    if (store.kind !== "keychain") {
      const why = warnings[0] ?? "no keychain";
      if (process.env["CI"] === "true") assert.fail(`CI=true but the keychain is not usable: ${why}`);
      t.skip(
        `no Secret Service answers here (${why}); run under dbus-run-session with gnome-keyring, see the top of this file`,
      );
      return;
    }
    t.diagnostic(`keychain probe + open: ${openMs} ms`);
    const { Entry, findCredentials } = await import("@napi-rs/keyring");
    const account = `test-${process.pid}-${Date.now()}`;
    const raw = new Entry("topn:zhihu", account, { linux: { store: "secret-service" } });
    try {
      assert.equal(await store.get("zhihu", account), null);
      await store.set("zhihu", account, session("k"));
      assert.deepEqual(await store.get("zhihu", account), session("k"));
      // Visible to anyone looking at the keychain under the documented service name.
      assert.deepEqual(JSON.parse(raw.getPassword() ?? "null"), session("k"));
      assert.ok(findCredentials("topn:zhihu").some((c) => c.account === account));
      assert.deepEqual(readdirSync(home), [], "nothing written to the fallback folder");

      assert.equal(await store.delete("zhihu", account), true);
      assert.equal(await store.delete("zhihu", account), false);
      assert.equal(await store.get("zhihu", account), null);
      assert.equal(raw.getPassword(), null);
      assert.ok(!findCredentials("topn:zhihu").some((c) => c.account === account));

      // A session saved while no keychain answered moves into the keychain when read.
      const file = new FileCredentialStore(home, (m) => warnings.push(m));
      await file.set("zhihu", account, session("f"));
      assert.deepEqual(await store.get("zhihu", account), session("f"));
      assert.deepEqual(JSON.parse(raw.getPassword() ?? "null"), session("f"));
      assert.equal(await file.get("zhihu", account), null, "the file copy is gone");
      assert.deepEqual(warnings, []);
    } finally {
      raw.deleteCredential();
    }
  });
});
