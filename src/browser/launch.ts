// Launching the one browser a topn process uses. Tests and the demo point it at the Zhihu simulator with
// TOPN_ZHIHU_RESOLVE; that mode changes only name resolution and certificate trust, nothing else.

import type { Browser } from "puppeteer-core";
import { UsageError } from "../errors.js";
import { findBrowser } from "./find.js";
import { adoptIdentity, probeIdentity } from "./identity.js";
import { type KnownBrowser, readKnownBrowser, rememberBrowser } from "./identity-cache.js";
import { makeTempProfile, sweepStaleProfiles } from "./profile.js";

export interface LaunchOptions {
  headless: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Hosts the simulator answers for; everything Zhihu publishing touches. */
const ZHIHU_HOST_PATTERNS = ["zhihu.com", "*.zhihu.com", "*.zhimg.com"];

// The network here is closed: nothing in the background may phone home or wait on it.
const BASE_ARGS = [
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-quic",
  "--disable-gpu",
];

// A page's identity (src/browser/identity.ts) lives in its debugging session, and Chrome moves that session
// to the new document when a navigation commits: to a fresh document object even within one site
// (RenderDocument), or leaving the old one alive in the back/forward cache. What the document being left
// still sends (a pagehide beacon, a keepalive fetch, a fetch its script starts as the navigation lands, its
// favicon) then goes out without the page's identity: as the headless browser, or with only the User-Agent
// of --user-agent below. Measured without that flag: 20 of 35 such requests said HeadlessChrome with these
// features on, 0 with both off. topn never goes back, so the back/forward cache saves it nothing.
const ONE_DOCUMENT_PER_FRAME = "--disable-features=BackForwardCache,RenderDocument";

/**
 * The `--host-resolver-rules` value for TOPN_ZHIHU_RESOLVE=HOST:PORT, or null when it is unset.
 * Throws UsageError naming the variable when it is malformed.
 */
export function resolveRules(env: NodeJS.ProcessEnv = process.env): string | null {
  const raw = env.TOPN_ZHIHU_RESOLVE;
  if (raw === undefined || raw === "") return null;
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw.trim());
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) {
    throw new UsageError(
      `TOPN_ZHIHU_RESOLVE=${raw} is not HOST:PORT`,
      "set it to the simulator's address, e.g. TOPN_ZHIHU_RESOLVE=127.0.0.1:8443, or unset it",
    );
  }
  const target = `${match[1]}:${port}`;
  return ZHIHU_HOST_PATTERNS.map((pattern) => `MAP ${pattern} ${target}`).join(",");
}

/** Chromium command-line flags for a launch (without the user data dir, which puppeteer passes). */
export function browserArgs(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): string[] {
  const args = [...BASE_ARGS, ONE_DOCUMENT_PER_FRAME];
  // Chromium refuses to start as root with its sandbox on; elsewhere the sandbox stays.
  if (uid === 0) args.push("--no-sandbox");
  const rules = resolveRules(env);
  if (rules !== null) args.push(`--host-resolver-rules=${rules}`, "--ignore-certificate-errors");
  return args;
}

export async function launchBrowser(opts: LaunchOptions): Promise<Browser> {
  const env = opts.env ?? process.env;
  const executablePath = findBrowser(env);
  const headless = opts.headless || env.TOPN_HEADLESS === "1";
  const start = (userAgent?: string) => startBrowser({ executablePath, headless, env, userAgent });
  return headless ? launchPresented(executablePath, env, start) : start();
}

/**
 * A headless browser that presents the installed one (identity.ts) from its very first request. The pages'
 * override covers what pages send; --user-agent covers what no page's session sees: a service or shared
 * worker, a page's fetch that a service worker passes on, a worker's script, whatever the browser fetches
 * by itself. That flag empties the high-entropy client hints a probe reads, so the identity comes from a
 * plain launch once per installed version (identity-cache.ts), checked against the running version each time.
 */
async function launchPresented(
  executable: string,
  env: NodeJS.ProcessEnv,
  start: (userAgent?: string) => Promise<Browser>,
): Promise<Browser> {
  const known = await readKnownBrowser(executable, env);
  if (known) {
    const browser = await start(known.identity?.userAgent);
    if ((await closedOnError(browser, versionOf)) === known.version) {
      adoptIdentity(browser, known.identity);
      return browser;
    }
    await browser.close(); // upgraded since it was probed: probe it again
  }
  const plain = await start();
  const probed: KnownBrowser = await closedOnError(plain, async (b) => ({
    version: await versionOf(b),
    identity: await probeIdentity(b),
  }));
  await rememberBrowser(executable, probed, env);
  if (probed.identity === null) {
    adoptIdentity(plain, null);
    return plain;
  }
  await plain.close();
  const browser = await start(probed.identity.userAgent);
  adoptIdentity(browser, probed.identity);
  return browser;
}

/** The full version a running browser reports, e.g. 156.0.8078.108. */
export async function versionOf(browser: Browser): Promise<string> {
  return (await browser.version()).replace(/^.*\//, "");
}

/** `fn(browser)`, closing the browser when it throws: a launch that fails leaves no Chromium behind. */
async function closedOnError<T>(browser: Browser, fn: (b: Browser) => Promise<T>): Promise<T> {
  try {
    return await fn(browser);
  } catch (e) {
    await browser.close().catch(() => {});
    throw e;
  }
}

async function startBrowser(opts: {
  executablePath: string;
  headless: boolean;
  env: NodeJS.ProcessEnv;
  userAgent?: string;
}): Promise<Browser> {
  const { executablePath, headless, env } = opts;
  const args = browserArgs(env);
  if (opts.userAgent) args.push(`--user-agent=${opts.userAgent}`);
  const simulated = resolveRules(env) !== null;

  const temp = await makeTempProfile();
  const swept = sweepStaleProfiles();

  const { default: puppeteer } = await import("puppeteer-core");
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless,
      args,
      userDataDir: temp.dir,
      // Over a pipe, not a WebSocket: Chrome exits when its end of the pipe closes, so a topn that is killed
      // (kill -9, the OOM killer, cron's timeout) takes its browser with it instead of leaving it running.
      pipe: true,
      acceptInsecureCerts: simulated,
      defaultViewport: null,
      // --enable-automation sets navigator.webdriver, which anti-bot scripts commonly read; the person's own
      // browser does not have it, and topn's traffic should look like theirs.
      ignoreDefaultArgs: ["--enable-automation"],
      // topn owns its signals: the runner gives running jobs a grace period on SIGINT/SIGTERM, which
      // puppeteer's own handlers (kill Chrome, exit) would cut short.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    await Promise.all([temp.remove(), swept]);
    throw error;
  }
  await swept;
  // "disconnected" comes when the pipe closes, which can be before Chrome has finished writing its profile
  // on the way out; removing then races those writes. The process's exit is the moment nothing writes.
  const proc = browser.process();
  const exited = new Promise<void>((resolve) => {
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once("exit", () => resolve());
  });
  browser.once("disconnected", () => {
    void exited.then(temp.remove).catch(() => {
      // A profile that cannot be removed is litter for the next launch's sweep, not a failure of the work.
    });
  });
  // On process.exit (a second Ctrl-C) puppeteer kills Chrome synchronously; remove its profile too.
  const onExit = () => temp.removeSync();
  process.once("exit", onExit);
  browser.once("disconnected", () => process.off("exit", onExit));
  return browser;
}
