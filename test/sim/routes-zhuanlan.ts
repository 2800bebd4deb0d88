// zhuanlan.zhihu.com: drafts, topics, the legacy publish endpoint, read-back, re-hosting and pages.

import { type Ctx, sendLoginRequired } from "./http.js";
import { articlePage, soft404Page, writePage, zhuanlanHomePage } from "./pages.js";
import type { Route, SimEnv } from "./route.js";
import { asObject, imageInfo, md5, zhihuFilterEmoji } from "./util.js";
import { articleJson, draftJson, imageSrc, initialDataText, topicJson } from "./views.js";
import type { Article, Column } from "./world.js";

const ID = "(\\d{1,25})";
const NOT_FOUND = "文章未找到";

/**
 * The article `ctx` names, if the caller may see it. Another account's article is a 404 to read and a 403
 * to change, as on Zhihu; either way it never leaks.
 */
function ownArticle(ctx: Ctx, env: SimEnv, write: boolean): Article | null {
  const article = env.world.articles.get(ctx.params[0] ?? "");
  if (!article || article.deleted) {
    ctx.sendError(404, NOT_FOUND);
    return null;
  }
  if (article.account !== ctx.account) {
    if (write) ctx.sendError(403, "你没有权限进行此操作", { code: 403 });
    else ctx.sendError(404, NOT_FOUND);
    return null;
  }
  return article;
}

const str = (value: unknown, fallback: string): string => (typeof value === "string" ? value : fallback);

async function fetchBytes(env: SimEnv, url: URL): Promise<Buffer | null> {
  const local = /^\/v2-([0-9a-f]{32})/.exec(url.pathname);
  if (url.hostname.endsWith("zhimg.com")) {
    return (local && env.world.images.get(local[1]!)?.bytes) || null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: "follow" });
    return res.ok ? Buffer.from(await res.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

export const zhuanlanRoutes: Route[] = [
  {
    host: "zhuanlan",
    method: "GET",
    path: /^\/$/,
    name: "page.zhuanlan",
    api: false,
    handle: (ctx) => ctx.sendHtml(200, zhuanlanHomePage()),
  },
  {
    host: "zhuanlan",
    method: "GET",
    path: /^\/write\/?$/,
    name: "page.write",
    api: false,
    handle(ctx) {
      const account = ctx.account;
      if (!account)
        return ctx.redirect(`https://www.zhihu.com/signin?next=${encodeURIComponent(ctx.url.href)}`);
      ctx.sendHtml(200, writePage(account));
    },
  },
  {
    host: "zhuanlan",
    method: "GET",
    path: new RegExp(`^/p/${ID}/?$`),
    name: "page.article",
    api: false,
    handle(ctx, env) {
      const article = env.world.articles.get(ctx.params[0] ?? "");
      const visible =
        article &&
        !article.deleted &&
        article.published !== null &&
        article.publishedAt !== null &&
        Date.now() - article.publishedAt >= env.faults.reviewMs;
      // A soft 404: status 200, only the title says nothing is there.
      if (!visible) return ctx.sendHtml(200, soft404Page());
      ctx.sendHtml(200, articlePage(article, initialDataText(article)));
    },
  },
  {
    host: "zhuanlan",
    method: "POST",
    path: /^\/api\/articles\/drafts$/,
    name: "draft.create",
    api: true,
    auth: true,
    xsrf: true,
    handle(ctx, env) {
      const body = asObject(ctx.json());
      const article = env.world.createArticle(ctx.account!, str(body.title, ""), str(body.content, ""));
      if (typeof body.table_of_contents === "boolean") article.draft.tableOfContents = body.table_of_contents;
      if (typeof body.can_reward === "boolean") article.draft.canReward = body.can_reward;
      ctx.sendJson(200, draftJson(article));
    },
  },
  {
    host: "zhuanlan",
    method: "GET",
    path: new RegExp(`^/api/articles/${ID}/draft$`),
    name: "draft.read",
    api: true,
    auth: true,
    handle(ctx, env) {
      const article = ownArticle(ctx, env, false);
      if (article) ctx.sendJson(200, draftJson(article));
    },
  },
  {
    host: "zhuanlan",
    method: "PATCH",
    path: new RegExp(`^/api/articles/${ID}/draft$`),
    name: "draft.save",
    api: true,
    auth: true,
    xsrf: true,
    handle(ctx, env) {
      const article = ownArticle(ctx, env, true);
      if (!article) return;
      const body = asObject(ctx.json());
      const draft = article.draft;
      draft.title = zhihuFilterEmoji(str(body.title, draft.title));
      draft.content = zhihuFilterEmoji(str(body.content, draft.content));
      draft.titleImage = str(body.titleImage, draft.titleImage);
      if (typeof body.table_of_contents === "boolean") draft.tableOfContents = body.table_of_contents;
      if (typeof body.can_reward === "boolean") draft.canReward = body.can_reward;
      article.updatedAt = Date.now();
      // Zhihu answers a save with an empty 200.
      ctx.send(200, "");
    },
  },
  {
    host: "zhuanlan",
    method: "DELETE",
    path: new RegExp(`^/api/articles/${ID}/draft$`),
    name: "draft.delete",
    api: true,
    auth: true,
    xsrf: true,
    handle(ctx, env) {
      const article = ownArticle(ctx, env, true);
      if (!article) return;
      // A never-published draft goes away; a published article only loses its unpublished edits.
      if (article.published) article.draft = { ...article.published };
      else article.deleted = true;
      ctx.send(204, "");
    },
  },
  {
    host: "zhuanlan",
    method: "DELETE",
    path: new RegExp(`^/api/articles/${ID}$`),
    name: "article.delete",
    api: true,
    auth: true,
    xsrf: true,
    handle(ctx, env) {
      const article = ownArticle(ctx, env, true);
      if (!article) return;
      article.deleted = true;
      ctx.send(204, "");
    },
  },
  {
    host: "zhuanlan",
    method: "GET",
    path: new RegExp(`^/api/articles/${ID}$`),
    name: "article.read",
    api: true,
    handle(ctx, env) {
      // A published article is public, with its author, as on Zhihu; a draft only to its author.
      const article = env.world.articles.get(ctx.params[0] ?? "");
      const exists = article !== undefined && !article.deleted;
      if (exists && (article.published !== null || article.account === ctx.account)) {
        return ctx.sendJson(200, articleJson(article));
      }
      if (!ctx.account) return sendLoginRequired(ctx);
      ctx.sendError(404, NOT_FOUND);
    },
  },
  {
    host: "zhuanlan",
    method: "GET",
    path: /^\/api\/autocomplete\/topics$/,
    name: "topic.search",
    api: true,
    auth: true,
    handle(ctx, env) {
      const max = Math.min(Number(ctx.url.searchParams.get("max_matches") ?? 5) || 5, 20);
      const found = env.world.findTopics(ctx.url.searchParams.get("token") ?? "", max);
      ctx.sendJson(200, found.map(topicJson));
    },
  },
  {
    host: "zhuanlan",
    method: "POST",
    path: new RegExp(`^/api/articles/${ID}/topics$`),
    name: "topic.bind",
    api: true,
    auth: true,
    xsrf: true,
    handle(ctx, env) {
      const article = ownArticle(ctx, env, true);
      if (!article) return;
      const id = String(asObject(ctx.json()).id ?? "");
      const topic = env.world.topics.find((t) => t.id === id);
      if (!topic) return ctx.sendError(400, "话题不存在", { code: 4002 });
      if (!article.topics.includes(topic)) {
        if (article.topics.length >= 3) return ctx.sendError(400, "最多只能添加 3 个话题", { code: 4003 });
        article.topics.push(topic);
      }
      ctx.sendJson(200, topicJson(topic));
    },
  },
  {
    host: "zhuanlan",
    method: "DELETE",
    path: new RegExp(`^/api/articles/${ID}/topics/(\\d+)$`),
    name: "topic.unbind",
    api: true,
    auth: true,
    xsrf: true,
    handle(ctx, env) {
      const article = ownArticle(ctx, env, true);
      if (!article) return;
      article.topics = article.topics.filter((t) => t.id !== ctx.params[1]);
      ctx.send(204, "");
    },
  },
  {
    host: "zhuanlan",
    method: "PUT",
    path: new RegExp(`^/api/articles/${ID}/publish$`),
    name: "publish.legacy",
    api: true,
    auth: true,
    xsrf: true,
    handle(ctx, env) {
      const article = ownArticle(ctx, env, true);
      if (!article) return;
      const body = asObject(ctx.json());
      let column: Column | undefined;
      if ("column" in body) {
        // The real endpoint crashes on an explicit null instead of treating it as "no column".
        if (body.column === null) return ctx.sendError(500, "服务器开小差了，请稍后重试", { code: 500 });
        const id = String(asObject(body.column).id ?? "");
        if (id !== ctx.account!.column.id) return ctx.sendError(403, "你不是该专栏的作者", { code: 4033 });
        column = ctx.account!.column;
      }
      const problem = env.world.publishProblem(article);
      if (problem) return ctx.sendError(400, problem.message, { code: problem.code });
      article.commentPermission = str(body.commentPermission, article.commentPermission);
      env.world.publish(article, "legacy", column);
      ctx.sendJson(200, articleJson(article));
    },
  },
  {
    host: "zhuanlan",
    method: "POST",
    path: /^\/api\/uploaded_images$/,
    name: "image.rehost",
    api: true,
    auth: true,
    xsrf: true,
    async handle(ctx, env) {
      const fields = ctx.fields();
      let url: URL | null = null;
      try {
        url = new URL(fields.url ?? "");
      } catch {}
      const bytes = url && (await fetchBytes(env, url));
      const info = bytes && imageInfo(bytes);
      if (!bytes || !info) return ctx.sendError(422, "上传图片出错", { code: 4000 });
      const hash = md5(bytes);
      const image = env.world.registerImage(hash, ctx.account!.name);
      image.bytes ??= bytes;
      image.processingPolls = 0;
      ctx.sendJson(200, { src: imageSrc(hash, info.ext), hash });
    },
  },
];
