// `topn login zhihu` as a real process against the simulator: cookie import in every format, refused
// sessions, QR login in the terminal, browser sign-in (headless), timeout; and the flows in-process for
// what a process cannot show (a closed window, an interrupt).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "puppeteer-core";
import { launchBrowser } from "../src/browser/launch.js";
import { browserLogin, LoginError } from "../src/zhihu/login.js";
import { refreshedQr } from "../src/zhihu/login-qr.js";
import { interpretMe } from "../src/zhihu/session-check.js";
import { collect, simEnv, spawnTopn, tempDir, topn, waitFor, waitForOutput } from "./helpers/run.js";
import { type AccountInfo, type Simulator, startSimulator } from "./sim/index.js";

let sim: Simulator;
before(async () => {
  sim = await startSimulator({ controlPort: false });
});
after(async () => {
  await sim?.close();
});

const envFor = (home: string): NodeJS.ProcessEnv => ({ ...simEnv(sim, home), TOPN_QR_POLL_MS: "100" });

/** Every cookie value, and the long pieces of z_c0 (a partial leak is still a leak). */
function secretsOf(cookies: ReadonlyArray<{ name: string; value: string }>): string[] {
  const out = new Set<string>();
  for (const c of cookies) {
    out.add(c.value);
    for (const piece of c.value.split(/[|:]/)) if (piece.length >= 12) out.add(piece);
  }
  return [...out];
}

/** No secret in the output, nor in any byte topn wrote outside the credential store (db, WAL, logs). */
function assertNoSecrets(home: string, texts: string[], secrets: string[]): void {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== "credentials") walk(join(dir, e.name));
      } else files.push(join(dir, e.name));
    }
  };
  if (existsSync(home)) walk(home);
  assert.ok(
    files.some((f) => f.endsWith("topn.db")),
    "the database was written",
  );
  for (const s of secrets) {
    for (const t of texts) assert.ok(!t.includes(s), `a cookie value was printed: …${s.slice(0, 6)}…`);
    const needle = Buffer.from(s);
    for (const f of files) assert.ok(!readFileSync(f).includes(needle), `a cookie value is in ${f}`);
  }
}

async function accountsJson(home: string): Promise<Array<Record<string, unknown>>> {
  const r = await topn(["accounts", "--json"], { env: envFor(home) });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
}

const sessionFile = (home: string, account: string) => join(home, "credentials", "zhihu", `${account}.json`);

/** The session was saved 0600, with the account's live z_c0. */
function assertSaved(home: string, account: string, acc: Pick<AccountInfo, "cookies">): void {
  const path = sessionFile(home, account);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(path, "utf8")) as { cookies: Array<{ name: string; value: string }> };
  const z = acc.cookies.find((c) => c.name === "z_c0")!;
  assert.equal(saved.cookies.find((c) => c.name === "z_c0")?.value, z.value);
}

describe("cookie import", { concurrency: 4 }, () => {
  const cases: Array<{
    name: string;
    file: (acc: AccountInfo) => string | null;
    stdin?: (acc: AccountInfo) => string;
  }> = [
    {
      name: "JSON export (Cookie-Editor)",
      file: (acc) =>
        JSON.stringify(
          acc.cookies.map((c) => ({
            name: c.name,
            value: c.value,
            domain: c.domain,
            hostOnly: false,
            path: c.path,
            secure: c.secure,
            httpOnly: c.httpOnly,
            sameSite: "no_restriction",
            session: false,
            expirationDate: c.expires,
          })),
        ),
    },
    {
      name: "Netscape cookies.txt",
      file: (acc) =>
        [
          "# Netscape HTTP Cookie File",
          ...acc.cookies.map(
            (c) =>
              `${c.httpOnly ? "#HttpOnly_" : ""}${c.domain}\tTRUE\t${c.path}\tTRUE\t${c.expires}\t${c.name}\t${c.value}`,
          ),
          "",
        ].join("\n"),
    },
    { name: "Cookie header", file: (acc) => `Cookie: ${acc.cookieHeader}\n` },
    { name: "header on stdin", file: () => null, stdin: (acc) => acc.cookieHeader },
  ];
  cases.forEach(({ name, file, stdin }, i) => {
    test(name, async (t) => {
      const home = tempDir(t);
      const acc = sim.createAccount(`import-${i}`);
      const text = file(acc);
      let arg = "-";
      if (text !== null) {
        arg = join(tempDir(t), "cookies.export");
        writeFileSync(arg, text);
      }
      const r = await topn(["login", "zhihu", "--cookies", arg, "--account", "work"], {
        env: envFor(home),
        ...(stdin ? { input: stdin(acc) } : {}),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^logged in as import-${i} \\(account work\\)$`, "m"));
      assertSaved(home, "work", acc);
      const [row, ...rest] = await accountsJson(home);
      assert.equal(rest.length, 0);
      assert.deepEqual(
        {
          name: row?.name,
          display_name: row?.display_name,
          uid: row?.uid,
          url_token: row?.url_token,
          session_state: row?.session_state,
          stored: row?.stored,
        },
        {
          name: "work",
          display_name: `import-${i}`,
          uid: acc.uid,
          url_token: acc.urlToken,
          session_state: "ok",
          stored: "file",
        },
      );
      assert.ok(typeof row?.logged_in_at === "string");
      assertNoSecrets(home, [r.stdout, r.stderr], secretsOf(acc.cookies));
    });
  });
});

describe("refused sessions", { concurrency: 2 }, () => {
  test("a revoked session: exit 2, nothing saved", async (t) => {
    const home = tempDir(t);
    const acc = sim.createAccount("revoked");
    sim.revokeSessions("revoked");
    const r = await topn(["login", "zhihu", "--cookies", "-"], {
      env: envFor(home),
      input: acc.cookieHeader,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /these cookies are not logged in \(Zhihu answered 401, code 100 "请求需要登录"\); export them again while logged in/,
    );
    assert.equal(existsSync(sessionFile(home, "default")), false);
    assert.deepEqual(await accountsJson(home), []);
    assertNoSecrets(home, [r.stdout, r.stderr], secretsOf(acc.cookies));
  });

  test("a made-up z_c0: exit 2, nothing saved", async (t) => {
    const home = tempDir(t);
    const z = "2|1:0|10:1735689600|4:z_c0|92:bm90LWEtcmVhbC1zZXNzaW9uLWF0LWFsbA==|0123456789abcdef";
    const r = await topn(["login", "zhihu", "--cookies", "-"], {
      env: envFor(home),
      input: `z_c0=${z}; _xsrf=abc`,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /these cookies are not logged in \(Zhihu answered 401/);
    assert.equal(existsSync(sessionFile(home, "default")), false);
    assert.deepEqual(await accountsJson(home), []);
    assertNoSecrets(home, [r.stdout, r.stderr], secretsOf([{ name: "z_c0", value: z }]));
  });
});

describe("interactive login", () => {
  // One at a time: each finds "its" QR login among the simulator's pending ones.
  test("QR code in the terminal: scanned, refreshed, confirmed", async (t) => {
    const home = tempDir(t);
    const child = spawnTopn(["login", "zhihu", "--qr", "--account", "phone"], { env: envFor(home) });
    t.after(() => void child.kill("SIGKILL"));
    const done = collect(child);
    await waitForOutput(child, /Scan this QR code with the Zhihu app[^\n]*\n[▀▄█ ]+\n/);
    // The newest pending login is the terminal's: the /signin page it visited first started its own earlier.
    const first = sim.pendingQr()[0]!;
    sim.scanQr(first);
    await waitForOutput(child, /Scanned: confirm the login on your phone\./);
    const fresh = sim.refreshQr(first);
    await waitForOutput(child, /The QR code was refreshed; scan this new one:\n[▀▄█ ]+\n/);
    sim.scanQr(fresh);
    sim.confirmQr("qr-person", fresh);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^logged in as qr-person \(account phone\)$/m);
    // The tokens are secrets until consumed: drawn, never printed.
    assert.ok(!r.stdout.includes(first) && !r.stdout.includes(fresh));
    const saved = JSON.parse(readFileSync(sessionFile(home, "phone"), "utf8")) as {
      cookies: Array<{ name: string; value: string }>;
    };
    assert.ok(saved.cookies.some((c) => c.name === "z_c0" && c.value.includes("|4:z_c0|")));
    assertNoSecrets(home, [r.stdout, r.stderr], secretsOf(saved.cookies));
    const [row] = await accountsJson(home);
    assert.equal(row?.display_name, "qr-person");
  });

  test("browser sign-in (TOPN_HEADLESS=1)", async (t) => {
    const home = tempDir(t);
    const earlier = new Set(sim.pendingQr());
    const child = spawnTopn(["login", "zhihu", "--account", "web"], { env: envFor(home) });
    t.after(() => void child.kill("SIGKILL"));
    const done = collect(child);
    await waitForOutput(child, /Sign in to Zhihu in the browser window/);
    // The person scans the /signin page's QR code with the app and confirms.
    const token = await waitFor("the sign-in page's QR login", () =>
      sim.pendingQr().find((q) => !earlier.has(q)),
    );
    sim.scanQr(token);
    sim.confirmQr("web-person", token);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^logged in as web-person \(account web\)$/m);
    const saved = JSON.parse(readFileSync(sessionFile(home, "web"), "utf8")) as {
      cookies: Array<{ name: string; value: string }>;
    };
    assertNoSecrets(home, [r.stdout, r.stderr], secretsOf(saved.cookies));
  });

  test("nobody signs in: exit 1 after --timeout, nothing saved", async (t) => {
    const home = tempDir(t);
    const started = Date.now();
    const r = await topn(["login", "zhihu", "--account", "slow", "--timeout", "1"], { env: envFor(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^topn: login timed out: nobody signed in within 1 s; run it again/m);
    assert.ok(Date.now() - started < 15_000);
    assert.equal(existsSync(sessionFile(home, "slow")), false);
    assert.deepEqual(await accountsJson(home), []);
  });
});

describe("login flows in-process", () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser({ headless: true, env: envFor("/nonexistent") });
  });
  after(async () => {
    await browser?.close();
  });

  const signinPage = () =>
    waitFor("the sign-in page", async () => {
      for (const ctx of browser.browserContexts())
        for (const p of await ctx.pages()) if (p.url().includes("/signin")) return p;
      return undefined;
    });

  test("closing the window cancels", async () => {
    const login = browserLogin({ env: envFor("/nonexistent"), print: () => {}, browser, timeoutMs: 20_000 });
    const page = await signinPage();
    await page.close();
    await assert.rejects(login, (e) => e instanceof LoginError && e.kind === "cancelled");
    assert.equal(browser.browserContexts().length, 1, "the login's incognito context is closed");
  });

  test("an abort signal interrupts", async () => {
    const ac = new AbortController();
    const login = browserLogin({ env: envFor("/nonexistent"), print: () => {}, browser, signal: ac.signal });
    await signinPage();
    ac.abort();
    await assert.rejects(login, (e) => e instanceof LoginError && e.kind === "interrupted");
    assert.equal(browser.browserContexts().length, 1);
  });

  test("new_token as an object or a plain string", () => {
    assert.deepEqual(refreshedQr({ token: "ab", Token: "ab", link: "https://x/ab" }), {
      token: "ab",
      link: "https://x/ab",
    });
    assert.equal(refreshedQr({ Token: "cd" })?.token, "cd");
    assert.deepEqual(refreshedQr("ef"), {
      token: "ef",
      link: "https://www.zhihu.com/account/scan/login/ef?/api/login/qrcode",
    });
    assert.equal(refreshedQr({}), null);
  });

  test("/api/v4/me answers", () => {
    assert.deepEqual(interpretMe(200, '{"id":"a1","uid":123,"url_token":"u","name":"N"}'), {
      ok: true,
      me: { id: "a1", uid: "123", urlToken: "u", name: "N" },
    });
    const expired = interpretMe(401, '{"error":{"code":101,"message":"身份未经过验证"}}');
    assert.equal(expired.ok === false && expired.state, "expired");
    const bot = interpretMe(
      403,
      '{"error":{"code":40352,"redirect":"https://www.zhihu.com/account/unhuman?x"}}',
    );
    assert.equal(bot.ok === false && bot.url, "https://www.zhihu.com/account/unhuman?x");
    assert.equal(interpretMe(502, "<html>bad gateway</html>").ok, false);
  });
});
