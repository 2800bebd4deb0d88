// Finding and launching the browser. findBrowser cases never launch; one launch checks headless forcing and
// the temporary profile's removal, also after topn is killed.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { candidatePaths, findBrowser } from "../src/browser/find.js";
import { browserArgs, launchBrowser, resolveRules } from "../src/browser/launch.js";
import { UsageError } from "../src/errors.js";
import { isProcessGone } from "../src/owner.js";
import { collect, ROOT, tempDir, waitFor, waitForOutput } from "./helpers/run.js";

const tmp = tempDir({ after }, "topn-browser-test-");

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
      const args = browser.process()?.spawnargs ?? [];
      assert.ok(
        args.some((a) => a.startsWith("--headless")),
        args.join(" "),
      );
      profile = browser
        .process()
        ?.spawnargs.find((a) => a.startsWith("--user-data-dir="))
        ?.slice("--user-data-dir=".length);
      assert.ok(profile?.startsWith(path.join(os.tmpdir(), "topn-chrome-")), profile);
      assert.ok(existsSync(profile!));
    } finally {
      await browser.close();
    }
    await waitFor("the profile's removal", () => !existsSync(profile!), { timeoutMs: 10_000 });
  });

  test("a killed topn takes its Chrome with it, and the next launch removes the profile it left", async (t) => {
    const temp = tempDir(t, "topn-browser-tmpdir-");
    // Profiles that must survive a sweep: a live topn's (this one), and a launch that has not named its owner yet.
    const live = path.join(temp, "topn-chrome-live");
    mkdirSync(live);
    writeFileSync(path.join(live, "topn-owner"), `${os.hostname()}:${process.pid}:test`);
    const unowned = path.join(temp, "topn-chrome-starting");
    mkdirSync(unowned);
    const profiles = () =>
      readdirSync(temp)
        .filter((n) => n.startsWith("topn-chrome-"))
        .sort();

    const launcher = (after: string) =>
      spawn(
        process.execPath,
        [
          "--import",
          import.meta.resolve("tsx"),
          "--input-type=module",
          "-e",
          `import { launchBrowser } from ${JSON.stringify(path.join(ROOT, "src/browser/launch.ts"))};
          const browser = await launchBrowser({ headless: true });
          console.log(JSON.stringify({ pid: browser.process().pid }));
          ${after}`,
        ],
        { env: { ...process.env, TMPDIR: temp }, stdio: ["ignore", "pipe", "inherit"] },
      );

    const doomed = launcher("setInterval(() => {}, 60_000);");
    const chrome = JSON.parse(await waitForOutput(doomed, /\{.*\}/)) as { pid: number };
    const left = profiles().filter((n) => n !== "topn-chrome-live" && n !== "topn-chrome-starting");
    assert.equal(left.length, 1, left.join());
    doomed.kill("SIGKILL");
    await waitFor("Chrome to exit after its topn was killed", () => isProcessGone(chrome.pid));
    assert.ok(existsSync(path.join(temp, left[0]!)), "the killed topn could not remove its profile");

    const next = collect(launcher("await browser.close();"));
    assert.equal((await next).code, 0);
    await waitFor(
      "the sweep and the second launch's own removal",
      () => profiles().join() === "topn-chrome-live,topn-chrome-starting",
    );
    assert.ok(existsSync(live) && existsSync(unowned));
  });
});
