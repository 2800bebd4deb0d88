// Front matter (YAML between `---` lines, via gray-matter) → typed fields, each checked with the
// file line of its key so a mistake is reported where it is.

import matter from "gray-matter";
import { UsageError } from "../errors.js";
import type { CommentPermission } from "./types.js";

export const MAX_TOPICS = 3;
const COMMENT_VALUES: readonly CommentPermission[] = ["anyone", "followees", "no_one"];
const KNOWN_KEYS = new Set([
  "title",
  "topics",
  "column",
  "cover",
  "comments",
  "zhihu",
  "zhihu_id",
  "draft",
  "published",
  "date",
  "tags",
  "description",
]);
/** true/false keys that change the HTML (ArticleSettings). */
const SWITCHES = ["emoji", "captions"] as const;
for (const key of SWITCHES) KNOWN_KEYS.add(key);
/** Keys other tools write (Obsidian) that mean nothing on Zhihu: accepted without a word. */
const IGNORED_KEYS = new Set(["aliases", "cssclasses", "cssclass"]);
/** What an article URL on Zhihu looks like; its number is the article id. */
const ARTICLE_URL = /^https?:\/\/zhuanlan\.zhihu\.com\/p\/(\d{1,30})\/?(?:[?#].*)?$/;

export interface FrontMatter {
  title?: string;
  topics: string[];
  column?: string;
  cover?: string;
  comments: CommentPermission;
  /** The Zhihu article this file is (`zhihu:` URL or id, or the older `zhihu_id`). */
  zhihuId?: string;
  /** `draft: true` or `published: false`: the key that said so, for the message. */
  draftKey?: "draft" | "published";
  /** Hugo/Jekyll `date`, as ms since the epoch (a future one schedules the publish). */
  date?: number;
  /** Hugo/Jekyll `tags`: offered as topics when `topics` is absent. */
  tags: string[];
  /** `emoji: true`: `:smile:` shortcodes become emoji. */
  emoji?: boolean;
  /** `captions: false`: no text under images. */
  captions?: boolean;
  /** The Markdown after the front matter. */
  body: string;
  /** File lines before the body. */
  bodyLine: number;
  /** 1-based file line of each top-level key that was present. */
  keyLines: Record<string, number>;
  warnings: string[];
}

export function parseFrontMatter(display: string, text: string): FrontMatter {
  const empty: FrontMatter = {
    topics: [],
    tags: [],
    comments: "anyone",
    body: text,
    bodyLine: 0,
    keyLines: {},
    warnings: [],
  };
  if (!/^---[ \t]*\n/.test(text)) return empty;
  if (!/\n(---|\.\.\.)[ \t]*(\n|$)/.test(text.slice(3))) {
    throw new UsageError(
      `${display}:1: front matter is never closed`,
      "end it with a line holding only ---, or remove the --- on line 1",
    );
  }

  let parsed: matter.GrayMatterFile<string>;
  try {
    // Passing options turns off gray-matter's global cache, which hands out shared mutable objects.
    parsed = matter(text, {});
  } catch (error) {
    const mark = (error as { mark?: { line?: number } }).mark;
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    const line = typeof mark?.line === "number" ? mark.line + 1 : 1;
    throw new UsageError(
      `${display}:${line}: front matter is not valid YAML: ${reason}`,
      "fix the YAML between the --- lines (quote values that contain a colon)",
    );
  }

  const data: unknown = parsed.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(
      `${display}:2: front matter must be key: value pairs`,
      "write e.g. title: My article, one key per line",
    );
  }
  const raw = (parsed as { matter?: string }).matter ?? "";
  const keyLines = findKeyLines(raw);
  const at = (key: string): string => `${display}:${keyLines[key] ?? 1}`;
  const fields = data as Record<string, unknown>;
  const out: FrontMatter = {
    ...empty,
    body: parsed.content,
    bodyLine: countNewlines(text.slice(0, text.length - parsed.content.length)),
    keyLines,
  };

  for (const key of Object.keys(fields).sort((a, b) => (keyLines[a] ?? 0) - (keyLines[b] ?? 0))) {
    if (!KNOWN_KEYS.has(key) && !IGNORED_KEYS.has(key)) {
      out.warnings.push(
        `${at(key)}: unknown front matter key "${key}" ignored (known: ${[...KNOWN_KEYS].join(", ")})`,
      );
    }
  }

  const title = scalar(fields.title, at("title"), "title");
  if (title !== undefined && title.trim() !== "") out.title = title.trim();
  out.topics = names(fields.topics, at("topics"), "topics");
  if (out.topics.length > MAX_TOPICS) {
    throw new UsageError(
      `${at("topics")}: ${out.topics.length} topics given, Zhihu allows at most ${MAX_TOPICS} (${out.topics.join(", ")})`,
      `keep the ${MAX_TOPICS} that describe the article best`,
    );
  }
  const column = scalar(fields.column, at("column"), "column");
  if (column !== undefined && column.trim() !== "") out.column = column.trim();
  const cover = scalar(fields.cover, at("cover"), "cover");
  if (cover !== undefined && cover.trim() !== "") out.cover = cover.trim();
  const comments = scalar(fields.comments, at("comments"), "comments");
  if (comments !== undefined) {
    const value = comments.trim() as CommentPermission;
    if (!COMMENT_VALUES.includes(value)) {
      throw new UsageError(
        `${at("comments")}: comments must be anyone, followees or no_one, not "${comments}"`,
        "write e.g. comments: anyone",
      );
    }
    out.comments = value;
  }
  const key = fields.zhihu !== undefined && fields.zhihu !== null ? "zhihu" : "zhihu_id";
  const zhihuId = zhihuIdOf(key, fields[key], raw, at(key));
  if (zhihuId !== undefined) out.zhihuId = zhihuId;
  if (flag(fields.draft, at("draft"), "draft") === true) out.draftKey = "draft";
  else if (flag(fields.published, at("published"), "published") === false) out.draftKey = "published";
  const date = dateOf(fields.date, at("date"));
  if (date !== undefined) out.date = date;
  if (fields.tags !== undefined && fields.tags !== null) out.tags = names(fields.tags, at("tags"), "tags");
  for (const key of SWITCHES) {
    const value = fields[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "boolean") {
      throw new UsageError(
        `${at(key)}: ${key} must be true or false, not ${JSON.stringify(value)}`,
        `write ${key}: true`,
      );
    }
    out[key] = value;
  }
  return out;
}

function flag(value: unknown, where: string, key: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  throw new UsageError(
    `${where}: ${key} must be true or false, not ${JSON.stringify(value)}`,
    `write ${key}: true`,
  );
}

/** YAML reads `2024-01-01` and `2024-01-01T09:00:00+08:00` as dates; a quoted one is parsed the same way. */
function dateOf(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const ms =
    value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `${where}: date must be a date like 2024-01-01 or 2024-01-01T09:00:00+08:00, not ${JSON.stringify(value)}`,
      "fix the date, or remove it",
    );
  }
  return ms;
}

/** 1-based file lines of top-level keys. `raw` starts right after the opening `---` (file line 1). */
function findKeyLines(raw: string): Record<string, number> {
  const lines: Record<string, number> = {};
  raw.split("\n").forEach((line, index) => {
    const match = /^(?:"([^"]+)"|'([^']+)'|([^\s#:'"-][^:]*?))\s*:(\s|$)/.exec(line);
    const key = match?.[1] ?? match?.[2] ?? match?.[3];
    if (key !== undefined && lines[key] === undefined) lines[key] = index + 1;
  });
  return lines;
}

function countNewlines(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === "\n") n++;
  return n;
}

function scalar(value: unknown, where: string, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  throw new UsageError(
    `${where}: ${key} must be a single value, not a list or a map`,
    `write ${key}: <text>`,
  );
}

/** A list of names (topics, tags): a YAML list or a comma-separated string, blanks and repeats dropped. */
function names(value: unknown, where: string, key: string): string[] {
  if (value === undefined || value === null) return [];
  let items: unknown[];
  if (typeof value === "string") items = value.split(/[,，、]/);
  else if (Array.isArray(value)) items = value;
  else {
    throw new UsageError(
      `${where}: ${key} must be a list or a comma-separated string`,
      `write ${key}: [写作, 编程]`,
    );
  }
  const seen = new Set<string>();
  for (const item of items) {
    if (typeof item !== "string" && typeof item !== "number") {
      throw new UsageError(
        `${where}: each of ${key} must be a name, not ${JSON.stringify(item)}`,
        `write ${key}: [写作, 编程]`,
      );
    }
    const name = String(item).trim();
    if (name !== "") seen.add(name);
  }
  return [...seen];
}

/**
 * `zhihu: https://zhuanlan.zhihu.com/p/ID` or `zhihu: ID` (`zhihu_id: ID`, the older key). Zhihu ids are
 * ~19 digits, above 2^53: YAML reads a bare one as a float and loses digits, so a number is re-read from the
 * raw front matter text.
 */
function zhihuIdOf(key: string, value: unknown, raw: string, where: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  let id: string | undefined;
  if (typeof value === "string") {
    const text = value.trim();
    id = ARTICLE_URL.exec(text)?.[1] ?? text;
  } else if (typeof value === "number") {
    id = new RegExp(`^${key}\\s*:\\s*(\\d+)\\s*(#.*)?$`, "m").exec(raw)?.[1];
  }
  if (id === undefined || !/^\d{1,30}$/.test(id)) {
    throw new UsageError(
      `${where}: ${key} must be the article's URL (https://zhuanlan.zhihu.com/p/…) or its numeric id, not ${JSON.stringify(value)}`,
      `fix it, or remove the ${key} line to publish as a new article`,
    );
  }
  return id;
}
