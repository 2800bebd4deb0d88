// What Zhihu's answers mean for a task: one table, read top to bottom, first match wins. Whether a kind is
// retried is decided elsewhere (src/runner/policy.ts); here only what happened and what the person must do.

import { TaskFailure } from "../errors.js";
import type { ApiAnswer, Outcome } from "./api.js";
import { asRecord, parseJson } from "./json.js";

interface ClassifyContext {
  step: string;
  account: string;
  /** The answer carries a `code` that must be 0 (the current publish endpoint answers refusals with HTTP 200). */
  publishCode: boolean;
}

/** What an answer says, in the shapes Zhihu uses: `{error:{code,message,redirect}}`, `{code,message}`, OSS XML. */
interface Reading {
  outcome: Outcome;
  status: number;
  code: number | null;
  message: string;
  redirect: string | null;
  /** `error.name` (XSRFError) or the OSS `<Code>`. */
  name: string | null;
  retryAfterMs: number | null;
}

interface Rule {
  when: (r: Reading, c: ClassifyContext) => boolean;
  fail: (r: Reading, c: ClassifyContext) => TaskFailure;
}

/**
 * Failures after which the account's page must be replaced before the next attempt: closed, crashed or
 * wedged, never loaded, or holding a stale _xsrf cookie.
 */
export const pageBroken = new WeakSet<TaskFailure>();

/** Where Zhihu sends a person to pass its anti-bot check when its answer names no page. */
export const VERIFY_URL = "https://www.zhihu.com/account/unhuman";

/** What a person types to renew an account's session. */
export const loginCommand = (account: string): string => `topn login zhihu --account ${account}`;

const loginHint = (c: ClassifyContext) => `log in again: ${loginCommand(c.account)}`;
const said = (r: Reading) => (r.message ? `: ${r.message}` : "");
const codeOf = (r: Reading) => `HTTP ${r.status}${r.code !== null ? `, code ${r.code}` : ""}`;

const RULES: Rule[] = [
  {
    // fetch's TypeError "Failed to fetch": refused, reset or cut off mid-answer.
    when: (r) => r.outcome.kind === "network",
    fail: (r, c) => new TaskFailure("transient", c.step, `the connection to Zhihu failed (${r.message})`),
  },
  {
    when: (r) => r.outcome.kind === "timeout",
    fail: (r, c) => new TaskFailure("transient", c.step, `Zhihu did not answer within ${timeoutSec(r)} s`),
  },
  {
    when: (r) => r.status === 401 || r.code === 100 || r.code === 101,
    fail: (r, c) =>
      new TaskFailure(
        "session_expired",
        c.step,
        `the Zhihu session of account ${c.account} has expired or was logged out (${codeOf(r)}${said(r)})`,
        // A hint, not part of the message: an account's pause shows the message as its reason beside its own fix.
        { hint: loginHint(c) },
      ),
  },
  {
    when: (r) => r.code === 40352,
    fail: (r, c) =>
      new TaskFailure(
        "needs_verification",
        c.step,
        `Zhihu wants a person to pass its security check for account ${c.account} (code 40352${said(r)})`,
        {
          url: r.redirect ?? VERIFY_URL,
          hint: "open the link in a browser logged in as this account, pass the check, then: topn retry",
        },
      ),
  },
  {
    when: (r) => r.code === 4031,
    fail: (r, c) =>
      new TaskFailure(
        "phone_binding",
        c.step,
        `Zhihu requires account ${c.account} to bind a phone number first (code 4031${said(r)})`,
        {
          url: "https://www.zhihu.com/settings/account",
          hint: "bind a phone number in Zhihu's account settings, then: topn retry",
        },
      ),
  },
  {
    when: (r) => r.status === 429,
    fail: (r, c) =>
      new TaskFailure("rate_limited", c.step, `Zhihu is limiting the request rate (HTTP 429${said(r)})`, {
        retryAfterMs: r.retryAfterMs ?? 60_000,
      }),
  },
  {
    // A missing or stale _xsrf cookie: loading a Zhihu page sets a fresh one, so the page is replaced.
    when: (r) => r.status === 403 && r.name === "XSRFError",
    fail: (r, c) => {
      const f = new TaskFailure("transient", c.step, `Zhihu refused the CSRF token (${codeOf(r)}${said(r)})`);
      pageBroken.add(f);
      return f;
    },
  },
  {
    when: (r) => r.status >= 500,
    fail: (r, c) => new TaskFailure("transient", c.step, `Zhihu answered ${codeOf(r)}${said(r)}`),
  },
  {
    // The upload token ran out between registering and uploading: registering again issues a new one.
    when: (r) => r.name === "SecurityTokenExpired" || r.name === "RequestTimeTooSkewed",
    fail: (r, c) =>
      new TaskFailure(
        "transient",
        c.step,
        `the image host refused the upload (${r.name}${said(r)})${r.name === "RequestTimeTooSkewed" ? "; check this machine's clock" : ""}`,
      ),
  },
  {
    when: (r, c) => c.publishCode && r.status < 400 && r.code !== null && r.code !== 0,
    fail: (r, c) => new TaskFailure("rejected", c.step, `Zhihu refused to publish (${codeOf(r)}${said(r)})`),
  },
  {
    when: (r) => r.status >= 400 || r.status < 200,
    fail: (r, c) => new TaskFailure("rejected", c.step, `Zhihu refused the request (${codeOf(r)}${said(r)})`),
  },
];

/** The failure an outcome means, or null when it is a success. */
export function classify(outcome: Outcome, c: ClassifyContext): TaskFailure | null {
  const r = read(outcome);
  for (const rule of RULES) if (rule.when(r, c)) return rule.fail(r, c);
  return null;
}

function read(outcome: Outcome): Reading {
  const reading: Reading = {
    outcome,
    status: 0,
    code: null,
    message: "",
    redirect: null,
    name: null,
    retryAfterMs: null,
  };
  if (outcome.kind === "network") return { ...reading, message: outcome.message };
  if (outcome.kind === "timeout") return reading;
  const a = outcome.answer;
  reading.status = a.status;
  reading.retryAfterMs = retryAfter(a);
  const type = a.headers["content-type"] ?? "";
  if (/xml/i.test(type) || a.text.trimStart().startsWith("<?xml")) {
    reading.name = /<Code>([^<]*)<\/Code>/.exec(a.text)?.[1] ?? null;
    reading.message = /<Message>([^<]*)<\/Message>/.exec(a.text)?.[1] ?? "";
    return reading;
  }
  let body: Record<string, unknown>;
  try {
    body = asRecord(parseJson(a.text));
  } catch {
    if (a.status >= 400) reading.message = a.text.replace(/\s+/g, " ").trim().slice(0, 200);
    return reading;
  }
  const error = asRecord(body.error);
  const src = Object.keys(error).length > 0 ? error : body;
  const code = Number(src.code);
  if (src.code !== undefined && src.code !== null && Number.isFinite(code)) reading.code = code;
  if (typeof src.message === "string") reading.message = src.message;
  if (typeof src.redirect === "string") reading.redirect = src.redirect;
  if (typeof src.name === "string") reading.name = src.name;
  return reading;
}

function retryAfter(a: ApiAnswer): number | null {
  const v = a.headers["retry-after"];
  if (v === undefined) return null;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function timeoutSec(r: Reading): number {
  return r.outcome.kind === "timeout" ? Math.round(r.outcome.ms / 100) / 10 : 0;
}
