// Finding and launching the browser. findBrowser cases never launch; one launch checks headless forcing and
// the temporary profile's removal.

import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { candidatePaths, findBrowser } from "../src/browser/find.js";
import { browserArgs, launchBrowser, resolveRules } from "../src/browser/launch.js";
import { UsageError } from "../src/errors.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "topn-browser-test-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, mode: number): string {
  const p = path.join(tmp, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, "#!/bin/sh\n");
  chmodSync(p, mode);
  return p;
}

const isUsage = (pattern: RegExp) => (error: unknown) =>
  error instanceof UsageError && pattern.test(error.message) && /TOPN_BROWSER/.test(error.hint ?? "");

describe("findBrowser", () => {
  test("TOPN_BROWSER wins when it is an executable file", () => {
    const exe = file("my-chrome", 0o755);
    assert.equal(findBrowser({ TOPN_BROWSER: exe }), exe);
  });

  test("TOPN_BROWSER missing, not executable, or a folder: a UsageError naming it", () => {
    const missing = path.join(tmp, "nope");
    assert.throws(
      () => findBrowser({ TOPN_BROWSER: missing }),
      isUsage(/TOPN_BROWSER=.*nope does not exist/),
    );
    // No execute bit at all: refused even for root.
    const plain = file("plain", 0o644);
    assert.throws(
      () => findBrowser({ TOPN_BROWSER: plain }),
      isUsage(/TOPN_BROWSER=.*plain is not an executable/),
    );
    assert.throws(() => findBrowser({ TOPN_BROWSER: tmp }), isUsage(/is not an executable/));
  });

  test("falls back to the usual install paths (Chromium is at /usr/bin/chromium here)", () => {
    assert.equal(findBrowser({ PATH: "" }, "linux"), "/usr/bin/chromium");
  });

  test("Windows: Program Files and LocalAppData, whatever the variable's case", () => {
    const root = path.join(tmp, "pf");
    const paths = candidatePaths({ ProgramFiles: root, LOCALAPPDATA: "L:\\Apps" }, "win32");
    assert.ok(paths.includes(path.win32.join(root, "Google\\Chrome\\Application\\chrome.exe")));
    assert.ok(paths.includes("L:\\Apps\\Microsoft\\Edge\\Application\\msedge.exe"));
    assert.ok(paths.includes(path.win32.join(root, "Chromium\\Application\\chrome.exe")));
  });

  test("macOS: the app bundles in /Applications and ~/Applications", () => {
    const paths = candidatePaths({ HOME: "/Users/me" }, "darwin");
    assert.ok(paths.includes("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"));
    assert.ok(paths.includes("/Users/me/Applications/Chromium.app/Contents/MacOS/Chromium"));
  });

  test("nothing found: UsageError with the install hint", () => {
    assert.throws(
      () => findBrowser({ PROGRAMFILES: path.join(tmp, "empty") }, "win32"),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message === "no Chrome, Chromium or Edge found" &&
        error.hint ===
          "install one (Debian/Ubuntu: apt-get install chromium; macOS: brew install --cask chromium) or set TOPN_BROWSER=/path/to/chrome",
    );
  });
});

describe("launch flags", () => {
  test("TOPN_ZHIHU_RESOLVE maps zhihu.com, *.zhihu.com, *.zhimg.com and nothing else", () => {
    assert.equal(resolveRules({}), null);
    assert.equal(
      resolveRules({ TOPN_ZHIHU_RESOLVE: "127.0.0.1:8443" }),
      "MAP zhihu.com 127.0.0.1:8443,MAP *.zhihu.com 127.0.0.1:8443,MAP *.zhimg.com 127.0.0.1:8443",
    );
    assert.match(resolveRules({ TOPN_ZHIHU_RESOLVE: "sim.local:443" })!, /^MAP zhihu\.com sim\.local:443,/);
    for (const bad of ["127.0.0.1", "127.0.0.1:", ":80", "host:99999", "host:0", "a b:1", "http://x:1"]) {
      assert.throws(
        () => resolveRules({ TOPN_ZHIHU_RESOLVE: bad }),
        (e: unknown) => e instanceof UsageError && e.message.includes("TOPN_ZHIHU_RESOLVE"),
        bad,
      );
    }
  });

  test("closed-network flags always; --no-sandbox only as root; certificate trust only in simulator mode", () => {
    const normal = browserArgs({}, 1000);
    for (const flag of [
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      "--disable-gpu",
    ]) {
      assert.ok(normal.includes(flag), flag);
    }
    assert.ok(!normal.includes("--no-sandbox"));
    assert.ok(!normal.some((a) => a.startsWith("--host-resolver-rules") || a.includes("certificate")));
    assert.ok(browserArgs({}, 0).includes("--no-sandbox"));
    const sim = browserArgs({ TOPN_ZHIHU_RESOLVE: "127.0.0.1:9" }, 1000);
    assert.ok(
      sim.includes(
        "--host-resolver-rules=MAP zhihu.com 127.0.0.1:9,MAP *.zhihu.com 127.0.0.1:9,MAP *.zhimg.com 127.0.0.1:9",
      ),
    );
    assert.ok(sim.includes("--ignore-certificate-errors"));
  });
});

describe("launchBrowser", () => {
  test("an unusable TOPN_BROWSER fails before anything starts", async () => {
    await assert.rejects(
      launchBrowser({ headless: true, env: { TOPN_BROWSER: path.join(tmp, "gone") } }),
      (e: unknown) => e instanceof UsageError,
    );
  });

  test("TOPN_HEADLESS=1 forces headless; the temporary profile is removed when the browser goes", async () => {
    const browser = await launchBrowser({ headless: false, env: { ...process.env, TOPN_HEADLESS: "1" } });
    let profile: string | undefined;
    try {
      assert.match(await browser.userAgent(), /HeadlessChrome/);
      profile = browser
        .process()
        ?.spawnargs.find((a) => a.startsWith("--user-data-dir="))
        ?.slice("--user-data-dir=".length);
      assert.ok(profile?.startsWith(path.join(os.tmpdir(), "topn-chrome-")), profile);
      assert.ok(existsSync(profile!));
    } finally {
      await browser.close();
    }
    const deadline = Date.now() + 5000;
    while (existsSync(profile!) && Date.now() < deadline) await sleep(20);
    assert.equal(existsSync(profile!), false);
  });
});
