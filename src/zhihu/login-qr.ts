// Logging in from a terminal (SSH, no display): a headless browser asks Zhihu for a QR login token, the
// terminal shows it as a QR code, the person scans it with the Zhihu app and confirms; the poll that sees
// the confirmation receives the z_c0 cookie. The token is a secret until it is consumed (whoever polls it
// after the scan gets the session), so it is drawn, never printed as text.

import type { BrowserContext, Page } from "puppeteer-core";
import { closeWithPages, openPage } from "../browser/identity.js";
import { launchBrowser } from "../browser/launch.js";
import { ZSE_93 } from "./api.js";
import { LoginError, type LoginFlowOptions, type LoginResult, SIGNIN_URL } from "./login.js";
import { describeMeFailure, fetchMe, hasLoginCookie, SESSION_PAGE, zhihuCookies } from "./session-check.js";

const QR_API = "/api/v3/account/api/login/qrcode";
const DEFAULT_QR_TIMEOUT_MS = 120_000;
/** Zhihu's own page polls about this often; TOPN_QR_POLL_MS overrides it (tests). */
const DEFAULT_POLL_MS = 1500;

interface QrCode {
  token: string;
  link: string;
}

export async function qrLogin(opts: LoginFlowOptions): Promise<LoginResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_QR_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const pollMs = Number(opts.env.TOPN_QR_POLL_MS) > 0 ? Number(opts.env.TOPN_QR_POLL_MS) : DEFAULT_POLL_MS;
  opts.signal?.throwIfAborted();
  const launched = opts.browser ? null : await launchBrowser({ headless: true, env: opts.env });
  const browser = opts.browser ?? launched!;
  let context: BrowserContext | undefined;
  try {
    context = await browser.createBrowserContext();
    const page = await openPage(context);
    const navTimeout = Math.max(1000, Math.min(30_000, deadline - Date.now()));
    // As a visitor would arrive: the home page, the sign-in page (sets _xsrf), then a quiet page on the
    // same origin to call the API from, where the sign-in page's own QR poller is not running.
    for (const url of ["https://www.zhihu.com/", SIGNIN_URL, SESSION_PAGE]) {
      await page.goto(url, { waitUntil: "domcontentloaded", timeout: navTimeout });
    }
    await call(page, "POST", "/udid"); // sets d_c0, the device id the login is bound to

    let qr = await createQr(page);
    await draw(
      opts,
      qr,
      `Scan this QR code with the Zhihu app (知乎 App → 扫一扫), then confirm on your phone:`,
    );
    opts.print(`Waiting up to ${Math.round(timeoutMs / 1000)} s…`);
    let scanned = false;
    for (;;) {
      await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), opts.signal);
      if (Date.now() >= deadline) {
        throw new LoginError(
          "timeout",
          `login timed out: the QR code was not confirmed within ${Math.round(timeoutMs / 1000)} s`,
          "run it again (with --timeout SECONDS for more time)",
        );
      }
      const res = await call(page, "GET", `${QR_API}/${qr.token}/scan_info`);
      if (res.status === 0) continue; // a network hiccup: the next poll asks again
      if (res.status < 200 || res.status >= 300) {
        // The token is gone (expired, or consumed elsewhere): start over with a new one.
        qr = await createQr(page);
        scanned = false;
        await draw(opts, qr, "The QR code expired; scan this new one:");
        continue;
      }
      const body = parseJson(res.text) as { status?: unknown; new_token?: unknown } | undefined;
      if (body === undefined) continue;
      if (!("status" in body)) break; // success: the answer set z_c0
      if (body.status === 1 && !scanned) {
        scanned = true;
        opts.print("Scanned: confirm the login on your phone.");
      } else if (body.status === 5) {
        const fresh = refreshedQr(body.new_token);
        if (fresh) {
          qr = fresh;
          scanned = false;
          await draw(opts, qr, "The QR code was refreshed; scan this new one:");
        }
      }
    }

    const cookies = await zhihuCookies(context);
    if (!hasLoginCookie(cookies)) {
      throw new LoginError(
        "failed",
        "Zhihu confirmed the QR login but set no z_c0 session cookie",
        "try again",
      );
    }
    const me = await fetchMe(page);
    if (!me.ok) {
      throw new LoginError(
        me.state === "needs_verification" ? "needs_verification" : "failed",
        `the new session does not work: ${describeMeFailure(me)}`,
        me.url ? `open ${me.url} in a browser, pass the check, then log in again` : "try again",
      );
    }
    return { me: me.me, cookies: await zhihuCookies(context) };
  } finally {
    if (context) await closeWithPages(context).catch(() => {});
    if (launched) await closeWithPages(launched).catch(() => {});
  }
}

/** A fetch from the page with the headers Zhihu's front end sends; the _xsrf cookie goes in x-xsrftoken. */
async function call(page: Page, method: string, path: string): Promise<{ status: number; text: string }> {
  return page.evaluate(
    async (m: string, p: string, zse93: string) => {
      const xsrf = /(?:^|; )_xsrf=([^;]*)/.exec(document.cookie)?.[1] ?? "";
      try {
        const res = await fetch(p, {
          method: m,
          credentials: "include",
          headers: { "x-xsrftoken": xsrf, "x-requested-with": "fetch", "x-zse-93": zse93 },
          signal: AbortSignal.timeout(20_000),
        });
        return { status: res.status, text: await res.text() };
      } catch (e) {
        return { status: 0, text: e instanceof Error ? e.message : String(e) };
      }
    },
    method,
    path,
    ZSE_93,
  );
}

async function createQr(page: Page): Promise<QrCode> {
  const res = await call(page, "POST", QR_API);
  const body = parseJson(res.text) as { token?: unknown; link?: unknown } | undefined;
  if (res.status >= 200 && res.status < 300 && typeof body?.token === "string" && body.token !== "") {
    return { token: body.token, link: typeof body.link === "string" ? body.link : linkOf(body.token) };
  }
  const error = (body as { error?: { message?: unknown } } | undefined)?.error;
  const said = typeof error?.message === "string" ? `: ${error.message.slice(0, 120)}` : "";
  throw new LoginError(
    "failed",
    `Zhihu did not give a QR login code (HTTP ${res.status || "request failed"}${said})`,
    "try again later, or log in with a browser window (topn login zhihu) or a cookie export (--cookies FILE)",
  );
}

/** new_token as a string, or an object with `token`/`Token` and maybe `link` (both shapes are seen). */
export function refreshedQr(value: unknown): QrCode | null {
  if (typeof value === "string" && value !== "") return { token: value, link: linkOf(value) };
  const v = value as { token?: unknown; Token?: unknown; link?: unknown } | null | undefined;
  const token = typeof v?.token === "string" ? v.token : typeof v?.Token === "string" ? v.Token : "";
  if (token === "") return null;
  return { token, link: typeof v?.link === "string" && v.link !== "" ? v.link : linkOf(token) };
}

const linkOf = (token: string) => `https://www.zhihu.com/account/scan/login/${token}?/api/login/qrcode`;

async function draw(opts: LoginFlowOptions, qr: QrCode, caption: string): Promise<void> {
  const { default: qrcode } = await import("qrcode-terminal");
  opts.print(caption);
  qrcode.generate(qr.link, { small: true }, (art) => opts.print(art));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LoginError("interrupted", "login interrupted"));
    };
    if (signal?.aborted) return onAbort();
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
