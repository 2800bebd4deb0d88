// Is a Zhihu session alive? Asked the way the site itself asks: GET /api/v4/me with the cookies, from
// inside a page, so the answer comes through the same browser, fingerprint and cookie jar as publishing.
// Zhihu ends sessions long before their cookies expire, so only this live answer counts.

import type { Browser, BrowserContext, Page } from "puppeteer-core";
import { closeWithPages, openPage } from "../browser/identity.js";
import { firstLine } from "../errors.js";
import { ZSE_93 } from "./api.js";
import { VERIFY_URL } from "./classify.js";
import { fromPuppeteerCookie, isZhihuDomain, type SessionCookie, toPuppeteerCookies } from "./cookies.js";

const ME_URL = "https://www.zhihu.com/api/v4/me";
/**
 * A www.zhihu.com document to call the API from: same-origin (no CORS preflight), no scripts of its own
 * (the sign-in page would start a QR login of its own), and light on the real site.
 */
export const SESSION_PAGE = "https://www.zhihu.com/robots.txt";

const FETCH_TIMEOUT_MS = 20_000;

/** Who Zhihu says the session belongs to. Not secret. */
export interface ZhihuMe {
  /** 32 hex digits. */
  id: string;
  uid: string;
  urlToken: string;
  name: string;
}

type MeState = "expired" | "needs_verification" | "error";

export type MeResult =
  | { ok: true; me: ZhihuMe }
  | {
      ok: false;
      /** expired: 401 (log in again); needs_verification: 403 40352 (a person in a browser); error: anything else. */
      state: MeState;
      /** HTTP status, 0 when the request did not complete. */
      status: number;
      code?: number;
      message: string;
      /** Where a person must go (anti-bot verification). */
      url?: string;
    };

/** `Zhihu answered 401, code 100 "请求需要登录"`: one phrase for messages; never carries a cookie. */
export function describeMeFailure(r: Extract<MeResult, { ok: false }>): string {
  if (r.status === 0) return `the request to Zhihu failed: ${r.message}`;
  const code = r.code === undefined ? "" : `, code ${r.code}`;
  return `Zhihu answered ${r.status}${code}${r.message ? ` "${r.message}"` : ""}`;
}

/** GET /api/v4/me from `page`, which must show a zhihu.com document. */
export async function fetchMe(page: Page, timeoutMs = FETCH_TIMEOUT_MS): Promise<MeResult> {
  const raw = await page.evaluate(
    async (url: string, ms: number, zse93: string) => {
      try {
        const res = await fetch(url, {
          credentials: "include",
          headers: { "x-requested-with": "fetch", "x-zse-93": zse93 },
          signal: AbortSignal.timeout(ms),
        });
        return { status: res.status, text: await res.text() };
      } catch (e) {
        return { status: 0, text: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
      }
    },
    ME_URL,
    timeoutMs,
    ZSE_93,
  );
  return interpretMe(raw.status, raw.text);
}

/** Exported for tests: the answer of /api/v4/me as a MeResult. */
export function interpretMe(status: number, text: string): MeResult {
  if (status === 0) return { ok: false, state: "error", status, message: text.slice(0, 200) };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (status === 200) {
    const me = toMe(body);
    if (me) return { ok: true, me };
    return { ok: false, state: "error", status, message: "the answer is not a Zhihu user" };
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; redirect?: unknown } } | undefined)
    ?.error;
  const code = typeof error?.code === "number" ? error.code : undefined;
  // Zhihu's own error text is short and names no secret; anything else (an HTML error page) is not shown.
  const message = typeof error?.message === "string" ? error.message.slice(0, 120) : "";
  const base = { ok: false as const, status, message, ...(code === undefined ? {} : { code }) };
  if (status === 401) return { ...base, state: "expired" };
  if (status === 403 && code === 40352) {
    const url = typeof error?.redirect === "string" ? error.redirect : VERIFY_URL;
    return { ...base, state: "needs_verification", url };
  }
  return { ...base, state: "error" };
}

function toMe(body: unknown): ZhihuMe | null {
  const b = body as { id?: unknown; uid?: unknown; url_token?: unknown; name?: unknown } | null | undefined;
  if (typeof b?.name !== "string") return null;
  const str = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : "");
  return { id: str(b.id), uid: str(b.uid), urlToken: str(b.url_token), name: b.name };
}

/** The zhihu.com cookies a browser context holds, in the credential store's shape. */
export async function zhihuCookies(context: BrowserContext): Promise<SessionCookie[]> {
  return (await context.cookies()).filter((c) => isZhihuDomain(c.domain)).map(fromPuppeteerCookie);
}

export function hasLoginCookie(cookies: readonly SessionCookie[]): boolean {
  return cookies.some((c) => c.name === "z_c0" && c.value !== "");
}

/**
 * A fresh incognito context holding `cookies`, with a page on SESSION_PAGE: the place to ask /api/v4/me.
 * The caller closes the context.
 */
async function openSessionContext(
  browser: Browser,
  cookies: readonly SessionCookie[],
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.createBrowserContext();
  try {
    const page = await openPage(context);
    // Through the page, not the context: only the page's call takes a `url`, which keeps a host-only
    // cookie host-only (the context's call makes every cookie a domain cookie).
    await page.setCookie(...toPuppeteerCookies(cookies));
    await page.goto(SESSION_PAGE, { waitUntil: "domcontentloaded", timeout: timeoutMs });
    return { context, page };
  } catch (e) {
    await context.close().catch(() => {});
    throw e;
  }
}

interface SessionCheck {
  result: MeResult;
  /** The context's cookies after the check (Zhihu may have refreshed some); empty unless the session is alive. */
  cookies: SessionCookie[];
}

/** Asks Zhihu whether `cookies` are a live session, in an incognito context of its own that is closed after. */
export async function checkSession(
  browser: Browser,
  cookies: readonly SessionCookie[],
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<SessionCheck> {
  let opened: { context: BrowserContext; page: Page };
  try {
    opened = await openSessionContext(browser, cookies, timeoutMs);
  } catch (e) {
    // Navigation errors name the URL and the network error; never a cookie.
    return { result: { ok: false, state: "error", status: 0, message: firstLine(e) }, cookies: [] };
  }
  try {
    const result = await fetchMe(opened.page, timeoutMs);
    return { result, cookies: result.ok ? await zhihuCookies(opened.context) : [] };
  } finally {
    await closeWithPages(opened.context).catch(() => {});
  }
}

type SessionState = "ok" | "missing" | MeState;

export interface AccountCheck {
  account: string;
  state: SessionState;
  /** Who the session belongs to, when alive. */
  me?: ZhihuMe;
  /** Why it is not ok, for the person (no secrets). */
  message?: string;
  /** Anti-bot verification page. */
  url?: string;
}

/**
 * Checks several stored sessions live: one headless browser, one incognito context per account, one
 * account at a time (gentle on Zhihu, and a cron job is not in a hurry). `cookies: null` (nothing stored)
 * is reported as "missing" without asking Zhihu.
 */
export async function checkSessions(opts: {
  env: NodeJS.ProcessEnv;
  sessions: ReadonlyArray<{ account: string; cookies: readonly SessionCookie[] | null }>;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<AccountCheck[]> {
  const out: AccountCheck[] = [];
  const stored = opts.sessions.filter((s) => s.cookies !== null);
  const { launchBrowser } = await import("../browser/launch.js");
  const browser = stored.length > 0 ? await launchBrowser({ headless: true, env: opts.env }) : null;
  try {
    for (const { account, cookies } of opts.sessions) {
      opts.signal?.throwIfAborted();
      if (cookies === null || browser === null) {
        out.push({ account, state: "missing", message: "no saved session" });
        continue;
      }
      const { result } = await checkSession(browser, cookies, opts.timeoutMs);
      if (result.ok) out.push({ account, state: "ok", me: result.me });
      else {
        const message =
          result.state === "expired"
            ? `session expired (${describeMeFailure(result)})`
            : result.state === "needs_verification"
              ? `Zhihu asks for a verification (${describeMeFailure(result)})`
              : `could not check the session: ${describeMeFailure(result)}`;
        out.push({ account, state: result.state, message, ...(result.url ? { url: result.url } : {}) });
      }
    }
  } finally {
    if (browser) await closeWithPages(browser).catch(() => {});
  }
  return out;
}
