// The browser pool: one browser, one context per account with only that account's cookies, reused while
// the account has work and closed after it has been idle.

import assert from "node:assert/strict";
import { test } from "node:test";
import { BrowserPool } from "../src/browser/pool.js";
import { toPuppeteerCookies } from "../src/zhihu/cookies.js";
import { waitFor } from "./helpers/run.js";
import { zhihuWorld } from "./helpers/zhihu.js";

test("one context per account, cookies kept apart, reused, closed when idle and on close()", async (t) => {
  const w = await zhihuWorld(t, { accounts: ["one", "two"] });
  const pool = new BrowserPool({ env: w.env, idleMs: 150 });
  t.after(() => pool.close());
  const cookiesOf = (name: string) => toPuppeteerCookies(w.accounts.get(name)!.cookies);

  const a = await pool.acquire("one", cookiesOf("one"));
  const b = await pool.acquire("two", cookiesOf("two"));
  assert.notEqual(a.context, b.context);
  const pa = await a.page();
  const pb = await b.page();
  await Promise.all([pa.goto("https://zhuanlan.zhihu.com/"), pb.goto("https://zhuanlan.zhihu.com/")]);
  const xsrf = (name: string) => w.accounts.get(name)!.cookies.find((c) => c.name === "_xsrf")!.value;
  assert.match(await pa.evaluate(() => document.cookie), new RegExp(`_xsrf=${xsrf("one")}`));
  assert.match(await pb.evaluate(() => document.cookie), new RegExp(`_xsrf=${xsrf("two")}`));
  const browser = pa.browser();

  // Released and taken again before the idle time: the same context and page.
  a.release();
  const again = await pool.acquire("one", cookiesOf("one"));
  assert.equal(again.context, a.context);
  assert.equal(await again.page(), pa);

  // A new login (other cookies) reaches the page before its next use.
  const fresh = toPuppeteerCookies(w.sim.createAccount("one").cookies);
  again.release();
  const relogged = await pool.acquire("one", fresh);
  const page = await relogged.page();
  const newXsrf = fresh.find((c) => c.name === "_xsrf")!.value;
  assert.match(await page.evaluate(() => document.cookie), new RegExp(`_xsrf=${newXsrf}`));
  relogged.release();

  await waitFor("account one's context to close when idle", () => !pool.openAccounts.includes("one"), {
    timeoutMs: 5_000,
  });
  assert.deepEqual(pool.openAccounts, ["two"], "account two still holds its lease");
  assert.equal(browser.connected, true);

  await pool.close();
  assert.deepEqual(pool.openAccounts, []);
  assert.equal(browser.connected, false);

  // Usable again after close(): a new browser is launched on demand.
  const later = await pool.acquire("two", cookiesOf("two"));
  const relaunched = (await later.page()).browser();
  assert.notEqual(relaunched, browser);
  later.release();

  // When the last account has been idle, the browser goes too (an idle `topn run` holds no Chromium).
  await waitFor("the idle pool to close its browser", () => !pool.browserOpen && !relaunched.connected, {
    timeoutMs: 5_000,
  });
});
