// Every call to Zhihu goes through the account's page on zhuanlan.zhihu.com, as `fetch` with the page's
// cookies: one session, one fingerprint, the same CORS and cookie rules as Zhihu's own editor. Node only
// decides what to send and reads what came back; it never talks to Zhihu itself.

import type { Page } from "puppeteer-core";
import { TaskFailure } from "../errors.js";
import { classify, pageBroken } from "./classify.js";
import { parseJson } from "./json.js";

export const ZHUANLAN = "https://zhuanlan.zhihu.com";
export const WWW = "https://www.zhihu.com";
export const API = "https://api.zhihu.com";
export const OSS_UPLOAD = "https://zhihu-pics-upload.zhimg.com";

/** Zhihu's own front end sends this constant; the publishing endpoints need no x-zse-96 signature. */
export const ZSE_93 = "101_3_3.0";
const CALL_TIMEOUT_MS = 30_000;
/** Grace for page.evaluate itself on top of the in-page timeout: past it the page is wedged. */
const EVALUATE_GRACE_MS = 5_000;
const KEEP_BODY_CHARS = 20_000;

export interface ApiRequest {
  /** The step this call belongs to, named in any failure ("create draft", "upload image chart.png"). */
  step: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  json?: unknown;
  /** Raw bytes (image upload), handed to the page as base64. */
  bytes?: Buffer;
  headers?: Record<string, string>;
  /** A Zhihu API call (default): session cookies, x-xsrftoken, x-requested-with, x-zse-93. False: a foreign
   * host (OSS) that gets exactly `headers` and no cookies. */
  zhihu?: boolean;
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export type Outcome =
  | { kind: "answer"; answer: ApiAnswer }
  | { kind: "network"; message: string }
  | { kind: "timeout"; ms: number };

/** The last request/response, for failure artifacts. Secrets are hidden when it is written. */
export interface Exchange {
  step: string;
  at: string;
  durationMs: number;
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response?: { status: number; headers: Record<string, string>; body: string };
  error?: string;
}

export interface CallOptions {
  /** Statuses the caller handles itself (e.g. 404 on a draft that may be gone): returned, not thrown. */
  allow?: readonly number[];
  /** The answer carries a `code` that must be 0 (the current publish endpoint). */
  publishCode?: boolean;
}

interface PageRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  bodyBase64?: string;
  credentials: "include" | "omit";
  xsrf: boolean;
  timeoutMs: number;
}

// Runs inside the page. Kept as source text: a transpiled function may reference helpers (esbuild's
// __name) that do not exist in the page.
const IN_PAGE = `async (r) => {
  const headers = { ...r.headers };
  if (r.xsrf) {
    const m = document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]*)/);
    if (m) headers["x-xsrftoken"] = decodeURIComponent(m[1]);
  }
  let body = r.body;
  if (r.bodyBase64 !== undefined) {
    const bin = atob(r.bodyBase64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    body = bytes;
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), r.timeoutMs);
  try {
    const res = await fetch(r.url, { method: r.method, headers, body, credentials: r.credentials, signal: ctl.signal, cache: "no-store" });
    const text = await res.text();
    const h = {};
    for (const name of ["content-type", "retry-after", "etag", "x-request-id", "x-oss-request-id"]) {
      const v = res.headers.get(name);
      if (v !== null) h[name] = v;
    }
    return { kind: "answer", answer: { status: res.status, headers: h, text } };
  } catch (e) {
    if (ctl.signal.aborted) return { kind: "timeout", ms: r.timeoutMs };
    return { kind: "network", message: String((e && e.message) || e) };
  } finally {
    clearTimeout(timer);
  }
}`;

export interface ZhihuApiOptions {
  account: string;
  signal?: AbortSignal;
  /**
   * Awaited right before each request goes to the page (a job's `ctx.ensureLease`): a job that woke from a
   * long pause after its lease moved on must not send anything. A rejection propagates unchanged.
   */
  ensureLease?: () => Promise<void>;
}

export class ZhihuApi {
  lastExchange: Exchange | null = null;

  constructor(
    private readonly page: Page,
    private readonly opts: ZhihuApiOptions,
  ) {}

  get account(): string {
    return this.opts.account;
  }

  /** Throws the job's abort reason (lease lost, shutdown) as a TaskFailure: checked before every step. */
  checkAborted(step: string): void {
    const signal = this.opts.signal;
    if (!signal?.aborted) return;
    const reason: unknown = signal.reason;
    throw reason instanceof TaskFailure ? reason : new TaskFailure("lease_lost", step, "the job was stopped");
  }

  /** One call; a failure (by Zhihu's answer or the network) is thrown as a classified TaskFailure. */
  async call(req: ApiRequest, opts: CallOptions = {}): Promise<ApiAnswer> {
    const outcome = await this.send(req);
    if (outcome.kind === "answer" && opts.allow?.includes(outcome.answer.status)) return outcome.answer;
    const failure = classify(outcome, {
      step: req.step,
      account: this.opts.account,
      publishCode: opts.publishCode ?? false,
    });
    if (failure) throw failure;
    if (outcome.kind !== "answer") throw new TaskFailure("internal", req.step, "unclassified outcome");
    return outcome.answer;
  }

  /** `call`, then the body as JSON (ids kept exact). */
  async json(req: ApiRequest, opts: CallOptions = {}): Promise<{ status: number; body: unknown }> {
    const answer = await this.call(req, opts);
    return { status: answer.status, body: bodyJson(answer, req.step) };
  }

  /** One call, unclassified: what the page's fetch saw. */
  async send(req: ApiRequest): Promise<Outcome> {
    this.checkAborted(req.step);
    const zhihu = req.zhihu ?? true;
    const headers: Record<string, string> = zhihu
      ? { "x-requested-with": "fetch", "x-zse-93": ZSE_93, ...req.headers }
      : { ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers["content-type"] ??= "application/json";
    }
    const pageReq: PageRequest = {
      url: req.url,
      method: req.method,
      headers,
      credentials: zhihu ? "include" : "omit",
      xsrf: zhihu && req.method !== "GET",
      timeoutMs: CALL_TIMEOUT_MS,
      ...(body !== undefined ? { body } : {}),
      ...(req.bytes !== undefined ? { bodyBase64: req.bytes.toString("base64") } : {}),
    };
    const exchange: Exchange = {
      step: req.step,
      at: new Date().toISOString(),
      durationMs: 0,
      request: {
        method: req.method,
        url: req.url,
        // The token itself stays in the page; the record says only that it was sent.
        headers: pageReq.xsrf ? { ...headers, "x-xsrftoken": "(the _xsrf cookie)" } : headers,
        ...(body !== undefined ? { body: clip(body) } : {}),
        ...(req.bytes !== undefined ? { body: `(${req.bytes.length} bytes)` } : {}),
      },
    };
    await this.opts.ensureLease?.();
    this.lastExchange = exchange;
    const t0 = performance.now();
    const outcome = await this.evaluate(pageReq, req.step);
    exchange.durationMs = Math.round(performance.now() - t0);
    if (outcome.kind === "answer") {
      const a = outcome.answer;
      exchange.response = { status: a.status, headers: a.headers, body: clip(a.text) };
    } else {
      exchange.error = outcome.kind === "timeout" ? `no answer within ${outcome.ms} ms` : outcome.message;
    }
    return outcome;
  }

  private async evaluate(req: PageRequest, step: string): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const signal = this.opts.signal;
    try {
      return await Promise.race([
        this.page.evaluate(`(${IN_PAGE})(${JSON.stringify(req)})`) as Promise<Outcome>,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const f = new TaskFailure("transient", step, `the browser page stopped answering (${req.url})`);
            pageBroken.add(f);
            reject(f);
          }, req.timeoutMs + EVALUATE_GRACE_MS);
          // The job was stopped mid-call: stop waiting; the page's own fetch times out by itself.
          onAbort = () => {
            try {
              this.checkAborted(step);
            } catch (e) {
              reject(e);
            }
          };
          signal?.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
    } catch (e) {
      if (e instanceof TaskFailure) throw e;
      // The page went away (closed, crashed, navigated): a fresh page on the next attempt fixes it.
      const f = new TaskFailure("transient", step, `the browser page failed: ${(e as Error).message}`, {
        cause: e,
      });
      pageBroken.add(f);
      throw f;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** The body of a successful answer as JSON; an empty body is null. Not JSON → a transient failure. */
function bodyJson(answer: ApiAnswer, step: string): unknown {
  if (answer.text.trim() === "") return null;
  try {
    return parseJson(answer.text);
  } catch {
    throw new TaskFailure(
      "transient",
      step,
      `Zhihu answered HTTP ${answer.status} with something that is not JSON: ${answer.text.slice(0, 120)}`,
    );
  }
}

function clip(text: string): string {
  return text.length > KEEP_BODY_CHARS ? `${text.slice(0, KEEP_BODY_CHARS)}… (${text.length} chars)` : text;
}
