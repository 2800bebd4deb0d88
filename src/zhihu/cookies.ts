// Reading the cookie exports people bring to `topn login --cookies`: what cookie-export extensions,
// curl/yt-dlp-style cookies.txt files and the browser's developer tools produce. Cookie values never
// appear in an error message: a message may end up in a terminal, a log or an issue.
import type { Cookie, CookieParam } from "puppeteer-core";
import { UsageError } from "../errors.js";

/**
 * One cookie of a Zhihu session. `domain` follows the browsers' own convention: a leading dot
 * (".zhihu.com") marks a domain cookie sent to every subdomain; no dot ("www.zhihu.com") marks a
 * host-only cookie.
 */
export interface SessionCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  /** Unix seconds; absent for a session cookie. */
  expires?: number;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: "Strict" | "Lax" | "None";
}

const EXPORT_HINT =
  "export the cookies of www.zhihu.com with a cookie-export extension (JSON or Netscape cookies.txt), " +
  "or copy the Cookie request header from the browser's developer tools";

/**
 * Reads a JSON cookie array (EditThisCookie, Cookie-Editor, puppeteer, `{cookies:[…]}` as Playwright
 * writes), a Netscape cookies.txt, or a `Cookie:` header / `a=b; c=d` string. Keeps zhihu.com cookies only.
 * Throws UsageError when the text is none of these, holds no zhihu.com cookie, or no live `z_c0`.
 */
export function parseCookieExport(text: string, opts: { now?: number } = {}): SessionCookie[] {
  const clean = text
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .trim();
  if (clean === "") throw new UsageError("the cookie export is empty", EXPORT_HINT);
  const all = /^[[{]/.test(clean) ? parseJson(clean) : (parseNetscape(clean) ?? parseHeader(clean));
  if (!all) {
    throw new UsageError(
      "the cookie export is not a JSON cookie array, a Netscape cookies.txt or a Cookie header",
      EXPORT_HINT,
    );
  }
  const zhihu = dedupe(all.filter((c) => isZhihuDomain(c.domain)));
  if (zhihu.length === 0) {
    throw new UsageError(
      `the cookie export holds no zhihu.com cookies (${all.length} cookie(s) of other sites)`,
      "export the cookies while www.zhihu.com is the open tab",
    );
  }
  const z = zhihu.find((c) => c.name === "z_c0");
  if (!z || z.value === "") {
    throw new UsageError("no z_c0 cookie: export the cookies while logged in to www.zhihu.com");
  }
  const now = opts.now ?? Date.now() / 1000;
  if (z.expires !== undefined && z.expires <= now) {
    throw new UsageError(
      `the z_c0 cookie in the export expired on ${new Date(z.expires * 1000).toISOString()}`,
      "log in to www.zhihu.com in the browser again, then export the cookies again",
    );
  }
  return zhihu;
}

/** The CookieParam shape page.setCookie / browserContext.setCookie take. Host-only cookies go by `url`. */
export function toPuppeteerCookies(cookies: readonly SessionCookie[]): CookieParam[] {
  return cookies.map((c) => {
    const p: CookieParam = { name: c.name, value: c.value, path: c.path };
    if (c.domain.startsWith(".")) p.domain = c.domain;
    // CDP turns any cookie given a `domain` into a domain cookie; a URL keeps it host-only.
    else p.url = `https://${c.domain}${c.path}`;
    if (c.expires !== undefined) p.expires = c.expires;
    if (c.httpOnly !== undefined) p.httpOnly = c.httpOnly;
    if (c.secure !== undefined) p.secure = c.secure;
    // Chrome refuses SameSite=None without Secure: drop the attribute rather than the cookie.
    if (c.sameSite !== undefined && (c.sameSite !== "None" || c.secure)) p.sameSite = c.sameSite;
    return p;
  });
}

/** A cookie the browser holds, in the credential store's shape: the inverse of toPuppeteerCookies. */
export function fromPuppeteerCookie(c: Cookie): SessionCookie {
  const s: SessionCookie = { name: c.name, value: c.value, domain: c.domain, path: c.path };
  if (!c.session && c.expires > 0) s.expires = c.expires;
  s.httpOnly = c.httpOnly;
  s.secure = c.secure;
  if (c.sameSite && c.sameSite !== "Default") s.sameSite = c.sameSite;
  return s;
}

/** When the z_c0 login cookie expires (unix seconds), or null for a session cookie or none. */
export function cookieExpiry(cookies: readonly SessionCookie[]): number | null {
  return cookies.find((c) => c.name === "z_c0")?.expires ?? null;
}

/** zhihu.com or a subdomain; a cookie's leading dot is ignored. */
export function isZhihuDomain(domain: string): boolean {
  const host = domain.replace(/^\./, "").toLowerCase();
  return host === "zhihu.com" || host.endsWith(".zhihu.com");
}

/** The browser keeps one cookie per (name, domain, path): the later line of an export wins. */
function dedupe(cookies: SessionCookie[]): SessionCookie[] {
  const byKey = new Map<string, SessionCookie>();
  for (const c of cookies) {
    const key = `${c.name}\t${c.domain.toLowerCase()}\t${c.path}`;
    byKey.delete(key);
    byKey.set(key, c);
  }
  return [...byKey.values()];
}

// ---- JSON exports -------------------------------------------------------------------------------

function parseJson(text: string): SessionCookie[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // SyntaxError messages quote the offending text since Node 20: name the position only.
    const at = /position (\d+)/.exec(String((e as Error).message))?.[1];
    throw new UsageError(
      `the cookie export looks like JSON but does not parse${at ? ` (at character ${at})` : ""}`,
      EXPORT_HINT,
    );
  }
  const obj = data as { cookies?: unknown; name?: unknown } | null;
  const list = Array.isArray(data) ? data : typeof obj?.name === "string" ? [obj] : obj?.cookies;
  if (!Array.isArray(list)) {
    throw new UsageError(
      "the JSON cookie export is neither an array of cookies nor {cookies: […]}",
      EXPORT_HINT,
    );
  }
  return list.map((raw, i) => fromJsonCookie(raw, i));
}

interface JsonCookie {
  name?: unknown;
  value?: unknown;
  domain?: unknown;
  path?: unknown;
  hostOnly?: unknown;
  session?: unknown;
  expirationDate?: unknown; // EditThisCookie, Cookie-Editor
  expires?: unknown; // puppeteer, Playwright (-1: session)
  httpOnly?: unknown;
  secure?: unknown;
  sameSite?: unknown;
}

function fromJsonCookie(raw: unknown, index: number): SessionCookie {
  const j = (typeof raw === "object" && raw !== null ? raw : {}) as JsonCookie;
  if (
    typeof j.name !== "string" ||
    j.name === "" ||
    typeof j.value !== "string" ||
    typeof j.domain !== "string"
  ) {
    throw new UsageError(
      `cookie #${index + 1} of the JSON export has no name, value or domain`,
      "export the cookies again with a cookie-export extension (JSON format)",
    );
  }
  const dotted = j.domain.startsWith(".");
  // Extensions mark host-only cookies with hostOnly; a bare domain with hostOnly:false is a domain cookie.
  const domain = !dotted && j.hostOnly === false ? `.${j.domain}` : j.domain;
  const c: SessionCookie = {
    name: j.name,
    value: j.value,
    domain,
    path: typeof j.path === "string" ? j.path : "/",
  };
  const expires = typeof j.expirationDate === "number" ? j.expirationDate : j.expires;
  if (j.session !== true && typeof expires === "number" && expires > 0) c.expires = expires;
  if (typeof j.httpOnly === "boolean") c.httpOnly = j.httpOnly;
  if (typeof j.secure === "boolean") c.secure = j.secure;
  const sameSite = toSameSite(j.sameSite);
  if (sameSite) c.sameSite = sameSite;
  return c;
}

function toSameSite(v: unknown): SessionCookie["sameSite"] {
  switch (typeof v === "string" ? v.toLowerCase() : "") {
    case "strict":
      return "Strict";
    case "lax":
      return "Lax";
    case "none":
    case "no_restriction":
      return "None";
    default:
      return undefined; // "unspecified", null: the browser's default
  }
}

// ---- Netscape cookies.txt -----------------------------------------------------------------------

const HTTP_ONLY_PREFIX = "#HttpOnly_";

/** null when the text is not a cookies.txt (so the next format may try). */
function parseNetscape(text: string): SessionCookie[] | null {
  const lines = text.split("\n");
  const looksNetscape =
    /^#\s*(Netscape )?HTTP Cookie File/i.test(lines[0] ?? "") ||
    lines.some((l) => l.startsWith(HTTP_ONLY_PREFIX) || l.split("\t").length >= 6);
  if (!looksNetscape) return null;
  const out: SessionCookie[] = [];
  lines.forEach((line, i) => {
    const httpOnly = line.startsWith(HTTP_ONLY_PREFIX);
    if (!httpOnly && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    // Split before trimming: an empty value leaves the line ending in a tab.
    const f = (httpOnly ? line.slice(HTTP_ONLY_PREFIX.length) : line).split("\t").map((x) => x.trim());
    if (f.length < 6 || f.length > 7) {
      throw new UsageError(
        `line ${i + 1} of the cookies.txt does not have the 7 tab-separated fields ` +
          "(domain, subdomains, path, secure, expires, name, value)",
        "export the cookies again; do not edit the file by hand (editors turn tabs into spaces)",
      );
    }
    const [host = "", sub = "", path = "/", secure = "", expires = "0", name = "", value = ""] = f;
    const domain = sub.toUpperCase() === "TRUE" && !host.startsWith(".") ? `.${host}` : host;
    const c: SessionCookie = { name, value, domain, path, secure: secure.toUpperCase() === "TRUE", httpOnly };
    const exp = Number(expires);
    if (Number.isFinite(exp) && exp > 0) c.expires = exp;
    out.push(c);
  });
  return out;
}

// ---- Cookie header ------------------------------------------------------------------------------

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `Cookie: a=b; c=d` or `a=b; c=d`; in a pasted block of request headers, its Cookie line. */
function parseHeader(text: string): SessionCookie[] | null {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const line = lines.length === 1 ? lines[0]! : lines.find((l) => /^\s*cookie\s*:/i.test(l));
  if (line === undefined) return null;
  const pairs = line
    .replace(/^\s*cookie\s*:/i, "")
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const out: SessionCookie[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = eq > 0 ? pair.slice(0, eq).trim() : "";
    if (!COOKIE_NAME.test(name)) return null;
    out.push({ name, value: pair.slice(eq + 1).trim(), domain: ".zhihu.com", path: "/" });
  }
  return out.length > 0 ? out : null;
}
