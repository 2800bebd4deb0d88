// Logging in to Zhihu in a browser window: the person signs in on Zhihu's own page (QR with the app, or
// SMS), topn watches for the session, asks /api/v4/me who it is, and hands back the cookies. Nothing here
// stores anything: the command does, once the session is known to be alive.
// The QR-in-a-terminal flow is in ./login-qr.ts, the cookie import in ./login-cookies.ts.

import type { Browser, BrowserContext, Frame, Page } from "puppeteer-core";
import { closeWithPages, openPage, presentAsInstalled } from "../browser/identity.js";
import { launchBrowser } from "../browser/launch.js";
import { firstLine, LoginError, UsageError } from "../errors.js";
import { isZhihuDomain, type SessionCookie } from "./cookies.js";
import { fetchMe, hasLoginCookie, type ZhihuMe, zhihuCookies } from "./session-check.js";

export const SIGNIN_URL = "https://www.zhihu.com/signin";
const DEFAULT_BROWSER_TIMEOUT_MS = 300_000;

/** What every login flow takes: plain values, so it runs the same from the CLI, a test or a script. */
export interface LoginFlowOptions {
  env: NodeJS.ProcessEnv;
  /** A line for the person (instructions, the QR code, progress). Never given a secret. */
  print: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** A browser the caller owns (tests): used in an incognito context of its own and left open. */
  browser?: Browser;
}

/** A verified session: who it belongs to and its cookies (secret: store them, never show them). */
export interface LoginResult {
  me: ZhihuMe;
  cookies: SessionCookie[];
}

export { LoginError, type LoginErrorKind } from "../errors.js";

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * Opens https://www.zhihu.com/signin in a browser window (headless only with TOPN_HEADLESS=1, which is
 * useful against the simulator alone) with a fresh temporary profile, never the person's own, and waits
 * until they are signed in, close the window, or the time runs out.
 */
export async function browserLogin(opts: LoginFlowOptions): Promise<LoginResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BROWSER_TIMEOUT_MS;
  const headless = opts.env.TOPN_HEADLESS === "1";
  if (!opts.browser && !headless && !hasDisplay(opts.env)) {
    throw new UsageError(
      "there is no display to open a browser window on (DISPLAY and WAYLAND_DISPLAY are not set)",
      "log in with a QR code in this terminal: topn login zhihu --qr, or import cookies: topn login zhihu --cookies FILE",
    );
  }
  opts.signal?.throwIfAborted();
  const launched = opts.browser ? null : await launchBrowser({ headless: false, env: opts.env });
  const browser = opts.browser ?? launched!;
  let context: BrowserContext | null = null;
  try {
    let page: Page;
    if (launched) {
      // The window the browser opened with: a second one would only confuse.
      page = (await launched.pages())[0] ?? (await launched.newPage());
      await presentAsInstalled(page);
    } else {
      context = await browser.createBrowserContext();
      page = await openPage(context);
    }
    opts.print(
      `Sign in to Zhihu in the browser window (${SIGNIN_URL}): scan the QR code with the Zhihu app, or use SMS.` +
        ` Waiting up to ${seconds(timeoutMs)}; close the window to cancel.`,
    );
    const me = await waitForSignin(page, browser, timeoutMs, opts.signal);
    return { me, cookies: await zhihuCookies(page.browserContext()) };
  } finally {
    if (context) await closeWithPages(context).catch(() => {});
    if (launched) await closeWithPages(launched).catch(() => {});
  }
}

function hasDisplay(env: NodeJS.ProcessEnv): boolean {
  if (process.platform === "darwin" || process.platform === "win32") return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * Signed in = the page has left the sign-in pages for zhihu.com, a z_c0 cookie exists, and /api/v4/me
 * answers with a user. Checked on every navigation, and every second for pages that change their URL
 * without one.
 */
function waitForSignin(
  page: Page,
  browser: Browser,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ZhihuMe> {
  return new Promise<ZhihuMe>((resolve, reject) => {
    let finished = false;
    let busy = false;
    const onNavigated = (frame: Frame) => {
      if (frame === page.mainFrame()) void check();
    };
    const onClosed = () =>
      fail(new LoginError("cancelled", "login cancelled: the browser window was closed"));
    const onAbort = () => fail(new LoginError("interrupted", "login interrupted"));
    const poll = setInterval(() => void check(), 1000);
    const timer = setTimeout(
      () =>
        fail(
          new LoginError(
            "timeout",
            `login timed out: nobody signed in within ${seconds(timeoutMs)}`,
            "run it again (with --timeout SECONDS for more time), or use --qr to scan a code in the terminal",
          ),
        ),
      timeoutMs,
    );
    const cleanup = () => {
      finished = true;
      clearInterval(poll);
      clearTimeout(timer);
      page.off("framenavigated", onNavigated);
      page.off("close", onClosed);
      browser.off("disconnected", onClosed);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (e: Error) => {
      if (finished) return;
      cleanup();
      reject(e);
    };
    const check = async () => {
      if (finished || busy) return;
      busy = true;
      try {
        const me = await signedIn(page);
        if (me && !finished) {
          cleanup();
          resolve(me);
        }
      } catch {
        // The page is between documents; the next navigation or tick looks again.
      } finally {
        busy = false;
      }
    };
    page.on("framenavigated", onNavigated);
    page.once("close", onClosed);
    browser.once("disconnected", onClosed);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) return onAbort();
    page
      .goto(SIGNIN_URL, { waitUntil: "domcontentloaded", timeout: Math.min(timeoutMs, 60_000) })
      .catch((e) => {
        // A window closed while loading reports itself through "close"; anything else is the network.
        if (!page.isClosed() && browser.connected) {
          fail(new LoginError("failed", `could not open ${SIGNIN_URL}: ${firstLine(e)}`));
        }
      });
  });
}

async function signedIn(page: Page): Promise<ZhihuMe | null> {
  const url = new URL(page.url());
  const onZhihu = url.protocol === "https:" && isZhihuDomain(url.hostname);
  if (!onZhihu || /^\/(signin|signup|account)(\/|$)/.test(url.pathname)) return null;
  if (!hasLoginCookie(await zhihuCookies(page.browserContext()))) return null;
  // Refused (401), or an anti-bot check the person can pass in the same window: keep waiting.
  const r = await fetchMe(page);
  return r.ok ? r.me : null;
}
