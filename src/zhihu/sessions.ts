// Zhihu accounts as the commands see them: log in (browser window, QR code, cookie export) and save the
// session, check it live, say where it is kept and when its cookies say it ends, forget it. The cookies stay
// in here and in the credential store; what goes out is who the session belongs to and dates.

import type { Page } from "puppeteer-core";
import type { BrowserPool } from "../browser/pool.js";
import { type CredentialStore, placeOf } from "../credentials/index.js";
import { firstLine, UsageError } from "../errors.js";
import type {
  LoginOutcome,
  LoginRequest,
  PlatformOptions,
  SessionHealth,
  SessionManager,
  SessionPlace,
} from "../platform.js";
import { loginCommand } from "./classify.js";
import { cookieExpiry, type SessionCookie, toPuppeteerCookies } from "./cookies.js";
import type { LoginResult } from "./login.js";
import { PLATFORM } from "./session.js";
import { describeMeFailure, fetchMe, hasLoginCookie, SESSION_PAGE } from "./session-check.js";

/** A page already on one of these can ask /api/v4/me as it is. */
const ON_ZHIHU = /^https:\/\/(www|zhuanlan)\.zhihu\.com\//;
const PAGE_TIMEOUT_MS = 30_000;

const expiryMs = (cookies: readonly SessionCookie[]): number | null => {
  const s = cookieExpiry(cookies);
  return s === null ? null : Math.round(s * 1000);
};

export class ZhihuSessions implements SessionManager {
  constructor(
    private readonly opts: PlatformOptions,
    private readonly credentials: () => Promise<CredentialStore>,
    private readonly pool: BrowserPool,
  ) {}

  loginCommand(account: string): string {
    return loginCommand(account);
  }

  async place(account: string): Promise<SessionPlace> {
    const store = await this.credentials();
    const session = await store.get(PLATFORM, account);
    return {
      store: store.kind,
      where: placeOf(store, PLATFORM, account),
      saved: session !== null,
      expiresAt: session ? expiryMs(session.cookies) : null,
    };
  }

  async logout(account: string): Promise<{ deleted: boolean; where: string }> {
    const store = await this.credentials();
    const where = placeOf(store, PLATFORM, account);
    return { deleted: await store.delete(PLATFORM, account), where };
  }

  /**
   * GET /api/v4/me from the account's working page: as it is when it already shows a Zhihu page (a publish
   * left it there), else on www.zhihu.com/robots.txt, a same-origin document with nothing of its own to load.
   * One call to Zhihu's API, and at most one tiny document; the next publish moves the page on as it needs.
   */
  async check(account: string, signal?: AbortSignal): Promise<SessionHealth> {
    const session = await (await this.credentials()).get(PLATFORM, account);
    const relogin = `log in again: ${loginCommand(account)}`;
    if (!session || !hasLoginCookie(session.cookies))
      return { state: "missing", expiresAt: null, message: "no saved session", fix: relogin };
    const expiresAt = expiryMs(session.cookies);
    signal?.throwIfAborted();
    let lease: Awaited<ReturnType<BrowserPool["acquire"]>>;
    try {
      lease = await this.pool.acquire(account, toPuppeteerCookies(session.cookies));
    } catch (e) {
      return {
        state: "error",
        expiresAt,
        message: `could not check the session: the browser did not start (${firstLine(e)})`,
        fix: e instanceof UsageError && e.hint ? e.hint : "see what is wrong: topn doctor",
      };
    }
    try {
      let page: Page;
      try {
        page = await lease.page();
        if (!ON_ZHIHU.test(page.url()))
          await page.goto(SESSION_PAGE, { waitUntil: "domcontentloaded", timeout: PAGE_TIMEOUT_MS });
      } catch (e) {
        await lease.discardPage();
        return {
          state: "error",
          expiresAt,
          message: `could not check the session: ${firstLine(e)}`,
          fix: `try again later; if it persists, ${relogin}`,
        };
      }
      const r = await fetchMe(page);
      if (r.ok)
        return {
          state: "ok",
          expiresAt,
          user: { name: r.me.name, uid: r.me.uid || null, urlToken: r.me.urlToken || null },
        };
      switch (r.state) {
        case "expired":
          return {
            state: "expired",
            expiresAt,
            message: `session expired (${describeMeFailure(r)})`,
            fix: relogin,
          };
        case "needs_verification":
          return {
            state: "needs_verification",
            expiresAt,
            message: `Zhihu asks for a verification (${describeMeFailure(r)})`,
            ...(r.url ? { url: r.url } : {}),
            fix: `open ${r.url} in a browser logged in as this account and pass the check, then: topn accounts --resume ${account}`,
          };
        default:
          return {
            state: "error",
            expiresAt,
            message: `could not check the session: ${describeMeFailure(r)}`,
            fix: `try again later; if it persists, ${relogin}`,
          };
      }
    } finally {
      lease.release();
    }
  }

  async login(req: LoginRequest): Promise<LoginOutcome> {
    // Opened before the person spends a minute signing in: a broken keychain is said now.
    const store = await this.credentials();
    const base = {
      env: this.opts.env,
      print: req.print,
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }),
    };
    let result: LoginResult;
    switch (req.method.kind) {
      case "cookies":
        result = await (await import("./login-cookies.js")).importCookies({ ...base, text: req.method.text });
        break;
      case "qr":
        result = await (await import("./login-qr.js")).qrLogin(base);
        break;
      case "browser":
        result = await (await import("./login.js")).browserLogin(base);
        break;
    }
    const { me, cookies } = result;
    await store.set(PLATFORM, req.account, { cookies, savedAt: new Date().toISOString() });
    return {
      user: { name: me.name, uid: me.uid || null, urlToken: me.urlToken || null },
      expiresAt: expiryMs(cookies),
    };
  }
}
