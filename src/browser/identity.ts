// A headless browser says so: "HeadlessChrome/…" in its User-Agent, and some builds put a "HeadlessChrome"
// brand in Sec-CH-UA and navigator.userAgentData, a well-known bot signal. topn's pages present the
// installed browser as it presents itself with a window: the same version, platform and hints, with only
// the headless marker replaced. A browser with a window is left exactly as it is.
//
// Set per page (CDP Network.setUserAgentOverride, through puppeteer) before the page makes its first
// request: every page topn opens comes from openPage(), or passes through presentAsInstalled() before it
// navigates. The session stays with a document until its last request only because launch.ts keeps one
// document per frame; what no page's session sees (workers, the browser's own fetches) gets the same
// User-Agent from the launch's --user-agent (launch.ts, identity-cache.ts).

import type { Browser, BrowserContext, Page, Protocol } from "puppeteer-core";

type Metadata = Protocol.Emulation.UserAgentMetadata;
type Brand = Protocol.Emulation.UserAgentBrandVersion;

export interface BrowserIdentity {
  userAgent: string;
  metadata: Metadata;
}

const HEADLESS = "HeadlessChrome";
const identities = new WeakMap<Browser, Promise<BrowserIdentity | null>>();

/** A new page of `from` that presents the installed browser (see the top of this file). */
export async function openPage(from: Browser | BrowserContext): Promise<Page> {
  const browser = "browser" in from ? from.browser() : from;
  // The probe (first page of a browser only) runs in a page of its own, alongside this one's opening.
  const [opened, identity] = await Promise.allSettled([from.newPage(), browserIdentity(browser)]);
  if (opened.status === "rejected") throw opened.reason;
  const page = opened.value;
  try {
    if (identity.status === "rejected") throw identity.reason;
    await present(page, identity.value);
  } catch (e) {
    await page.close().catch(() => {});
    throw e;
  }
  return page;
}

/**
 * Closes `target` (a context or the browser) after its pages. A page's identity lives in its debugging
 * session; closing the context or the browser first detaches that session while the page may still be
 * fetching on its own (a favicon after the last navigation), and such a late request goes out as the
 * headless browser. Closing the page first cancels what it still had under way.
 */
export async function closeWithPages(target: Browser | BrowserContext): Promise<void> {
  const pages = await target.pages().catch(() => []);
  await Promise.all(pages.map((p) => p.close().catch(() => {})));
  await target.close();
}

/** Gives an existing page (one the browser opened by itself) the identity, before it navigates anywhere. */
export async function presentAsInstalled(page: Page): Promise<void> {
  await present(page, await browserIdentity(page.browser()));
}

async function present(page: Page, identity: BrowserIdentity | null): Promise<void> {
  if (identity)
    await page.setUserAgent({ userAgent: identity.userAgent, userAgentMetadata: identity.metadata });
}

/** What `browser`'s pages present, or null when it already is what a person's browser sends (a window). */
export function browserIdentity(browser: Browser): Promise<BrowserIdentity | null> {
  let pending = identities.get(browser);
  if (!pending) {
    pending = probeIdentity(browser);
    identities.set(browser, pending);
    pending.catch(() => identities.delete(browser));
  }
  return pending;
}

/**
 * Gives `browser` an identity known beforehand (identity-cache.ts) instead of probing it: a browser launched
 * with --user-agent cannot be probed, it reports empty high-entropy client hints.
 */
export function adoptIdentity(browser: Browser, identity: BrowserIdentity | null): void {
  identities.set(browser, Promise.resolve(identity));
}

/** Asks a browser launched without --user-agent what it presents, and what its pages should present instead. */
export async function probeIdentity(browser: Browser): Promise<BrowserIdentity | null> {
  const ua = await browser.userAgent();
  if (!ua.includes(HEADLESS)) return null;
  // navigator.userAgentData exists only in secure contexts; chrome://version is one that loads nothing
  // from the network. A page of its own: the pages that go to Zhihu never start from a chrome:// page.
  const page = await browser.newPage();
  let hints: HighEntropyHints;
  try {
    await page.goto("chrome://version", { waitUntil: "domcontentloaded" });
    hints = (await page.evaluate(
      `navigator.userAgentData.getHighEntropyValues(${JSON.stringify(HINTS)})`,
    )) as HighEntropyHints;
  } finally {
    await page.close().catch(() => {});
  }
  const product = productBrand(browser.process()?.spawnfile ?? "");
  return {
    userAgent: ua.replace(`${HEADLESS}/`, "Chrome/"),
    metadata: {
      brands: rebrand(hints.brands, product),
      fullVersionList: rebrand(hints.fullVersionList, product),
      fullVersion: hints.uaFullVersion,
      platform: hints.platform,
      platformVersion: hints.platformVersion,
      architecture: hints.architecture,
      model: hints.model,
      mobile: hints.mobile,
      bitness: hints.bitness,
      wow64: hints.wow64,
      formFactors: hints.formFactors,
    },
  };
}

const HINTS = [
  "architecture",
  "bitness",
  "formFactors",
  "fullVersionList",
  "model",
  "platformVersion",
  "uaFullVersion",
  "wow64",
];

interface HighEntropyHints {
  brands: Brand[];
  fullVersionList: Brand[];
  mobile: boolean;
  platform: string;
  platformVersion: string;
  architecture: string;
  model: string;
  bitness: string;
  wow64: boolean;
  uaFullVersion: string;
  formFactors: string[];
}

/** The brand the executable shows with a window, when it is not plain Chromium (which has its brand already). */
export function productBrand(executable: string): string | null {
  if (/google[- ]chrome|[\\/]google[\\/]chrome[\\/]/i.test(executable)) return "Google Chrome";
  if (/msedge|microsoft[- ]edge/i.test(executable)) return "Microsoft Edge";
  return null;
}

/** The brand list with a HeadlessChrome entry replaced by the product's brand (or dropped for Chromium). */
export function rebrand(brands: readonly Brand[], product: string | null): Brand[] {
  return brands.flatMap((b) => {
    if (b.brand !== HEADLESS) return [{ ...b }];
    return product === null || brands.some((o) => o.brand === product) ? [] : [{ ...b, brand: product }];
  });
}
