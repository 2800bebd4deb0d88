// Hides secrets in anything topn writes where a person or another program may read it: failure
// artifacts (HTML, API exchanges), logs, error messages. Names stay, values become `[redacted]`, the
// rest of the text is left byte for byte, so an artifact is still useful for finding out what went wrong.

export const REDACTED = "[redacted]";

/** Cookies that carry a Zhihu session or can help forge one. */
const SECRET_COOKIES = ["z_c0", "_xsrf", "d_c0", "q_c1", "__zse_ck", "captcha_session_v2", "SESSIONID"];

/** Object keys / JSON fields whose value is a secret as a whole (compared case-insensitively). */
const SECRET_KEYS = [
  ...SECRET_COOKIES,
  "xsrf",
  "x-xsrftoken",
  "x-xsrf-token",
  "x-oss-security-token",
  "security_token",
  "access_id",
  "access_key",
  "access_key_id",
  "access_key_secret",
  "access_token",
  "refresh_token",
  "upload_token",
  "token", // QR login: {token, link}
  "new_token", // QR login: a refreshed QR code
  "password",
];
const SECRET_KEY_SET = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));
const SECRET_COOKIE_SET = new Set(SECRET_COOKIES);

/** Set-Cookie attributes: not secrets, and what makes a redacted Set-Cookie still readable. */
const COOKIE_ATTRIBUTES = new Set([
  "domain",
  "path",
  "expires",
  "max-age",
  "samesite",
  "priority",
  "secure",
  "httponly",
  "partitioned",
]);

const alt = (names: readonly string[]) =>
  names.map((n) => n.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")).join("|");

// A cookie value (RFC 6265 cookie-octets, or a quoted one). It stops at whitespace and quotes, so a
// cookie string inside JSON or JS never swallows the code around it.
const COOKIE_VALUE = `"[^"\\\\;\\r\\n]*"|[^;,\\s"'\\\\<>]*`;
const COOKIE_NAME = "[!#$%&*+\\-.^_`|~\\w]+";
const PAIR = new RegExp(`(^|[;,\\s])(\\s*)(${COOKIE_NAME})=(${COOKIE_VALUE})`, "g");

/** `a=1; b=2` → `a=[redacted]; b=[redacted]`, keeping Set-Cookie attributes. */
function redactCookiePairs(value: string): string {
  return value.replace(PAIR, (all, sep: string, sp: string, name: string, v: string) =>
    v === "" || v === REDACTED || COOKIE_ATTRIBUTES.has(name.toLowerCase())
      ? all
      : `${sep}${sp}${name}=${REDACTED}`,
  );
}

/** `OSS id:sig` → `OSS [redacted]`: the scheme says which kind of credential was sent. */
function redactAuthorization(value: string): string {
  const m = /^(\s*[A-Za-z][\w-]*\s+)\S/.exec(value);
  return m ? `${m[1]}${REDACTED}` : REDACTED;
}

const FIELD_KEYS = `cookie|set-cookie|authorization|${alt(SECRET_KEYS)}`;

/** The new text of a secret field's value. */
function redactField(key: string, value: string): string {
  if (value === "" || value === REDACTED) return value;
  const k = key.toLowerCase();
  if (k === "cookie" || k === "set-cookie") return redactCookiePairs(value);
  if (k === "authorization") return redactAuthorization(value);
  return REDACTED;
}

interface Rule {
  re: RegExp;
  fn: (...m: string[]) => string;
}

const RULES: Rule[] = [
  // Cookie / Set-Cookie header lines, also quoted (curl -H '…', a JSON string). Only at a line start or
  // after a quote: "cookie:" in running text is not a header.
  {
    re: /(?<=^[ \t]*|["'])((?:set-)?cookie)([ \t]*:[ \t]*)([^\r\n]*)/gim,
    fn: (_all, name, colon, value) => `${name}${colon}${redactCookiePairs(value!)}`,
  },
  // JSON / JS fields: "cookie": "a=b; c=d", "authorization": "OSS id:sig", "token": "…", 'access_key': '…'.
  {
    re: new RegExp(
      String.raw`(?<![\w-])(["']?)(${FIELD_KEYS})\1(\s*:\s*)(["'])((?:(?!\4)[^\\\r\n]|\\.)*)\4`,
      "gi",
    ),
    fn: (_all, q, key, colon, vq, value) => `${q}${key}${q}${colon}${vq}${redactField(key!, value!)}${vq}`,
  },
  // The same inside a JSON string that holds JSON: \"token\":\"…\" (an inner \" is written \\\").
  {
    re: new RegExp(
      String.raw`(?<![\w-])(\\["'])(${FIELD_KEYS})\1(\s*:\s*)(\\["'])((?:\\\\\\["']|\\[^"']|[^\\\r\n])*)\4`,
      "gi",
    ),
    fn: (_all, q, key, colon, vq, value) => `${q}${key}${q}${colon}${vq}${redactField(key!, value!)}${vq}`,
  },
  // Bare header lines: "x-xsrftoken: …", the OSS canonical string's "x-oss-security-token:…",
  // "Authorization: OSS id:sig". Lengths and shapes keep minified JS (`authorization:e}`) untouched.
  {
    re: /(?<![\w-])(x-xsrftoken|x-xsrf-token|x-oss-security-token)([ \t]*:[ \t]*)([^\s"'<>,;{}()\\]{8,})/gi,
    fn: (_all, name, colon) => `${name}${colon}${REDACTED}`,
  },
  {
    re: /(?<![\w-])(authorization[ \t]*:[ \t]*[A-Za-z][\w-]*[ \t]+)([^\s"'<>,;{}()\\]+)/gi,
    fn: (all, head, value) => (value === REDACTED ? all : `${head}${REDACTED}`),
  },
  // document.cookie-style strings: two or more pairs joined by "; ", starting a string or a line (so
  // that code such as `x=1; y=2` inside a script is left alone).
  {
    re: new RegExp(
      `(?<=^|["'\`])${COOKIE_NAME}=(?:${COOKIE_VALUE})(?:;[ \\t]+${COOKIE_NAME}=(?:${COOKIE_VALUE}))+`,
      "gm",
    ),
    fn: (all) => redactCookiePairs(all),
  },
  // A lone session cookie: "z_c0=…", "?_xsrf=…&".
  {
    re: new RegExp(`(?<![\\w\\-.])(${alt(SECRET_COOKIES)})=("[^"\\\\;\\r\\n]*"|[^;&,\\s"'\\\\<>]+)`, "g"),
    fn: (all, name, value) => (value === REDACTED ? all : `${name}=${REDACTED}`),
  },
  // Cookie objects in JSON text (puppeteer, exports): {"name":"z_c0", …, "value":"…"} in either order.
  // The gap is bounded so that many names without a value cannot make the scan quadratic.
  {
    re: new RegExp(
      `("name"\\s*:\\s*"(?:${alt(SECRET_COOKIES)})"[^{}]{0,400}?"value"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)"`,
      "g",
    ),
    fn: (all, head, value) => (value === "" || value === REDACTED ? all : `${head}${REDACTED}"`),
  },
  {
    re: new RegExp(
      `("value"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)("[^{}]{0,400}?"name"\\s*:\\s*"(?:${alt(SECRET_COOKIES)})")`,
      "g",
    ),
    fn: (all, head, value, tail) => (value === "" || value === REDACTED ? all : `${head}${REDACTED}${tail}`),
  },
  // The QR login token inside its URLs (a token that is polled after the scan yields the session).
  {
    re: /(\/api\/login\/qrcode\/|\/scan\/login\/)([^/?#\s"'<>\\]+)/g,
    fn: (all, head, token) => (token === REDACTED ? all : `${head}${REDACTED}`),
  },
  // The z_c0 ticket wherever it appears without its name: 2|1:0|10:<ts>|4:z_c0|…, or URL-encoded.
  {
    re: /2(?:\||%7C)1(?::|%3A)0(?:\||%7C)10(?::|%3A)\d{6,}(?:\||%7C)[^\s"'<>;,&\\]*/gi,
    fn: () => REDACTED,
  },
];

/** Hides every known secret shape in a text (HTTP exchange, HTML, log line). Idempotent. */
export function redact(text: string): string {
  let out = text;
  for (const { re, fn } of RULES)
    out = out.replace(re, fn as (substring: string, ...args: unknown[]) => string);
  return out;
}

/** Deep copy of a JSON-like value with secrets hidden: for JSON artifacts (API exchanges, cookie lists). */
export function redactValue<T>(value: T): T {
  return walk(value) as T;
}

function walk(v: unknown): unknown {
  if (typeof v === "string") return redact(v);
  if (Array.isArray(v)) return v.map(walk);
  if (v === null || typeof v !== "object" || !isPlain(v)) return v;
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(src)) {
    const k = key.toLowerCase();
    const secret = k === "cookie" || k === "set-cookie" || k === "authorization" || SECRET_KEY_SET.has(k);
    out[key] = secret ? mapStrings(val, (s) => redactField(k, s)) : walk(val);
  }
  // A cookie object ({name, value, domain…} as puppeteer and exports have it): its value is the secret.
  if (typeof src["name"] === "string" && typeof src["value"] === "string" && src["value"] !== "") {
    if ("domain" in src || SECRET_COOKIE_SET.has(src["name"])) out["value"] = REDACTED;
  }
  return out;
}

/** Applies `fn` to every string inside `v` (a secret field may hold an object, e.g. upload_token). */
function mapStrings(v: unknown, fn: (s: string) => string): unknown {
  if (typeof v === "string") return fn(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, fn));
  if (v !== null && typeof v === "object" && isPlain(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, fn)]));
  }
  return v;
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
