// www.zhihu.com: session check, the current publish endpoint, columns, sign-in pages and QR login.

import type { Ctx } from "./http.js";
import { homePage, signinPage } from "./pages.js";
import type { Route, SimEnv } from "./route.js";
import { asObject, dc0Value, escapeHtml, LOGIN_COOKIE_SEC, nowSec, qc1Value } from "./util.js";
import { columnJson, memberJson, publishResultText } from "./views.js";
import type { Article, Column } from "./world.js";

const QR = "/api/v3/account/api/login/qrcode";
/** A QR code is refreshed (status 5) when it gets this old. */
const QR_TTL_MS = 60_000;

function ensureDevice(ctx: Ctx): void {
  if (!ctx.cookies.d_c0) ctx.setCookie("d_c0", dc0Value(), { maxAgeSec: 3 * 365 * 24 * 3600 });
}

function qrLink(token: string): string {
  return `https://www.zhihu.com/account/scan/login/${token}?/api/login/qrcode`;
}

/**
 * Which column the current endpoint should publish into. How Zhihu names it there is unconfirmed, so every
 * plausible spelling is read: data.column{id}, data.columns[{id}], data.draft.column{id}, data.publish.column_id.
 */
function requestedColumn(data: Record<string, unknown>): string | null | undefined {
  const draft = asObject(data.draft);
  const publish = asObject(data.publish);
  const candidates: unknown[] = [
    data.column,
    Array.isArray(data.columns) ? data.columns[0] : undefined,
    draft.column,
    publish.column_id === undefined ? undefined : { id: publish.column_id },
  ];
  for (const c of candidates) {
    if (c === undefined) continue;
    if (c === null) return null;
    if (typeof c === "string") return c;
    const id = asObject(c).id;
    if (id !== undefined) return String(id);
  }
  return undefined;
}

function publishFailure(ctx: Ctx, status: number, code: number, message: string): void {
  ctx.sendJson(status, { code, message, data: null });
}

function handlePublish(ctx: Ctx, env: SimEnv) {
  const body = asObject(ctx.json());
  const data = asObject(body.data);
  const draftRef = asObject(data.draft);
  if (
    body.action !== "article" ||
    draftRef.id === undefined ||
    typeof asObject(data.publish).traceId !== "string"
  ) {
    return publishFailure(ctx, 400, 100001, "参数错误");
  }
  const article: Article | undefined = env.world.articles.get(String(draftRef.id));
  if (!article || article.deleted || article.account !== ctx.account) {
    return publishFailure(ctx, 404, 4041, "内容不存在或已被删除");
  }
  const columnId = requestedColumn(data);
  let column: Column | null | undefined;
  if (columnId === null) column = null;
  else if (columnId !== undefined) {
    if (columnId !== ctx.account!.column.id) return publishFailure(ctx, 403, 4033, "你不是该专栏的作者");
    column = ctx.account!.column;
  }
  const problem = env.world.publishProblem(article);
  // Content problems come back with HTTP 200 and a non-zero code: only `code` says it failed.
  if (problem) return publishFailure(ctx, 200, problem.code, problem.message);
  // Applied only when the publish goes through, like the rest of it.
  const permission = asObject(data.commentsPermission).comment_permission;
  if (typeof permission === "string") article.commentPermission = permission;
  env.world.publish(article, "current", column);
  ctx.sendJson(200, {
    code: 0,
    message: "success",
    data: { publish_type: "article", result: publishResultText(article) },
  });
}

export const wwwRoutes: Route[] = [
  {
    host: "www",
    method: "GET",
    path: /^\/$/,
    name: "page.home",
    api: false,
    handle(ctx) {
      const account = ctx.account;
      if (!account) return ctx.redirect("/signin?next=%2F");
      ctx.sendHtml(200, homePage(account));
    },
  },
  {
    host: "www",
    method: "GET",
    path: /^\/signin\/?$/,
    name: "page.signin",
    api: false,
    handle(ctx) {
      const next = ctx.url.searchParams.get("next") ?? "https://www.zhihu.com/";
      const target = new URL(next, "https://www.zhihu.com/");
      // Only zhihu.com targets, so the page cannot be used to bounce a person elsewhere.
      const safe = /(^|\.)zhihu\.com$/.test(target.hostname) ? target.href : "https://www.zhihu.com/";
      if (ctx.account) return ctx.redirect(safe);
      ctx.sendHtml(200, signinPage(safe));
    },
  },
  {
    host: "www",
    method: "POST",
    path: /^\/udid$/,
    name: "udid",
    api: true,
    xsrf: true,
    handle(ctx) {
      ensureDevice(ctx);
      ctx.send(201, "");
    },
  },
  {
    host: "www",
    method: "GET",
    path: /^\/api\/v4\/me$/,
    name: "me",
    api: true,
    auth: true,
    handle: (ctx) => ctx.sendJson(200, memberJson(ctx.account!)),
  },
  {
    host: "www",
    method: "POST",
    path: /^\/api\/v4\/content\/publish$/,
    name: "publish",
    api: true,
    auth: true,
    xsrf: true,
    handle: handlePublish,
  },
  {
    host: "www",
    method: "GET",
    path: /^\/api\/v4\/members\/([^/]+)\/column-contributions$/,
    name: "columns",
    api: true,
    handle(ctx, env) {
      const owner = [...env.world.accounts.values()].find((a) => a.urlToken === ctx.params[0]);
      if (!owner) return ctx.sendError(404, "用户不存在", { code: 404 });
      ctx.sendJson(200, {
        data: [{ column: columnJson(owner.column, owner), contributions_count: 0 }],
        paging: { is_end: true, is_start: true, totals: 1 },
      });
    },
  },
  {
    // Reads on www/api/v4 need the x-zse-96 signature; topn must read back through zhuanlan instead.
    host: "www",
    method: "GET",
    path: /^\/api\/v4\/articles\/(\d+)$/,
    name: "www.article",
    api: true,
    handle(ctx) {
      if (!ctx.header("x-zse-96"))
        return ctx.sendError(403, "请求参数异常，请升级客户端后重试。", { code: 10003 });
      ctx.sendError(404, "文章未找到");
    },
  },
  {
    host: "www",
    method: "POST",
    path: new RegExp(`^${QR}$`),
    name: "qr.create",
    api: true,
    xsrf: true,
    handle(ctx, env) {
      const login = env.world.newQr();
      ctx.sendJson(201, {
        token: login.token,
        link: qrLink(login.token),
        expires_at: nowSec() + QR_TTL_MS / 1000,
      });
    },
  },
  {
    host: "www",
    method: "GET",
    path: new RegExp(`^${QR}/([0-9a-f]+)/image$`),
    name: "qr.image",
    api: true,
    handle(ctx) {
      ctx.sendError(403, "系统监测到您的网络环境存在异常，为保证您的正常访问，请输入验证码进行验证。", {
        code: 40352,
        need_login: true,
        redirect: "https://www.zhihu.com/account/unhuman?type=unhuman&message=&need_login=true",
      });
    },
  },
  {
    host: "www",
    method: "GET",
    path: new RegExp(`^${QR}/([0-9a-f]+)/scan_info$`),
    name: "qr.poll",
    api: true,
    handle(ctx, env) {
      const login = env.world.qr.get(ctx.params[0] ?? "");
      if (!login || login.state === "consumed") return ctx.sendError(404, "二维码已失效", { code: 100_000 });
      if (login.state === "waiting" && Date.now() - login.createdAt > QR_TTL_MS) refreshQr(env, login.token);
      switch (login.state) {
        case "waiting":
          return ctx.sendJson(200, {
            status: 0,
            expires_at: Math.floor((login.createdAt + QR_TTL_MS) / 1000),
          });
        case "scanned":
          return ctx.sendJson(200, { status: 1 });
        case "refreshed": {
          const token = login.newToken!;
          // new_token's exact shape is not documented: both spellings seen in clients are given.
          return ctx.sendJson(200, { status: 5, new_token: { token, Token: token, link: qrLink(token) } });
        }
        case "confirmed": {
          const account = login.account!;
          const session = env.world.newSession(account);
          login.state = "consumed";
          ensureDevice(ctx);
          ctx.setCookie("z_c0", session.z_c0, { httpOnly: true, maxAgeSec: LOGIN_COOKIE_SEC });
          ctx.setCookie("q_c1", qc1Value(), { maxAgeSec: LOGIN_COOKIE_SEC });
          // Success is a body without `status`.
          return ctx.sendJson(200, {
            user_id: account.uid,
            uid: account.id,
            expires_in: LOGIN_COOKIE_SEC,
            lock_in: 1800,
            old_user_token: "",
          });
        }
      }
    },
  },
  {
    host: "www",
    method: "GET",
    path: /^\/equation$/,
    name: "equation",
    api: false,
    // Zhihu draws formulas as SVG images; this one only writes the TeX, enough for a page to show something.
    handle(ctx) {
      const tex = ctx.url.searchParams.get("tex") ?? "";
      const width = 12 + tex.length * 8;
      const svg =
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" viewBox="0 0 ${width} 20">` +
        `<text x="4" y="15" font-family="serif" font-size="14">${escapeHtml(tex)}</text></svg>`;
      ctx.send(200, svg, { "Content-Type": "image/svg+xml", "Cache-Control": "max-age=31536000" });
    },
  },
  {
    host: "www",
    method: "GET",
    path: /^\/account\/unhuman$/,
    name: "page.unhuman",
    api: false,
    handle: (ctx) =>
      ctx.sendHtml(200, "<!doctype html><title>安全验证 - 知乎</title><p>系统监测到您的网络环境存在异常</p>"),
  },
];

/** Replaces a QR token with a new one (status 5 for the old token). Returns the new token. */
export function refreshQr(env: SimEnv, token: string): string {
  const login = env.world.qr.get(token);
  if (!login) throw new Error(`no QR login ${token}`);
  const fresh = env.world.newQr();
  login.state = "refreshed";
  login.newToken = fresh.token;
  return fresh.token;
}
