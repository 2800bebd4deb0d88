// An account's way in: its saved cookies, and its working page on zhuanlan.zhihu.com from which every API
// call is made (the page's origin decides which cookies and CORS rules apply, as for Zhihu's own editor).

import type { Page } from "puppeteer-core";
import type { PoolLease } from "../browser/pool.js";
import type { CredentialStore } from "../credentials/index.js";
import { TaskFailure } from "../errors.js";
import { ZHUANLAN } from "./api.js";
import { loginCommand, pageBroken } from "./classify.js";
import type { SessionCookie } from "./cookies.js";
import { hasLoginCookie } from "./session-check.js";

const NAVIGATION_TIMEOUT_MS = 30_000;
export const PLATFORM = "zhihu";

/** The account's saved session cookies; none saved → session_expired naming the login command. */
export async function sessionCookies(store: CredentialStore, account: string): Promise<SessionCookie[]> {
  const session = await store.get(PLATFORM, account);
  if (!session || !hasLoginCookie(session.cookies)) {
    throw new TaskFailure(
      "session_expired",
      "load session",
      `no saved Zhihu session for account ${account}`,
      { hint: `log in first: ${loginCommand(account)}` },
    );
  }
  return session.cookies;
}

/**
 * The lease's page, on a zhuanlan.zhihu.com page (loaded once, then reused across the account's tasks).
 * `ensureLease` is awaited before the page is loaded, as before any other request of a job.
 */
export async function zhuanlanPage(lease: PoolLease, ensureLease?: () => Promise<void>): Promise<Page> {
  let page: Page;
  try {
    page = await lease.page();
  } catch (e) {
    throw openFailure(`the browser could not open a page: ${(e as Error).message}`, e);
  }
  if (page.url().startsWith(`${ZHUANLAN}/`)) return page;
  await ensureLease?.();
  let status = 0;
  try {
    const res = await page.goto(`${ZHUANLAN}/`, {
      waitUntil: "domcontentloaded",
      timeout: NAVIGATION_TIMEOUT_MS,
    });
    status = res?.status() ?? 0;
  } catch (e) {
    throw openFailure(`could not load ${ZHUANLAN}/: ${(e as Error).message}`, e);
  }
  if (status >= 400) throw openFailure(`${ZHUANLAN}/ answered HTTP ${status}`);
  return page;
}

/** A page that did not get to zhuanlan.zhihu.com is not reused: the next attempt starts from a new one. */
function openFailure(message: string, cause?: unknown): TaskFailure {
  const f = new TaskFailure("transient", "open zhuanlan.zhihu.com", message, { cause });
  pageBroken.add(f);
  return f;
}
