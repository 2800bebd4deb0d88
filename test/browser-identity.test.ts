// topn's browser looks like the person's own Chrome: no "HeadlessChrome" in the User-Agent or the client
// hints of any request it makes (publishing with an image upload to OSS, session checks, both login flows),
// with the installed browser's real version. Proven from the simulator's request log.

import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { browserIdentity, closeWithPages, openPage, productBrand, rebrand } from "../src/browser/identity.js";
import { findBrowser } from "../src/browser/find.js";
import { readKnownBrowser, rememberBrowser } from "../src/browser/identity-cache.js";
import { browserArgs, launchBrowser, versionOf } from "../src/browser/launch.js";
import { browserLogin } from "../src/zhihu/login.js";
import { qrLogin } from "../src/zhihu/login-qr.js";
import { checkSessions } from "../src/zhihu/session-check.js";
import { makePng } from "./fixtures/article/images.js";
import { tempDir, waitFor } from "./helpers/run.js";
import { zhihuWorld } from "./helpers/zhihu.js";

describe("the browser's identity", { concurrency: false }, () => {
  test("every request of publishing, session checks and logins presents the installed browser's version", async (t) => {
    const w = await zhihuWorld(t);
    const env = { ...w.env, TOPN_HEADLESS: "1", TOPN_QR_POLL_MS: "100" };

    // The installed browser's own version, as it reports itself.
    const probe = await launchBrowser({ headless: true, env });
    const version = await versionOf(probe); // e.g. 156.0.8078.108
    await probe.close();
    const major = version.split(".")[0]!;

    // Publishing, with an image uploaded to OSS.
    const file = w.writeArticle("ua.md", "---\ntitle: UA\ntopics: [编程]\n---\n\n![x](x.png)\n", {
      "x.png": makePng(3, 3),
    });
    const id = await w.enqueue(file, "work");
    assert.deepEqual((await w.run([id])).succeeded, [id], w.task(id).errorMessage ?? "");
    // The page's own view agrees with what went over the wire.
    const lease = await w.pool.acquire("work", []);
    const page = await lease.page();
    const seen = (await page.evaluate(
      `(async () => ({ ua: navigator.userAgent, hints: await navigator.userAgentData.getHighEntropyValues(["fullVersionList"]) }))()`,
    )) as {
      ua: string;
      hints: { brands: Array<{ brand: string }>; fullVersionList: Array<{ version: string }> };
    };
    lease.release();

    // A session check and both login flows, each in a browser of its own.
    const checks = await checkSessions({
      env,
      sessions: [{ account: "work", cookies: w.accounts.get("work")!.cookies }],
    });
    assert.equal(checks[0]?.state, "ok");
    let drawn: () => void = () => {};
    const shown = new Promise<void>((resolve) => {
      drawn = resolve;
    });
    const qr = qrLogin({
      env,
      timeoutMs: 30_000,
      print: (line) => {
        if (/Scan this QR code/.test(line)) drawn();
      },
    });
    await shown;
    // The newest pending login is the terminal's (the /signin page it visited started one earlier).
    const token = w.sim.pendingQr()[0]!;
    w.sim.scanQr(token);
    w.sim.confirmQr("qr-person", token);
    assert.equal((await qr).me.name, "qr-person");
    const before = new Set(w.sim.pendingQr());
    const web = browserLogin({ env, print: () => {}, timeoutMs: 30_000 });
    const signin = await waitFor("the sign-in page's QR login", () =>
      w.sim.pendingQr().find((q) => !before.has(q)),
    );
    w.sim.scanQr(signin);
    w.sim.confirmQr("web-person", signin);
    assert.equal((await web).me.name, "web-person");

    const log = w.sim.requests();
    for (const endpoint of ["publish", "image.upload", "me", "qr.poll", "page.signin"]) {
      assert.ok(
        log.some((r) => r.endpoint === endpoint),
        `${endpoint} was called`,
      );
    }
    for (const r of log) {
      const what = `${r.method} ${r.host}${r.path}: ${r.userAgent} / ${r.secChUa}`;
      assert.ok(!/headless/i.test(r.userAgent), what);
      assert.match(
        r.userAgent,
        new RegExp(`^Mozilla/5\\.0 .* Chrome/${major}\\.0\\.0\\.0 Safari/537\\.36$`),
        what,
      );
      // Chrome sends no client hints on CORS preflights, with or without a window.
      if (r.preflight) assert.equal(r.secChUa, null, what);
      else assert.match(r.secChUa ?? "", new RegExp(`;v="${major}"`), what);
      assert.ok(!/headless/i.test(r.secChUa ?? ""), what);
    }
    assert.ok(!seen.ua.includes("Headless"), seen.ua);
    assert.ok(log.some((r) => r.userAgent === seen.ua));
    assert.ok(!seen.hints.brands.some((b) => /headless/i.test(b.brand)));
    assert.ok(
      seen.hints.fullVersionList.some((b) => b.version === version),
      JSON.stringify(seen.hints),
    );
  });

  test("what a page still sends as it is left or closed (beacons, keepalive fetches) keeps the identity", async (t) => {
    // Zhihu's pages, like most, report on pagehide. Before launch.ts kept one document per frame, every one of
    // these sent while navigating away said HeadlessChrome: the page's session had moved to the new document.
    // topn's flags without its --user-agent (which would cover such requests with the User-Agent alone), so
    // that only the pages' override speaks here, with all its client hints.
    const w = await zhihuWorld(t);
    const { default: puppeteer } = await import("puppeteer-core");
    const browser = await puppeteer.launch({
      executablePath: findBrowser(w.env),
      headless: true,
      args: browserArgs(w.env),
      pipe: true,
      acceptInsecureCerts: true,
    });
    t.after(() => closeWithPages(browser));
    const context = await browser.createBrowserContext();
    const page = await openPage(context);
    const reportOnHide = (tag: string) =>
      page.evaluate(`addEventListener("pagehide", () => {
        fetch("/leaving/${tag}-fetch", { method: "POST", keepalive: true });
        navigator.sendBeacon("/leaving/${tag}-beacon");
      })`);
    // Within www.zhihu.com, to the column's host (same site, another origin), and by closing the page.
    await page.goto("https://www.zhihu.com/robots.txt", { waitUntil: "load" });
    await reportOnHide("same-origin");
    await page.goto("https://www.zhihu.com/robots.txt?again", { waitUntil: "load" });
    await reportOnHide("same-site");
    await page.goto("https://zhuanlan.zhihu.com/write", { waitUntil: "load" });
    await reportOnHide("closed");
    await closeWithPages(context);

    const sent = await waitFor("all six reports", () => {
      const reports = w.sim.requests().filter((r) => r.path.startsWith("/leaving/"));
      return reports.length === 6 ? reports : undefined;
    });
    const headless = sent.filter((r) => /headless/i.test(r.userAgent)).map((r) => `${r.host}${r.path}`);
    assert.deepEqual(headless, [], "these went out as the headless browser");
    for (const r of sent) assert.match(r.userAgent, / Chrome\/\d+\.0\.0\.0 /, r.path);
  });

  test("what no page's session sees (workers, a fetch a service worker passes on) presents the installed browser too", async (t) => {
    const w = await zhihuWorld(t);
    const browser = await launchBrowser({ headless: true, env: { ...w.env, TOPN_HEADLESS: "1" } });
    t.after(() => closeWithPages(browser));
    const major = (await versionOf(browser)).split(".")[0]!;
    const page = await openPage(await browser.createBrowserContext());
    await page.goto("https://www.zhihu.com/robots.txt", { waitUntil: "load" });
    await page.evaluate(`(async () => {
      await navigator.serviceWorker.register("/__sim/service-worker.js", { scope: "/" });
      while (!navigator.serviceWorker.controller) await new Promise((r) => setTimeout(r, 20));
      await fetch("/__sim/through-service-worker");
      const blob = (src) => URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
      const dedicated = new Worker(blob('fetch("https://www.zhihu.com/__sim/from-dedicated-worker").then(() => postMessage(1))'));
      await new Promise((r) => { dedicated.onmessage = r; });
      const shared = new SharedWorker(blob('onconnect = (e) => fetch("https://www.zhihu.com/__sim/from-shared-worker").then(() => e.ports[0].postMessage(1))'));
      await new Promise((r) => { shared.port.onmessage = r; });
    })()`);

    const expected = [
      "/__sim/service-worker.js",
      "/__sim/from-service-worker",
      "/__sim/through-service-worker",
      "/__sim/from-dedicated-worker",
      "/__sim/from-shared-worker",
    ];
    const sent = await waitFor("every worker's request", () => {
      const seen = w.sim.requests().filter((r) => r.path.startsWith("/__sim/"));
      return expected.every((p) => seen.some((r) => r.path === p)) ? seen : undefined;
    });
    const headless = sent.filter((r) => /headless/i.test(r.userAgent)).map((r) => r.path);
    assert.deepEqual(headless, [], "these went out as the headless browser");
    for (const r of sent) assert.match(r.userAgent, new RegExp(` Chrome/${major}\\.0\\.0\\.0 `), r.path);
  });

  test("the identity is probed once per installed version and remembered; an upgraded or damaged entry is probed again", async (t) => {
    const cache = tempDir(t, "topn-cache-");
    const env = { ...process.env, XDG_CACHE_HOME: cache, TOPN_HEADLESS: "1" };
    const executable = findBrowser(env);
    const launched = async (e = env) => {
      const browser = await launchBrowser({ headless: true, env: e });
      try {
        const page = await openPage(browser);
        return { ua: await browser.userAgent(), pageUa: await page.evaluate("navigator.userAgent") };
      } finally {
        await closeWithPages(browser);
      }
    };

    // The first launch probes a plain browser and remembers what it found, with the version it found it in.
    const first = await launched();
    const real = await readKnownBrowser(executable, env);
    assert.ok(real?.identity, "remembered");
    assert.deepEqual(first, { ua: real.identity.userAgent, pageUa: real.identity.userAgent });
    assert.ok(!first.ua.includes("Headless"), first.ua);

    // What is remembered is used as it is, without a probe: a marked entry shows through.
    const marked = `${real.identity.userAgent} Remembered`;
    await rememberBrowser(executable, { ...real, identity: { ...real.identity, userAgent: marked } }, env);
    assert.deepEqual(await launched(), { ua: marked, pageUa: marked });

    // A browser upgraded since (the entry names another version) is probed again, and so is a damaged entry.
    await rememberBrowser(
      executable,
      { version: "1.0.0.0", identity: { ...real.identity, userAgent: marked } },
      env,
    );
    assert.deepEqual(await launched(), first);
    assert.deepEqual(await readKnownBrowser(executable, env), real);
    const folder = join(cache, "topn", "browser-identity");
    for (const name of readdirSync(folder)) writeFileSync(join(folder, name), "{ not json");
    assert.deepEqual(await launched(), first);
    assert.deepEqual(await readKnownBrowser(executable, env), real);

    // Nowhere to remember it (the cache folder cannot be made): the launch still presents the installed browser.
    writeFileSync(join(cache, "a-file"), "");
    assert.deepEqual(await launched({ ...env, XDG_CACHE_HOME: join(cache, "a-file") }), first);
  });

  test("only the headless marker is replaced: the product's brand for Chrome and Edge, dropped for Chromium", async () => {
    assert.equal(productBrand("/usr/bin/chromium"), null);
    assert.equal(productBrand("/usr/bin/google-chrome-stable"), "Google Chrome");
    assert.equal(
      productBrand("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
      "Google Chrome",
    );
    assert.equal(productBrand("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"), "Google Chrome");
    assert.equal(
      productBrand("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"),
      "Microsoft Edge",
    );
    const headless = [
      { brand: "HeadlessChrome", version: "129" },
      { brand: "Not=A?Brand", version: "8" },
      { brand: "Chromium", version: "129" },
    ];
    assert.deepEqual(rebrand(headless, "Google Chrome"), [
      { brand: "Google Chrome", version: "129" },
      { brand: "Not=A?Brand", version: "8" },
      { brand: "Chromium", version: "129" },
    ]);
    assert.deepEqual(rebrand(headless, null), headless.slice(1));
    const clean = [
      { brand: "Not:A-Brand", version: "8" },
      { brand: "Chromium", version: "156" },
    ];
    assert.deepEqual(rebrand(clean, "Google Chrome"), clean);

    const browser = await launchBrowser({ headless: true });
    try {
      const identity = await browserIdentity(browser);
      const ua = await browser.userAgent();
      assert.equal(identity?.userAgent, ua.replace("HeadlessChrome/", "Chrome/"));
      assert.ok(identity?.metadata.fullVersionList?.some((b) => b.brand === "Chromium"));
      assert.equal(await browserIdentity(browser), identity, "probed once per browser");
    } finally {
      await browser.close();
    }
  });
});
