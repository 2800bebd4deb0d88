import type { ArticleRecord, TaskEvent, TaskStatus } from "./types.js";

// Rows both engines store in the same shape (text and integer columns only), read the same way.

export interface ArticleRow {
  platform: string;
  account: string;
  article_id: string;
  url: string | null;
  title: string | null;
  file: string | null;
  digest: string | null;
  content_hash: string | null;
  state: "published" | "draft";
  task_id: number | null;
  published_at: number;
}

export const toArticle = (r: ArticleRow): ArticleRecord => ({
  platform: r.platform,
  account: r.account,
  articleId: r.article_id,
  url: r.url,
  title: r.title,
  file: r.file,
  digest: r.digest,
  contentHash: r.content_hash,
  state: r.state,
  taskId: r.task_id,
  publishedAt: r.published_at,
});

export interface TaskEventRow {
  id: number;
  task_id: number;
  at: number;
  status: TaskStatus;
  attempt: number;
  message: string;
}

export const toEvent = (e: TaskEventRow): TaskEvent => ({
  id: e.id,
  taskId: e.task_id,
  at: e.at,
  status: e.status,
  attempt: e.attempt,
  message: e.message,
});
