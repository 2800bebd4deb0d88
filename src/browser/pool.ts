// One browser per process, one incognito context per account. A context holds one account's cookies and
// nothing else, so accounts never see each other's session; it is kept while its account has work (launch
// ~270 ms, a page ~150 ms) and closed after a quiet spell, since each one costs ~60 MB.

import type { Browser, BrowserContext, CookieParam, Page } from "puppeteer-core";
import { closeWithPages, openPage } from "./identity.js";
import { launchBrowser } from "./launch.js";

export interface PoolOptions {
  env?: NodeJS.ProcessEnv;
  /** Close an account's context after it has had no lease for this long (default 30 s). */
  idleMs?: number;
}

/** An account's context, held by one job until `release()`. */
export interface PoolLease {
  readonly context: BrowserContext;
  /** The account's working page (created on first use, with the account's cookies set). */
  page(): Promise<Page>;
  /** Close the working page: the next `page()` opens a fresh one (after a crash or a wedged page). */
  discardPage(): Promise<void>;
  release(): void;
}

interface Entry {
  context: BrowserContext;
  cookies: CookieParam[];
  /** Cookies the page must (re)receive before its next use. */
  cookiesDirty: boolean;
  page: Page | null;
  leases: number;
  idleTimer: NodeJS.Timeout | null;
}

export class BrowserPool {
  private browser: Promise<Browser> | null = null;
  private readonly entries = new Map<string, Promise<Entry>>();
  private readonly idleMs: number;

  constructor(private readonly opts: PoolOptions = {}) {
    this.idleMs = opts.idleMs ?? 30_000;
  }

  /** Accounts whose context is open now. */
  get openAccounts(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The account's context, with `cookies` in it. Cookies that differ from the ones the context has (a new
   * login since) replace them before the page is next used.
   */
  async acquire(account: string, cookies: CookieParam[]): Promise<PoolLease> {
    let pending = this.entries.get(account);
    if (!pending) {
      pending = this.open(cookies);
      this.entries.set(account, pending);
      // A failed open must not poison the account: the next acquire tries again.
      pending.catch(() => {
        if (this.entries.get(account) === pending) this.entries.delete(account);
      });
    }
    const entry = await pending;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    entry.leases++;
    if (fingerprint(entry.cookies) !== fingerprint(cookies)) {
      entry.cookies = cookies;
      entry.cookiesDirty = true;
    }
    let released = false;
    return {
      context: entry.context,
      page: () => this.pageOf(entry),
      discardPage: async () => {
        const page = entry.page;
        entry.page = null;
        await page?.close().catch(() => {});
      },
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.leases === 0 && this.entries.get(account) === pending) {
          entry.idleTimer = setTimeout(() => void this.retire(account), this.idleMs);
          entry.idleTimer.unref();
        }
      },
    };
  }

  /** Close one account's context now (its leases are gone or do not matter any more). */
  async closeAccount(account: string): Promise<void> {
    const pending = this.entries.get(account);
    if (!pending) return;
    this.entries.delete(account);
    const entry = await pending.catch(() => null);
    if (!entry) return;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    await closeWithPages(entry.context).catch(() => {});
  }

  /**
   * An account idle for idleMs gives back its context; the last one also closes the browser, so a
   * `topn run` watching an empty queue for hours holds no Chromium (it relaunches in ~0.3 s when work comes).
   */
  private async retire(account: string): Promise<void> {
    await this.closeAccount(account);
    if (this.entries.size === 0) await this.closeBrowser();
  }

  /** Close every context and the browser. The pool may be used again afterwards (it relaunches). */
  async close(): Promise<void> {
    const accounts = [...this.entries.keys()];
    await Promise.all(accounts.map((a) => this.closeAccount(a)));
    await this.closeBrowser();
  }

  /** Whether a browser is running (or starting) now. */
  get browserOpen(): boolean {
    return this.browser !== null;
  }

  /** Every browser close under way: close() waits for one an idle account's retirement started. */
  private readonly closing = new Set<Promise<void>>();

  private async closeBrowser(): Promise<void> {
    const browser = this.browser;
    this.browser = null;
    if (browser) {
      const done = browser
        .then((b) => (b.connected ? closeWithPages(b) : undefined))
        .catch(() => {})
        .finally(() => this.closing.delete(done));
      this.closing.add(done);
    }
    await Promise.all([...this.closing]);
  }

  private getBrowser(): Promise<Browser> {
    if (!this.browser) {
      const launching = launchBrowser({
        // Publishing never needs a window.
        headless: true,
        ...(this.opts.env ? { env: this.opts.env } : {}),
      });
      this.browser = launching;
      launching.then(
        (b) =>
          b.once("disconnected", () => {
            // A crashed browser takes its contexts with it: start over on the next acquire.
            if (this.browser === launching) {
              this.browser = null;
              for (const [account, entry] of this.entries) {
                void entry.then((e) => e.idleTimer && clearTimeout(e.idleTimer)).catch(() => {});
                this.entries.delete(account);
              }
            }
          }),
        () => {
          if (this.browser === launching) this.browser = null;
        },
      );
    }
    return this.browser;
  }

  private async open(cookies: CookieParam[]): Promise<Entry> {
    const browser = await this.getBrowser();
    const context = await browser.createBrowserContext();
    return { context, cookies, cookiesDirty: true, page: null, leases: 0, idleTimer: null };
  }

  private async pageOf(entry: Entry): Promise<Page> {
    if (!entry.page || entry.page.isClosed()) {
      entry.page = await openPage(entry.context);
      entry.cookiesDirty = true;
    }
    if (entry.cookiesDirty) {
      await entry.page.setCookie(...entry.cookies);
      entry.cookiesDirty = false;
    }
    return entry.page;
  }
}

function fingerprint(cookies: readonly CookieParam[]): string {
  return JSON.stringify(cookies.map((c) => [c.name, c.value, c.domain ?? c.url ?? "", c.path ?? ""]).sort());
}
