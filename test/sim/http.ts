// Request context and response helpers: cookies, JSON and error bodies in Zhihu's shapes, CORS.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Account, Session } from "./world.js";

export type HostKind = "www" | "zhuanlan" | "api" | "upload" | "pic";

export function hostKind(hostHeader: string | undefined): HostKind | null {
  const host = (hostHeader ?? "").toLowerCase().replace(/:\d+$/, "");
  if (host === "www.zhihu.com" || host === "zhihu.com") return "www";
  if (host === "zhuanlan.zhihu.com") return "zhuanlan";
  if (host === "api.zhihu.com") return "api";
  if (host === "zhihu-pics-upload.zhimg.com") return "upload";
  if (/^pic[1-4x]\.zhimg\.com$/.test(host)) return "pic";
  return null;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    // The first wins: it is the most specific one the browser sent.
    if (!(name in out)) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

export interface CookieOptions {
  httpOnly?: boolean;
  maxAgeSec?: number;
}

/** A Set-Cookie value on Domain=.zhihu.com, as every session cookie of the real site. */
function serializeCookie(name: string, value: string, opts: CookieOptions = {}): string {
  const parts = [`${name}=${value}`, "Domain=zhihu.com", "Path=/", "Secure"];
  if (opts.maxAgeSec !== undefined) {
    parts.push(
      `Max-Age=${opts.maxAgeSec}`,
      `Expires=${new Date(Date.now() + opts.maxAgeSec * 1000).toUTCString()}`,
    );
  }
  if (opts.httpOnly) parts.push("HttpOnly");
  return parts.join("; ");
}

export class Ctx {
  readonly url: URL;
  readonly cookies: Record<string, string>;
  params: string[] = [];
  body: Buffer = Buffer.alloc(0);
  session: Session | null = null;
  /** Set by fault injection: do the work, then drop the connection instead of answering. */
  resetAfter = false;
  private readonly setCookies: string[] = [];

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly host: HostKind,
  ) {
    this.url = new URL(req.url ?? "/", `https://${req.headers.host ?? "www.zhihu.com"}`);
    this.cookies = parseCookies(req.headers.cookie);
  }

  get method(): string {
    return this.req.method ?? "GET";
  }

  /** The logged-in account, when the session is valid. */
  get account(): Account | null {
    return this.session && this.session.revokedCode === undefined ? this.session.account : null;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  /** The request body as JSON (null when it is not JSON). */
  json(): unknown {
    try {
      return JSON.parse(this.body.toString("utf8"));
    } catch {
      return null;
    }
  }

  /** The request body as fields: form-encoded, or a JSON object. */
  fields(): Record<string, string> {
    const text = this.body.toString("utf8");
    const parsed = this.json();
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    }
    return Object.fromEntries(new URLSearchParams(text));
  }

  setCookie(name: string, value: string, opts?: CookieOptions): void {
    this.setCookies.push(serializeCookie(name, value, opts));
  }

  send(status: number, body: string | Buffer, headers: Record<string, string | number> = {}): void {
    if (this.resetAfter) {
      dropConnection(this);
      return;
    }
    if (this.setCookies.length > 0) this.res.setHeader("Set-Cookie", this.setCookies);
    const buffer = typeof body === "string" ? Buffer.from(body) : body;
    this.res.writeHead(status, { "Content-Length": buffer.length, ...headers });
    this.res.end(buffer);
  }

  sendJson(status: number, value: unknown): void {
    this.sendJsonText(status, JSON.stringify(value));
  }

  sendJsonText(status: number, text: string): void {
    this.send(status, text, {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "private, must-revalidate, no-cache, no-store, max-age=0",
    });
  }

  /** Zhihu's usual error body: `{"error": {code, message, ...}}`. */
  sendError(status: number, message: string, extra: Record<string, unknown> = {}): void {
    this.sendJson(status, { error: { ...extra, message } });
  }

  sendHtml(status: number, html: string): void {
    this.send(status, html, { "Content-Type": "text/html; charset=utf-8" });
  }

  redirect(location: string): void {
    this.send(302, "", { Location: location });
  }
}

/** 401 as Zhihu answers a call that needs a session it does not have (code 101 for a session revoked so). */
export function sendLoginRequired(ctx: Ctx): void {
  const code = ctx.session?.revokedCode ?? 100;
  ctx.sendError(401, code === 101 ? "身份未经过验证" : "请求需要登录", {
    code,
    name: "AuthenticationInvalidRequest",
  });
}

/**
 * Ends the connection mid-response. A bare close before any byte is not enough: Chrome silently resends a
 * request (even a POST) whose reused keep-alive connection closes before answering, so the client would
 * never see the fault. A truncated status line is never resent: the fetch fails with a network error.
 */
export function dropConnection(ctx: Ctx): void {
  const socket = ctx.req.socket;
  socket.write("HTTP/1.1 50", () => socket.destroy());
}

export async function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

// CORS as the real site grants it: only https zhihu.com origins, with credentials, never a wildcard.
const ALLOWED_ORIGIN = /^https:\/\/([a-z0-9-]+\.)*zhihu\.com$/;
const ALLOWED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const ALLOWED_HEADERS: Record<"zhihu" | "upload", Set<string>> = {
  zhihu: new Set([
    "content-type",
    "x-xsrftoken",
    "x-requested-with",
    "x-zse-93",
    "x-zse-96",
    "x-zst-81",
    "x-api-version",
    "x-app-za",
    "x-ab-param",
    "x-ab-pb",
    "x-udid",
  ]),
  upload: new Set([
    "authorization",
    "content-type",
    "content-md5",
    "x-oss-date",
    "x-oss-security-token",
    "x-oss-user-agent",
  ]),
};

/** Adds CORS headers for an allowed origin. Returns true when the request was a preflight and is answered. */
export function applyCors(req: IncomingMessage, res: ServerResponse, host: HostKind): boolean {
  const origin = req.headers.origin;
  const allowed = typeof origin === "string" && ALLOWED_ORIGIN.test(origin);
  const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
  res.setHeader("Vary", "Origin");
  if (allowed) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Access-Control-Allow-Credentials", "true");
    res.setHeader("Access-Control-Expose-Headers", "ETag, x-request-id, Retry-After");
  }
  if (!preflight) return false;
  if (allowed) {
    const method = String(req.headers["access-control-request-method"]).toUpperCase();
    if (ALLOWED_METHODS.includes(method))
      res.setHeader("Access-Control-Allow-Methods", ALLOWED_METHODS.join(","));
    const table = ALLOWED_HEADERS[host === "upload" ? "upload" : "zhihu"];
    const requested = String(req.headers["access-control-request-headers"] ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    // Grant exactly what was asked when all of it is allowed; otherwise only the allowed list, so the browser refuses.
    const granted = requested.every((h) => table.has(h)) ? requested : [...table];
    if (granted.length > 0) res.setHeader("Access-Control-Allow-Headers", granted.join(","));
    res.setHeader("Access-Control-Max-Age", "0");
  }
  res.writeHead(204, { "Content-Length": 0 });
  res.end();
  return true;
}
