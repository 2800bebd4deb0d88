// The publish flow: a sequence of steps, each committed as a checkpoint before the next starts. The draft id
// is the article id, so once it is recorded every retry works on the same draft and publishing it again
// updates the same article: a crash at any point can never make a second article.
//
// An update makes the article equal to the file: title, HTML, cover (cleared when the file has none),
// topics (bound and unbound), comment permission, and the column where Zhihu allows it (publish-calls.ts).
//
// state (committed with checkpoints, returned in the snapshot on the next attempt):
//   images       md5 → OSS object key of every image already on zhimg.com
//   saved        digest of the title + HTML + cover last saved into the draft
//   updates      set by `topn publish` when the file was published before: the article being updated
//   live         the article was already published when this task asked Zhihu to publish it (an update)
//   publishedAs  {contentHash, digest} of the file this task asked Zhihu to publish

import {
  articleDigest,
  articleOptionsFrom,
  MAX_TOPICS,
  type PreparedArticle,
  prepareArticle,
  renderArticle,
} from "../article/index.js";
import { firstLine, TaskFailure, UsageError } from "../errors.js";
import type { JobContext, PublishResult, TaskSnapshot } from "../platform.js";
import { WWW, ZHUANLAN, type ZhihuApi } from "./api.js";
import { imageAddress, imageStep, uploadImages } from "./images.js";
import { asRecord, idOf } from "./json.js";
import { findColumn, publishCurrent, publishLegacy } from "./publish-calls.js";
import { type ArticleBack, articleUrl, digestOf, readArticle } from "./read-back.js";
import { syncTopics, topicsOf } from "./topics.js";

/** What one attempt knows, shared with the last-chance read-back that runs when the attempt fails. */
interface Attempt {
  state: Record<string, unknown>;
  draftId: string | null;
  /** A publish call may have reached Zhihu: this attempt or an earlier one committed `publishing`. */
  publishing: boolean;
}

interface Published {
  contentHash: string;
  digest: string;
}

export async function publishFlow(
  api: ZhihuApi,
  task: TaskSnapshot,
  ctx: JobContext,
): Promise<PublishResult> {
  const attempt: Attempt = {
    state: { ...task.state },
    draftId: task.draftId,
    publishing: task.checkpoint === "publishing",
  };
  try {
    return await steps(api, task, ctx, attempt);
  } catch (e) {
    const live = await liveDespite(e, api, task, ctx, attempt);
    if (live) return live;
    throw e;
  }
}

async function steps(
  api: ZhihuApi,
  task: TaskSnapshot,
  ctx: JobContext,
  attempt: Attempt,
): Promise<PublishResult> {
  const { state } = attempt;
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
  if (task.mode === "publish" && task.checkpoint === "publishing" && attempt.draftId) {
    const back = await readArticle(api, attempt.draftId);
    if (back && publishedByUs(back, state)) {
      ctx.log(`already published by the last attempt: ${articleUrl(attempt.draftId)}`);
      return publishedResult(attempt.draftId, recorded(task, state));
    }
  }

  const article = await prepare(task, ctx);

  let draft: Record<string, unknown> | null = null;
  if (attempt.draftId) {
    const read = await api.json(
      { step: "read draft", method: "GET", url: `${ZHUANLAN}/api/articles/${attempt.draftId}/draft` },
      { allow: [404] },
    );
    if (read.status === 404) {
      ctx.log(`draft ${attempt.draftId} no longer exists on Zhihu; starting a new one`);
      attempt.draftId = null;
      delete state.updates;
      delete state.saved;
      delete state.live;
    } else {
      draft = asRecord(read.body);
      if (task.checkpoint === null) {
        ctx.log(
          state.updates ? `updating article ${attempt.draftId}` : `continuing draft ${attempt.draftId}`,
        );
      }
    }
  }
  if (!attempt.draftId) {
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
    const createdId = idOf(created.id);
    if (createdId === null) {
      throw new TaskFailure("transient", "create draft", "Zhihu's answer to creating a draft has no id");
    }
    attempt.draftId = createdId;
    // From here on every attempt reuses this draft: commit before anything else happens.
    await commit("draft_created", `draft ${createdId} created`, createdId);
    draft = created;
  }
  const id = attempt.draftId;
  // Published before this task: by Zhihu's word, or by topn's (an update), should the draft not say.
  const live = draft?.is_published === true || state.live === true || state.updates !== undefined;

  const assets =
    article.cover && !article.images.some((i) => i.id === article.cover?.id)
      ? [...article.images, article.cover]
      : article.images;
  const keys = await uploadImages(api, assets, asStringMap(state.images), async (asset, key) => {
    state.images = { ...asStringMap(state.images), [asset.id]: key };
    await commit("image_uploaded", `${imageStep(asset).replace(/^upload/, "uploaded")}`);
  });
  const src = imageAddress(keys);
  const content = {
    title: article.title,
    content: renderArticle(article, src),
    // "" clears a cover the file no longer has.
    titleImage: article.cover ? src(article.cover) : "",
  };
  const digest = digestOf(content);
  if (state.saved !== digest) {
    // Into the draft only: a published article keeps its live text until it is published again.
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
        titleImage: content.titleImage,
        isTitleImageFullScreen: false,
      },
    });
    state.saved = digest;
    await commit("content_saved", "title and text saved into the draft");
  }

  const published: Published = { contentHash: article.contentHash, digest: articleDigest(article) };
  if (task.mode === "draft") return saveAsDraft(api, ctx, { id, article, draft, live, commit, published });

  await bindTopics(api, id, article, draft, ctx, commit);

  // Looked up before `publishing`: a column the account lacks fails the task while nothing can be live.
  const column = article.column === undefined ? null : await findColumn(api, article.column, urlToken);
  const current = asRecord(draft?.column);
  if (article.column === undefined && typeof current.title === "string") {
    ctx.log(
      `the article stays in column "${current.title}": Zhihu offers no way to take it out through its API; do that on zhihu.com`,
    );
  }

  if (live) state.live = true;
  state.publishedAs = { ...published };
  await commit("publishing", "publishing");
  attempt.publishing = true;
  let articleId = id;
  if (column !== null) {
    await publishLegacy(api, id, article.comments, column);
  } else {
    articleId = await publishCurrent(api, id, article.comments, live);
    if (articleId !== id) ctx.log(`Zhihu published draft ${id} as article ${articleId}`);
  }

  // Zhihu has accepted the article: from here nothing may turn the task into a failure.
  try {
    const back = await readArticle(api, articleId);
    if (back?.state !== "published") {
      ctx.log(
        `Zhihu accepted the article, but it reads back as ${back ? back.state : "missing"} (under review?)`,
      );
    }
  } catch (e) {
    if (ctx.signal.aborted || (e instanceof TaskFailure && e.kind === "lease_lost")) throw e;
    ctx.log(`Zhihu accepted the article; reading it back failed (${firstLine(e)}), which does not undo it`);
  }
  return publishedResult(articleId, published);
}

/** The file's topics (and the tags Zhihu knows) on the article; the tags left out are said, not failed. */
async function bindTopics(
  api: ZhihuApi,
  id: string,
  article: PreparedArticle,
  draft: Record<string, unknown> | null,
  ctx: JobContext,
  commit: (checkpoint: string, message: string) => Promise<void>,
): Promise<void> {
  const r = await syncTopics(
    api,
    id,
    article.topics.slice(0, MAX_TOPICS),
    topicsOf(draft),
    article.optionalTopics,
  );
  for (const tag of r.unknown) ctx.log(`warning: tag "${tag}" is not a Zhihu topic: left out`);
  if (r.overCap.length > 0) {
    ctx.log(
      `warning: tag${r.overCap.length > 1 ? "s" : ""} ${r.overCap.map((t) => `"${t}"`).join(", ")} left out: Zhihu takes at most ${MAX_TOPICS} topics`,
    );
  }
  await commit("topics_bound", r.names.length > 0 ? `topics: ${r.names.join(", ")}` : "no topics");
}

/**
 * `--draft`: the text is in the draft, nothing is published. On an article that is already live only the
 * draft changes (Zhihu keeps the live text until the next publish); its topics are left alone, since
 * topics belong to the article itself and changing them would change the live article.
 */
async function saveAsDraft(
  api: ZhihuApi,
  ctx: JobContext,
  a: {
    id: string;
    article: PreparedArticle;
    draft: Record<string, unknown> | null;
    live: boolean;
    commit: (checkpoint: string, message: string) => Promise<void>;
    published: Published;
  },
): Promise<PublishResult> {
  if (a.live) {
    ctx.log("the article is live: only its draft was changed; its topics change when it is published");
  } else {
    await bindTopics(api, a.id, a.article, a.draft, ctx, a.commit);
  }
  ctx.log(`saved as a draft: ${articleUrl(a.id)}/edit`);
  return { url: `${articleUrl(a.id)}/edit`, articleId: a.id, state: "draft", ...a.published };
}

/**
 * The last word before a failure is recorded for good. Once a publish call may have reached Zhihu, the
 * article may be live although the attempt failed (an answer lost, a refusal after the fact, a session
 * that expired a moment later): read it back, and if it is published with the text we saved, the task
 * succeeded. Reading back needs no valid session for a published article.
 */
async function liveDespite(
  e: unknown,
  api: ZhihuApi,
  task: TaskSnapshot,
  ctx: JobContext,
  attempt: Attempt,
): Promise<PublishResult | null> {
  const final =
    !(e instanceof TaskFailure) ||
    (e.kind !== "lease_lost" && (!e.transient || task.attempt >= task.maxAttempts));
  const id = attempt.draftId;
  if (!final || !attempt.publishing || id === null || task.mode !== "publish" || ctx.signal.aborted) {
    return null;
  }
  let back: ArticleBack | null;
  try {
    back = await readArticle(api, id);
  } catch (readError) {
    ctx.log(`could not read article ${id} back before recording the failure: ${firstLine(readError)}`);
    return null;
  }
  if (!back || !publishedByUs(back, attempt.state)) return null;
  ctx.log(`${firstLine(e)}; but article ${id} is published with this text, so the task succeeded`);
  return publishedResult(id, recorded(task, attempt.state));
}

/**
 * Whether a read-back shows the publish this task asked for. A new article that is published at all is
 * ours (its draft was made by this task); an update must show the text this task saved.
 */
function publishedByUs(back: ArticleBack, state: Record<string, unknown>): boolean {
  if (back.state !== "published") return false;
  const update = state.updates !== undefined || state.live === true;
  return !update || digestOf(back) === state.saved;
}

function publishedResult(articleId: string, published: Published): PublishResult {
  return { url: articleUrl(articleId), articleId, state: "published", ...published };
}

/**
 * What this task asked Zhihu to publish. A task whose `publishing` was committed before topn recorded it
 * has only the hash it was queued with, and no digest (so the next `publish` of the file is not "unchanged").
 */
function recorded(task: TaskSnapshot, state: Record<string, unknown>): Published {
  const p = asRecord(state.publishedAs);
  if (typeof p.contentHash === "string" && typeof p.digest === "string") {
    return { contentHash: p.contentHash, digest: p.digest };
  }
  return { contentHash: task.contentHash, digest: "" };
}

async function prepare(task: TaskSnapshot, ctx: JobContext): Promise<PreparedArticle> {
  let article: PreparedArticle;
  try {
    article = await prepareArticle(task.file, { signal: ctx.signal, ...articleOptionsFrom(task.state) });
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

function asStringMap(v: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(asRecord(v)).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}
