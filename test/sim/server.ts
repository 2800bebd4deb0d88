// The simulator: one HTTPS server that answers for every Zhihu host (dispatching on Host), plus the
// in-process control object tests use. See README.md in this folder for the contract.

import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { makeCertificate } from "./cert.js";
import { startControlServer } from "./control.js";
import { type FaultSpec, Faults } from "./faults.js";
import { applyCors, Ctx, dropConnection, hostKind, readBody, sendLoginRequired } from "./http.js";
import type { Route, SimEnv } from "./route.js";
import { fixtureRoutes } from "./routes-fixtures.js";
import { imageRoutes } from "./routes-images.js";
import { refreshQr, wwwRoutes } from "./routes-www.js";
import { zhuanlanRoutes } from "./routes-zhuanlan.js";
import { dc0Value, LOGIN_COOKIE_SEC, nowSec, qc1Value, randomHex } from "./util.js";
import { articleUrl } from "./views.js";
import { type Account, World } from "./world.js";

const ROUTES: Route[] = [...wwwRoutes, ...zhuanlanRoutes, ...imageRoutes, ...fixtureRoutes];

export interface SimulatorOptions {
  /** HTTPS port; 0 (default) picks a free one. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port of the plain-HTTP control surface on 127.0.0.1; 0 (default) picks one, false disables it. */
  controlPort?: number | false;
  faults?: FaultSpec;
}

/** A cookie as puppeteer's `setCookie` takes it. */
export interface SimCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  expires: number;
}

export interface AccountInfo {
  name: string;
  uid: string;
  id: string;
  urlToken: string;
  columnId: string;
  cookies: SimCookie[];
  /** The same cookies as a `Cookie:` header value. */
  cookieHeader: string;
}

export interface RequestRecord {
  seq: number;
  /** When the request arrived and when it was answered (ms since the epoch): what was in flight together. */
  start: number;
  at: number;
  account: string | null;
  method: string;
  host: string;
  path: string;
  endpoint: string;
  status: number;
  preflight: boolean;
  /** A state-changing API call (not a read, page or preflight): what a "nothing was written" test counts. */
  write: boolean;
  /** The User-Agent and Sec-CH-UA headers the client sent ("" / null when absent). */
  userAgent: string;
  secChUa: string | null;
  fault?: string;
}

export interface ArticleView {
  id: string;
  account: string;
  state: "draft" | "published" | "deleted";
  /** The published title and HTML, or the draft's when never published. */
  title: string;
  html: string;
  draftTitle: string;
  draftHtml: string;
  /** The cover (title image URL) shown, or the draft's; "" when none. */
  cover: string;
  draftCover: string;
  topics: string[];
  column: { id: string; title: string } | null;
  commentPermission: string;
  publishCount: number;
  publishedVia: Array<"current" | "legacy">;
  url: string;
  createdAt: number;
  publishedAt: number | null;
}

export interface ImageView {
  imageId: string;
  md5: string;
  uploaded: boolean;
  size: number;
}

export class Simulator {
  readonly world = new World();
  readonly faults = new Faults();
  readonly port: number;
  /** The TOPN_ZHIHU_RESOLVE value pointing at this simulator. */
  readonly resolveEnv: string;
  /** Base URL of the HTTP control surface, when enabled. */
  controlUrl: string | null = null;
  /** The self-signed certificate (PEM), for Node clients that want to trust it. */
  readonly cert: string;
  private readonly log: RequestRecord[] = [];
  private readonly inFlight = new Map<string, { now: number; max: number }>();
  /** @internal */
  readonly active: Array<{ account: string | null; endpoint: string }> = [];
  private seq = 0;
  private closeControl: (() => Promise<void>) | null = null;

  constructor(
    private readonly server: Server,
    cert: string,
  ) {
    const address = server.address() as AddressInfo;
    this.port = address.port;
    this.resolveEnv = `127.0.0.1:${this.port}`;
    this.cert = cert;
  }

  /** @internal */
  attachControl(url: string, close: () => Promise<void>): void {
    this.controlUrl = url;
    this.closeControl = close;
  }

  private requireAccount(name: string): Account {
    const account = this.world.accounts.get(name);
    if (!account) throw new Error(`no simulated account named ${name}`);
    return account;
  }

  /** Creates the account if needed and logs it in afresh: the returned cookies are a new, valid session. */
  createAccount(name: string): AccountInfo {
    const account = this.world.createAccount(name);
    const session = this.world.newSession(account);
    const expires = nowSec() + LOGIN_COOKIE_SEC;
    const values: Array<[string, string, boolean]> = [
      ["z_c0", session.z_c0, true],
      ["d_c0", dc0Value(), false],
      ["_xsrf", randomHex(16), false],
      ["q_c1", qc1Value(), false],
    ];
    const cookies = values.map(([cookieName, value, httpOnly]) => ({
      name: cookieName,
      value,
      domain: ".zhihu.com",
      path: "/",
      secure: true,
      httpOnly,
      expires,
    }));
    return {
      name,
      uid: account.uid,
      id: account.id,
      urlToken: account.urlToken,
      columnId: account.column.id,
      cookies,
      cookieHeader: cookies.map((c) => `${c.name}=${c.value}`).join("; "),
    };
  }

  /** Ends every session of the account: its calls get 401 with `code` (100 "请求需要登录", or 101). */
  revokeSessions(name: string, code: 100 | 101 = 100): number {
    return this.world.revoke(this.requireAccount(name), code);
  }

  addTopic(name: string): { id: string; name: string } {
    return { ...this.world.addTopic(name) };
  }

  /** Tokens of QR logins waiting for a person, newest first. */
  pendingQr(): string[] {
    return this.world.pendingQr().map((q) => q.token);
  }

  private qrLogin(token?: string) {
    const login = token === undefined ? this.world.pendingQr()[0] : this.world.qr.get(token);
    if (!login || (login.state !== "waiting" && login.state !== "scanned")) {
      throw new Error(token === undefined ? "no QR login is pending" : `QR login ${token} is not pending`);
    }
    return login;
  }

  /** The person scans the code with the app: the next poll answers `{status:1}`. */
  scanQr(token?: string): string {
    const login = this.qrLogin(token);
    login.state = "scanned";
    return login.token;
  }

  /** The person confirms in the app as `name`: the next poll succeeds and sets z_c0. */
  confirmQr(name: string, token?: string): string {
    const login = this.qrLogin(token);
    login.account = this.world.createAccount(name);
    login.state = "confirmed";
    return login.token;
  }

  /** The code expires: the next poll answers `{status:5, new_token}`. Returns the new token. */
  refreshQr(token?: string): string {
    return refreshQr(this.env, this.qrLogin(token).token);
  }

  /** Resolves with the newest pending QR token once one exists (a sign-in page or a client created it). */
  async waitForQr(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const token = this.pendingQr()[0];
      if (token !== undefined) return token;
      if (Date.now() > deadline) throw new Error(`no QR login appeared within ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  /** A person signs in as `name` on whatever is waiting (the /signin page or a terminal QR): scan, then confirm. */
  async completeSignin(name: string, timeoutMs = 10_000): Promise<string> {
    const token = await this.waitForQr(timeoutMs);
    this.scanQr(token);
    return this.confirmQr(name, token);
  }

  articles(filter: { account?: string } = {}): ArticleView[] {
    return [...this.world.articles.values()]
      .filter((a) => filter.account === undefined || a.account.name === filter.account)
      .map((a) => {
        const shown = a.published ?? a.draft;
        return {
          id: a.id,
          account: a.account.name,
          state: a.deleted ? "deleted" : a.published ? "published" : "draft",
          title: shown.title,
          html: shown.content,
          draftTitle: a.draft.title,
          draftHtml: a.draft.content,
          cover: shown.titleImage,
          draftCover: a.draft.titleImage,
          topics: a.topics.map((t) => t.name),
          column: a.column ? { ...a.column } : null,
          commentPermission: a.commentPermission,
          publishCount: a.publishCount,
          publishedVia: [...a.publishedVia],
          url: articleUrl(a.id),
          createdAt: a.createdAt,
          publishedAt: a.publishedAt,
        };
      });
  }

  /** Titles one account has as more than one published article: the duplicates topn must never make. */
  duplicateTitles(): Array<{ account: string; title: string; ids: string[] }> {
    const groups = new Map<string, { account: string; title: string; ids: string[] }>();
    for (const a of this.articles()) {
      if (a.state !== "published") continue;
      const key = `${a.account}\u0000${a.title}`;
      const group = groups.get(key) ?? { account: a.account, title: a.title, ids: [] };
      group.ids.push(a.id);
      groups.set(key, group);
    }
    return [...groups.values()].filter((g) => g.ids.length > 1);
  }

  /** The most API calls of one account that were in flight at once (per account). */
  maxInFlight(): Record<string, number> {
    return Object.fromEntries([...this.inFlight].map(([name, v]) => [name, v.max]));
  }

  /**
   * API calls being handled right now (an endpoint name per call), optionally of one account. A call stays
   * here until its handler has finished, even if the client went away: what a crash test waits on.
   */
  activeCalls(account?: string): string[] {
    return this.active.filter((c) => account === undefined || c.account === account).map((c) => c.endpoint);
  }

  /** The request log, optionally for one account (by name) and only after sequence number `since`. */
  requests(account?: string, opts: { since?: number } = {}): RequestRecord[] {
    const since = opts.since ?? 0;
    return this.log
      .filter((r) => r.seq > since && (account === undefined || r.account === account))
      .map((r) => ({ ...r }));
  }

  /** The sequence number of the last request logged: pass it as `since` to see only what came after. */
  get lastSeq(): number {
    return this.seq;
  }

  /** The state-changing API calls made, optionally of one account after `since` (a draft, a save, a publish…). */
  writes(account?: string, opts: { since?: number } = {}): RequestRecord[] {
    return this.requests(account, opts).filter((r) => r.write);
  }

  /** How many articles (drafts included, deleted ones not) each account has. */
  articleCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.articles())
      if (a.state !== "deleted") counts[a.account] = (counts[a.account] ?? 0) + 1;
    return counts;
  }

  images(): ImageView[] {
    return [...this.world.images.values()].map((i) => ({
      imageId: i.imageId,
      md5: i.md5,
      uploaded: i.bytes !== null,
      size: i.bytes?.length ?? 0,
    }));
  }

  async close(): Promise<void> {
    await this.closeControl?.();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** @internal */
  get env(): SimEnv {
    return { world: this.world, faults: this.faults };
  }

  /** @internal */
  record(entry: Omit<RequestRecord, "seq" | "at" | "start"> & { start?: number; end?: number }): void {
    const { end, ...rest } = entry;
    const at = end ?? Date.now();
    this.log.push({ seq: ++this.seq, ...rest, start: entry.start ?? at, at });
  }

  /** @internal Counts one API call of `account` in flight; returns the function that ends it. */
  enter(account: string): () => void {
    const slot = this.inFlight.get(account) ?? { now: 0, max: 0 };
    this.inFlight.set(account, slot);
    slot.now++;
    slot.max = Math.max(slot.max, slot.now);
    let done = false;
    return () => {
      if (!done) slot.now--;
      done = true;
    };
  }
}

/** Who made a call: the session's account, or for an OSS upload, the account its upload token was issued to. */
function actorOf(ctx: Ctx, sim: Simulator): string | null {
  if (ctx.account) return ctx.account.name;
  if (ctx.host === "upload") {
    const accessId = /^OSS ([^:]+):/.exec(ctx.header("authorization") ?? "")?.[1];
    return (accessId && sim.world.uploadTokens.get(accessId)?.account) || null;
  }
  return null;
}

function sendFault(ctx: Ctx, decision: ReturnType<Faults["decide"]>): boolean {
  switch (decision.kind) {
    case "pass":
      ctx.resetAfter = decision.resetAfter;
      return false;
    case "reset":
      dropConnection(ctx);
      return true;
    case "fail500":
      ctx.sendError(500, "服务器开小差了，请稍后重试", { code: 500 });
      return true;
    case "429":
      ctx.res.setHeader("Retry-After", String(decision.retryAfterSec));
      ctx.sendError(429, "请求过于频繁，请稍后重试", { code: 429 });
      return true;
    case "40352":
      ctx.sendError(403, "系统监测到您的网络环境存在异常，为保证您的正常访问，请输入验证码进行验证。", {
        code: 40352,
        need_login: true,
        redirect: `https://www.zhihu.com/account/unhuman?type=unhuman&message=&need_login=true&session=${randomHex(8)}`,
      });
      return true;
    case "4031":
      ctx.sendError(403, "请先完成手机号绑定", { code: 4031 });
      return true;
  }
}

async function dispatch(ctx: Ctx, sim: Simulator): Promise<void> {
  const { req, res } = ctx;
  const path = ctx.url.pathname;
  const base = {
    start: Date.now(),
    method: ctx.method,
    host: req.headers.host ?? "",
    path,
    userAgent: ctx.header("user-agent") ?? "",
    secChUa: ctx.header("sec-ch-ua") ?? null,
    write: false,
  };
  if (applyCors(req, res, ctx.host)) {
    sim.record({ ...base, account: null, endpoint: "preflight", status: 204, preflight: true });
    return;
  }
  let route: Route | undefined;
  let match: RegExpExecArray | null = null;
  for (const r of ROUTES) {
    if (r.host !== ctx.host || r.method !== ctx.method) continue;
    match = r.path.exec(path);
    if (match) {
      route = r;
      break;
    }
  }
  if (!route || !match) {
    const known = ROUTES.some((r) => r.host === ctx.host && r.path.test(path));
    ctx.sendError(known ? 405 : 404, known ? "Method Not Allowed" : "Not Found", { code: known ? 405 : 404 });
    sim.record({ ...base, account: null, endpoint: "unknown", status: res.statusCode, preflight: false });
    return;
  }
  ctx.params = match.slice(1);
  // Every zhihu.com page hands out the CSRF token to a browser that lacks one, as the real site does.
  if (!route.api && (ctx.host === "www" || ctx.host === "zhuanlan") && !ctx.cookies._xsrf) {
    ctx.setCookie("_xsrf", randomHex(16));
  }
  ctx.session = sim.world.sessions.get(ctx.cookies.z_c0 ?? "") ?? null;
  const actor = actorOf(ctx, sim);
  const leave = route.api && actor !== null ? sim.enter(actor) : () => {};
  let fault: string | undefined;
  // A call is in flight until its handler has answered (or dropped the connection), not until the socket's
  // 'close' event: that one can come after the client, already answered, sent its next call, and a loaded
  // machine then saw two calls of one account "in flight" when the client made them one after the other.
  let answeredAt: number | null = null;
  const answered = () => {
    if (answeredAt !== null) return;
    answeredAt = Date.now();
    leave();
  };
  res.on("close", () => {
    answered();
    sim.record({
      ...base,
      account: actor,
      endpoint: route.name,
      write: route.api && ctx.method !== "GET",
      status: res.headersSent ? res.statusCode : 0,
      preflight: false,
      end: answeredAt ?? Date.now(),
      ...(fault === undefined ? {} : { fault }),
    });
  });
  const call = { account: actor, endpoint: route.name };
  sim.active.push(call);
  try {
    await handle(route);
  } finally {
    answered();
    sim.active.splice(sim.active.indexOf(call), 1);
  }
  async function handle(route: Route): Promise<void> {
    ctx.body = await readBody(req);
    if (route.api) {
      const latency = sim.faults.latencyFor(route.name);
      // Unref'd: a slow answer owed to a client that is gone must not keep the test process alive.
      if (latency > 0) await sleep(latency, undefined, { ref: false });
      const decision = sim.faults.decide(route.name, actor);
      if (decision.kind !== "pass" || decision.resetAfter)
        fault = decision.kind === "pass" ? "reset-after" : decision.kind;
      if (sendFault(ctx, decision)) return;
    }
    if (route.auth && !ctx.account) return sendLoginRequired(ctx);
    if (route.xsrf && (!ctx.cookies._xsrf || ctx.header("x-xsrftoken") !== ctx.cookies._xsrf)) {
      return ctx.sendError(403, "_xsrf 校验失败，请刷新页面后重试", { code: 403, name: "XSRFError" });
    }
    await route.handle(ctx, sim.env);
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const { key, cert } = await makeCertificate();
  let sim: Simulator | null = null;
  const server = createServer({ key, cert }, (req, res) => {
    const kind = hostKind(req.headers.host);
    if (kind === null || sim === null) {
      res.writeHead(421, { "Content-Type": "text/plain" }).end("Misdirected Request");
      return;
    }
    const ctx = new Ctx(req, res, kind);
    dispatch(ctx, sim).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed)
        ctx.sendError(500, `simulator bug: ${String(error)}`, { code: 500 });
    });
  });
  // Browsers keep connections open; a short keep-alive lets close() finish promptly.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  sim = new Simulator(server, cert);
  if (opts.faults) sim.faults.set(opts.faults);
  if (opts.controlPort !== false) {
    try {
      const control = await startControlServer(sim, opts.controlPort ?? 0);
      sim.attachControl(control.url, control.close);
    } catch (error) {
      await sim.close();
      throw error;
    }
  }
  return sim;
}
