// The publish flow: a sequence of steps, each committed as a checkpoint before the next starts. The draft id
// is the article id, so once it is recorded every retry works on the same draft and publishing it again
// updates the same article: a crash at any point can never make a second article.
//
// state (committed with checkpoints, returned in the snapshot on the next attempt):
//   images   md5 → OSS object key of every image already on zhimg.com
//   saved    digest of the title + HTML last saved into the draft
//   updates  set by `topn publish` when the file was published before: the article being updated

import { createHash, randomUUID } from "node:crypto";
import {
  articleDigest,
  type ImageAsset,
  MAX_TOPICS,
  type PreparedArticle,
  prepareArticle,
  renderArticle,
  zhimgUrl,
} from "../article/index.js";
import { TaskFailure, UsageError } from "../errors.js";
import type { JobContext, PublishResult, TaskSnapshot } from "../platform.js";
import { WWW, ZHUANLAN, type ZhihuApi } from "./api.js";
import { imageStep, uploadImages } from "./images.js";
import { asRecord, idOf, parseJson } from "./json.js";

interface Topic {
  id: string;
  name: string;
}

const articleUrl = (id: string): string => `${ZHUANLAN}/p/${id}`;

export async function publishFlow(
  api: ZhihuApi,
  task: TaskSnapshot,
  ctx: JobContext,
): Promise<PublishResult> {
  const state: Record<string, unknown> = { ...task.state };
  let draftId = task.draftId;
  const commit = async (checkpoint: string, message: string, newDraft?: string): Promise<void> => {
    api.checkAborted(checkpoint);
    await ctx.checkpoint({
      checkpoint,
      message,
      state: { ...state },
      ...(newDraft ? { draftId: newDraft } : {}),
    });
  };

  const me = asRecord(
    (await api.json({ step: "check session", method: "GET", url: `${WWW}/api/v4/me` })).body,
  );
  const urlToken = typeof me.url_token === "string" ? me.url_token : null;

  // The last attempt stopped after asking Zhihu to publish: find out whether it did before doing anything.
  if (task.checkpoint === "publishing" && draftId) {
    const back = await readArticle(api, draftId);
    if (back?.state === "published" && (state.updates === undefined || digestOf(back) === state.saved)) {
      ctx.log(`already published by the last attempt: ${articleUrl(draftId)}`);
      const article = await prepare(task, ctx);
      return {
        url: articleUrl(draftId),
        articleId: draftId,
        state: "published",
        contentHash: article.contentHash,
        digest: articleDigest(article),
      };
    }
  }

  const article = await prepare(task, ctx);

  let draft: Record<string, unknown> | null = null;
  if (draftId) {
    const read = await api.json(
      { step: "read draft", method: "GET", url: `${ZHUANLAN}/api/articles/${draftId}/draft` },
      { allow: [404] },
    );
    if (read.status === 404) {
      ctx.log(`draft ${draftId} no longer exists on Zhihu; starting a new one`);
      draftId = null;
      delete state.updates;
      delete state.saved;
    } else {
      draft = asRecord(read.body);
      if (task.checkpoint === null) {
        ctx.log(state.updates ? `updating article ${draftId}` : `continuing draft ${draftId}`);
      }
    }
  }
  if (!draftId) {
    const created = asRecord(
      (
        await api.json({
          step: "create draft",
          method: "POST",
          url: `${ZHUANLAN}/api/articles/drafts`,
          json: { title: article.title, delta_time: 0, can_reward: false, table_of_contents: false },
        })
      ).body,
    );
    draftId = idOf(created.id);
    if (draftId === null) {
      throw new TaskFailure("transient", "create draft", "Zhihu's answer to creating a draft has no id");
    }
    // From here on every attempt reuses this draft: commit before anything else happens.
    await commit("draft_created", `draft ${draftId} created`, draftId);
    draft = created;
  }
  const id = draftId;

  const assets =
    article.cover && !article.images.some((i) => i.id === article.cover?.id)
      ? [...article.images, article.cover]
      : article.images;
  const keys = await uploadImages(api, assets, asStringMap(state.images), async (asset, key) => {
    state.images = { ...asStringMap(state.images), [asset.id]: key };
    await commit("image_uploaded", `${imageStep(asset).replace(/^upload/, "uploaded")}`);
  });
  const src = (asset: ImageAsset): string => zhimgUrl(keys[asset.id] ?? `v2-${asset.id}`, asset.ext);
  const content = {
    title: article.title,
    content: renderArticle(article, src),
    titleImage: article.cover ? src(article.cover) : "",
  };
  const digest = digestOf(content);
  if (state.saved !== digest) {
    await api.call({
      step: "save draft",
      method: "PATCH",
      url: `${ZHUANLAN}/api/articles/${id}/draft`,
      json: {
        title: content.title,
        content: content.content,
        table_of_contents: false,
        delta_time: 0,
        can_reward: false,
        ...(article.cover ? { titleImage: content.titleImage, isTitleImageFullScreen: false } : {}),
      },
    });
    state.saved = digest;
    await commit("content_saved", "title and text saved into the draft");
  }

  await bindTopics(api, id, article.topics.slice(0, MAX_TOPICS), topicsOf(draft));
  await commit(
    "topics_bound",
    article.topics.length > 0 ? `topics: ${article.topics.join(", ")}` : "no topics",
  );

  await commit("publishing", "publishing");
  let articleId = id;
  if (article.column !== undefined) {
    await publishLegacy(api, id, article, urlToken);
  } else {
    articleId = await publishCurrent(
      api,
      id,
      article,
      state.updates !== undefined || draft?.is_published === true,
    );
    if (articleId !== id) ctx.log(`Zhihu published draft ${id} as article ${articleId}`);
  }

  const back = await readArticle(api, articleId);
  if (back?.state !== "published") {
    ctx.log(
      `Zhihu accepted the article, but it reads back as ${back ? back.state : "missing"} (under review?)`,
    );
  }
  return {
    url: articleUrl(articleId),
    articleId,
    state: "published",
    contentHash: article.contentHash,
    digest: articleDigest(article),
  };
}

async function prepare(task: TaskSnapshot, ctx: JobContext): Promise<PreparedArticle> {
  let article: PreparedArticle;
  try {
    article = await prepareArticle(task.file, { signal: ctx.signal });
  } catch (e) {
    if (e instanceof UsageError && e.passing) {
      throw new TaskFailure("transient", "read article", e.message, { ...(e.hint ? { hint: e.hint } : {}) });
    }
    if (e instanceof UsageError) {
      throw new TaskFailure(
        "bad_input",
        "read article",
        `the file no longer passes the checks: ${e.message}`,
        {
          ...(e.hint ? { hint: e.hint } : {}),
        },
      );
    }
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw e;
  }
  if (article.contentHash !== task.contentHash) {
    ctx.log(`${article.displayFile} changed since it was queued; publishing the current version`);
  }
  return article;
}

async function readArticle(
  api: ZhihuApi,
  id: string,
): Promise<{ state: string; title: string; content: string; titleImage: string } | null> {
  const { status, body } = await api.json(
    { step: "read back", method: "GET", url: `${ZHUANLAN}/api/articles/${id}` },
    { allow: [404] },
  );
  if (status === 404) return null;
  const a = asRecord(body);
  return {
    state: String(a.state ?? ""),
    title: String(a.title ?? ""),
    content: String(a.content ?? ""),
    titleImage: String(a.image_url ?? ""),
  };
}

function topicsOf(draft: Record<string, unknown> | null): Topic[] {
  const list = Array.isArray(draft?.topics) ? draft.topics : [];
  return list.flatMap((t): Topic[] => {
    const raw = asRecord(t);
    const id = idOf(raw.id);
    return id !== null && typeof raw.name === "string" ? [{ id, name: raw.name }] : [];
  });
}

const sameName = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Binds the wanted topics the draft does not have yet; makes room by unbinding ones no longer wanted. */
async function bindTopics(api: ZhihuApi, id: string, wanted: string[], bound: Topic[]): Promise<void> {
  for (const name of wanted) {
    if (bound.some((t) => sameName(t.name, name))) continue;
    const step = `bind topic ${name}`;
    const { body } = await api.json({
      step,
      method: "GET",
      url: `${ZHUANLAN}/api/autocomplete/topics?token=${encodeURIComponent(name)}&max_matches=5&use_similar=0&topic_filter=1`,
    });
    const found = (Array.isArray(body) ? body : []).map(asRecord);
    const topic = found.find((t) => typeof t.name === "string" && sameName(t.name, name));
    if (!topic) {
      const near = found.map((t) => t.name).filter((n): n is string => typeof n === "string");
      throw new TaskFailure("bad_input", step, `Zhihu has no topic named "${name}"`, {
        hint:
          near.length > 0
            ? `did you mean: ${near.join(", ")}? fix topics: in the front matter`
            : "fix topics: in the front matter",
      });
    }
    if (bound.length >= MAX_TOPICS) {
      const stale = bound.find((t) => !wanted.some((w) => sameName(w, t.name)));
      if (stale) {
        await api.call({
          step: `unbind topic ${stale.name}`,
          method: "DELETE",
          url: `${ZHUANLAN}/api/articles/${id}/topics/${stale.id}`,
        });
        bound.splice(bound.indexOf(stale), 1);
      }
    }
    await api.call({ step, method: "POST", url: `${ZHUANLAN}/api/articles/${id}/topics`, json: topic });
    bound.push({ id: idOf(topic.id) ?? "", name: String(topic.name) });
  }
}

/** The current endpoint. Returns the published article's id (exact, from a JSON string with a bare number). */
async function publishCurrent(
  api: ZhihuApi,
  id: string,
  article: PreparedArticle,
  isPublished: boolean,
): Promise<string> {
  const business = {
    commentPermission: article.comments,
    disclaimer_type: "none",
    disclaimer_status: "close",
    table_of_contents_enabled: false,
    commercial_report_info: { commercial_types: [] },
    commercial_zhitask_bind_info: null,
    canReward: false,
  };
  const { body } = await api.json(
    {
      step: "publish",
      method: "POST",
      url: `${WWW}/api/v4/content/publish`,
      json: {
        action: "article",
        data: {
          publish: { traceId: `${Date.now()},${randomUUID()}` },
          extra_info: { publisher: "pc", pc_business_params: JSON.stringify(business) },
          draft: { disabled: 1, id, isPublished },
          commentsPermission: { comment_permission: article.comments },
          creationStatement: { disclaimer_type: "none", disclaimer_status: "close" },
          contentsTables: { table_of_contents_enabled: false },
          commercialReportInfo: { isReport: 0 },
          appreciate: { can_reward: false, tagline: "" },
          hybridInfo: {},
        },
      },
    },
    { publishCode: true },
  );
  const result = asRecord(asRecord(body).data).result;
  let published: Record<string, unknown> = {};
  try {
    published = asRecord(asRecord(typeof result === "string" ? parseJson(result) : result).publish);
  } catch {
    // An unreadable result still means success (code 0): the draft id is the article id.
  }
  return idOf(published.id) ?? id;
}

/** The legacy endpoint: the only one known to take a column. */
async function publishLegacy(
  api: ZhihuApi,
  id: string,
  article: PreparedArticle,
  urlToken: string | null,
): Promise<void> {
  const wanted = article.column ?? "";
  const step = `find column ${wanted}`;
  if (urlToken === null)
    throw new TaskFailure("transient", step, "Zhihu's session check did not name the account");
  const { body } = await api.json({
    step,
    method: "GET",
    url: `${WWW}/api/v4/members/${encodeURIComponent(urlToken)}/column-contributions?limit=20&offset=0`,
  });
  const data = asRecord(body).data;
  const columns = (Array.isArray(data) ? data : []).map((d) => asRecord(asRecord(d).column));
  const column = columns.find((c) => c.title === wanted || String(c.id) === wanted);
  if (!column) {
    const names = columns.map((c) => c.title).filter((t): t is string => typeof t === "string");
    throw new TaskFailure("bad_input", step, `the account has no column named "${wanted}"`, {
      hint: names.length > 0 ? `its columns: ${names.join(", ")}` : "create the column on Zhihu first",
    });
  }
  await api.call({
    step: "publish",
    method: "PUT",
    url: `${ZHUANLAN}/api/articles/${id}/publish`,
    json: { commentPermission: article.comments, column },
  });
}

function asStringMap(v: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(asRecord(v)).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

function digestOf(c: { title: string; content: string; titleImage?: string }): string {
  return createHash("sha256")
    .update(`${c.title}\u0000${c.content}\u0000${c.titleImage ?? ""}`)
    .digest("hex")
    .slice(0, 32);
}
