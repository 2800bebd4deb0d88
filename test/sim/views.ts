// JSON representations in Zhihu's shapes.

import { bare, stringifyWithBareIds } from "./util.js";
import type { Account, Article, Column, Topic } from "./world.js";

export const articleUrl = (id: string): string => `https://zhuanlan.zhihu.com/p/${id}`;

export const topicJson = (t: Topic) => ({
  id: t.id,
  name: t.name,
  url: `https://www.zhihu.com/topic/${t.id}`,
  type: "topic",
  avatar_url: "https://picx.zhimg.com/v2-topic-avatar_is.jpg",
  excerpt: "",
  introduction: "",
});

export const memberJson = (a: Account) => ({
  id: a.id,
  uid: a.uid,
  url_token: a.urlToken,
  name: a.name,
  avatar_url: "https://picx.zhimg.com/v2-abed1a8c04700ba7d72b45195223e0ff_l.jpg",
  headline: "",
  type: "people",
  user_type: "people",
  url: `https://www.zhihu.com/people/${a.urlToken}`,
  is_org: false,
  gender: -1,
});

export const columnJson = (c: Column, owner: Account) => ({
  id: c.id,
  title: c.title,
  url: `https://zhuanlan.zhihu.com/${c.id}`,
  type: "column",
  author: memberJson(owner),
});

const sec = (ms: number): number => Math.floor(ms / 1000);

export function draftJson(a: Article) {
  return {
    id: a.id,
    type: "article_draft",
    state: "draft",
    url: articleUrl(a.id),
    title: a.draft.title,
    content: a.draft.content,
    excerpt: a.draft.content.replace(/<[^>]+>/g, "").slice(0, 100),
    topics: a.topics.map(topicJson),
    column: a.column ? columnJson(a.column, a.account) : null,
    author: memberJson(a.account),
    created: sec(a.createdAt),
    updated: sec(a.updatedAt),
    delta_time: 0,
    can_reward: a.draft.canReward,
    table_of_contents: { enabled: a.draft.tableOfContents },
    title_image: a.draft.titleImage,
    is_published: a.published !== null,
  };
}

export function articleJson(a: Article) {
  const content = a.published ?? a.draft;
  return {
    id: a.id,
    type: "article",
    state: a.published ? "published" : "draft",
    url: articleUrl(a.id),
    title: content.title,
    content: content.content,
    excerpt: content.content.replace(/<[^>]+>/g, "").slice(0, 100),
    topics: a.topics.map(topicJson),
    column: a.column ? columnJson(a.column, a.account) : null,
    author: memberJson(a.account),
    created: sec(a.createdAt),
    updated: sec(a.updatedAt),
    comment_permission: a.commentPermission,
    copyright_permission: "need_review",
    voteup_count: 0,
    comment_count: 0,
    image_url: content.titleImage,
    table_of_contents: { enabled: content.tableOfContents },
  };
}

/** The js-initialData text of an article page. The entity's `id` is a bare number above 2^53, as on Zhihu. */
export function initialDataText(a: Article): string {
  const entity = { ...articleJson(a), id: bare(a.id) };
  return stringifyWithBareIds({
    initialState: { entities: { articles: { [a.id]: entity } }, currentUser: a.account.urlToken },
    subAppName: "column",
  });
}

/** The `result` string of the current publish endpoint: JSON text holding the id as a bare number. */
export function publishResultText(a: Article): string {
  return stringifyWithBareIds({
    publish: {
      id: bare(a.id),
      url: articleUrl(a.id),
      state: "published",
      type: "article",
      title: a.published?.title ?? a.draft.title,
      copyright_permission: "need_review",
    },
  });
}

export const imageSrc = (md5: string, ext: string, suffix = ""): string =>
  `https://pic4.zhimg.com/v2-${md5}${suffix}${ext ? `.${ext}` : ""}`;
