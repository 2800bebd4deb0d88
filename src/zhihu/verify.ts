// Whose is the article a file's front matter names? Asked before anything is enqueued, so an id copied from
// another account's article, or one that no longer exists, is refused instead of silently making or
// updating the wrong article. Zhihu shows anybody's published article with its author, and the account's
// own drafts; another account's unpublished draft is a 404, the same as an id that never existed.

import { UsageError } from "../errors.js";
import type { ArticleOwnership } from "../platform.js";
import { WWW, type ZhihuApi } from "./api.js";
import { asRecord } from "./json.js";
import { articleUrl, readArticle } from "./read-back.js";

const ARTICLE_ID = /^\d{1,25}$/;

/** Throws UsageError unless `articleId` can be a Zhihu article id (digits): checked before any browser starts. */
export function checkArticleId(articleId: string): void {
  if (!ARTICLE_ID.test(articleId)) {
    throw new UsageError(
      `"${articleId}" is not a Zhihu article id`,
      "write zhihu: https://zhuanlan.zhihu.com/p/<digits> or just the digits",
    );
  }
}

export async function verifyArticle(api: ZhihuApi, articleId: string): Promise<ArticleOwnership> {
  checkArticleId(articleId);
  const me = asRecord(
    (await api.json({ step: "check session", method: "GET", url: `${WWW}/api/v4/me` })).body,
  );
  const back = await readArticle(api, articleId);
  if (!back) return { kind: "missing" };
  const { author } = back;
  const sameId = author.id !== "" && author.id === String(me.id ?? "");
  const sameToken = author.urlToken !== "" && author.urlToken === me.url_token;
  // Without an author in the answer, only an unpublished draft is known to be ours: nobody else sees it.
  const anonymousDraft = author.id === "" && author.urlToken === "" && back.state !== "published";
  if (sameId || sameToken || anonymousDraft) {
    return {
      kind: "ours",
      url: articleUrl(articleId),
      state: back.state === "published" ? "published" : "draft",
    };
  }
  return { kind: "foreign", owner: author.name || author.urlToken || "an author Zhihu does not name" };
}
