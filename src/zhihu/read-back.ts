// Reading an article back from Zhihu: whether a publish landed (crash recovery, and before a failure is
// recorded), and whose an article is (a front matter's `zhihu:` id). GET zhuanlan/api/articles/{id} answers
// the account's own drafts and anybody's published articles (with their author); 404 otherwise.

import { createHash } from "node:crypto";
import { ZHUANLAN, type ZhihuApi } from "./api.js";
import { asRecord } from "./json.js";

export interface ArticleBack {
  state: string;
  title: string;
  content: string;
  titleImage: string;
  /** The author's member id (32 hex, as /api/v4/me's `id`), url_token and name; "" when not given. */
  author: { id: string; urlToken: string; name: string };
}

export const articleUrl = (id: string): string => `${ZHUANLAN}/p/${id}`;

/** The article as Zhihu shows it, or null when Zhihu does not know it (or will not show it to this account). */
export async function readArticle(api: ZhihuApi, id: string): Promise<ArticleBack | null> {
  const { status, body } = await api.json(
    { step: "read back", method: "GET", url: `${ZHUANLAN}/api/articles/${id}` },
    { allow: [404] },
  );
  if (status === 404) return null;
  const a = asRecord(body);
  const author = asRecord(a.author);
  const text = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : "");
  return {
    state: text(a.state),
    title: text(a.title),
    content: text(a.content),
    titleImage: text(a.image_url),
    author: { id: text(author.id), urlToken: text(author.url_token), name: text(author.name) },
  };
}

/** What identifies a saved text: title, HTML and cover. */
export function digestOf(c: { title: string; content: string; titleImage?: string }): string {
  return createHash("sha256")
    .update(`${c.title}\u0000${c.content}\u0000${c.titleImage ?? ""}`)
    .digest("hex")
    .slice(0, 32);
}
