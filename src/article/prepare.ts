// File → PreparedArticle: every check that can fail before a task is enqueued happens here, so a queued
// task never fails for a reason the person could have been told at the prompt.

import { createHash } from "node:crypto";
import path from "node:path";
import { UsageError } from "../errors.js";
import { parseFrontMatter } from "./frontmatter.js";
import { type ImageRef, loadImages } from "./images.js";
import { markdown } from "./markdown.js";
import { headingTitle, type RenderResult, renderMarkdown } from "./render.js";
import { readSource } from "./source.js";
import type { ImageAsset, PreparedArticle } from "./types.js";

export const MAX_TITLE_CHARS = 100;

export interface PrepareOptions {
  /** Used to download remote images (tests pass their own). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** What a relative `file` is relative to (default: the process's cwd); messages name `file` as given. */
  cwd?: string;
}

export async function prepareArticle(file: string, opts: PrepareOptions = {}): Promise<PreparedArticle> {
  opts.signal?.throwIfAborted();
  const source = await readSource(file, opts.cwd);
  const display = source.display;
  const fm = parseFrontMatter(display, source.text);

  let title = fm.title;
  let titleFrom: PreparedArticle["titleFrom"] = "front-matter";
  let titleLine = fm.keyLines.title ?? 1;
  if (title === undefined) {
    const heading = headingTitle(fm.body);
    if (heading !== undefined && heading.text !== "") {
      title = heading.text;
      titleFrom = "heading";
      titleLine = fm.bodyLine + heading.line + 1;
    }
  }
  if (title === undefined) {
    throw new UsageError(
      `${display}:1: the article has no title`,
      'add "title: …" to the front matter, or start the article with a "# Title" line',
    );
  }
  const length = [...title].length;
  if (length > MAX_TITLE_CHARS) {
    throw new UsageError(
      `${display}:${titleLine}: title is ${length} characters, Zhihu allows at most ${MAX_TITLE_CHARS}`,
      "shorten the title",
    );
  }

  // A first pass with placeholder images finds exactly the images the renderer will place, with their lines.
  const refs: ImageRef[] = [];
  const placeholder: ImageAsset = {
    id: "",
    source: "",
    bytes: Buffer.alloc(0),
    mime: "",
    ext: "",
    width: 0,
    height: 0,
  };
  const dry = renderMarkdown(fm.body, {
    file: display,
    bodyLine: fm.bodyLine,
    title,
    titleFrom,
    image: (src, line) => {
      refs.push({ src, line });
      return placeholder;
    },
    imageSrc: () => "",
  });
  if (dry.html.trim() === "") {
    throw new UsageError(
      `${display}: the article has no body, only a title`,
      "write the article below the title",
    );
  }

  const coverRef: ImageRef | undefined =
    fm.cover === undefined
      ? undefined
      : { src: markdown().normalizeLink(fm.cover), line: fm.keyLines.cover ?? 1 };
  const assets = await loadImages(coverRef ? [coverRef, ...refs] : refs, {
    display,
    baseDir: path.dirname(source.abs),
    fetch: opts.fetch ?? globalThis.fetch,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });

  const imageIds: Record<string, string> = {};
  const images: ImageAsset[] = [];
  for (const ref of refs) {
    const asset = assets.get(ref.src)!;
    imageIds[ref.src] = asset.id;
    if (!images.includes(asset)) images.push(asset);
  }

  const prepared: PreparedArticle = {
    file: source.abs,
    displayFile: display,
    title,
    topics: fm.topics,
    optionalTopics: fm.topics.length === 0 ? fm.tags : [],
    comments: fm.comments,
    images,
    contentHash: createHash("sha256").update(source.bytes).digest("hex"),
    warnings: [
      ...fm.warnings,
      ...(fm.topics.length === 0 && fm.tags.length === 0
        ? [`${display}:1: no topics: Zhihu usually refuses to publish without one (add e.g. topics: [写作])`]
        : []),
      ...dry.warnings,
    ],
    body: fm.body,
    bodyLine: fm.bodyLine,
    titleFrom,
    imageIds,
  };
  if (fm.column !== undefined) prepared.column = fm.column;
  if (coverRef !== undefined) prepared.cover = assets.get(coverRef.src)!;
  if (fm.zhihuId !== undefined) {
    prepared.zhihuId = fm.zhihuId;
    prepared.zhihuLine = fm.keyLines.zhihu ?? fm.keyLines.zhihu_id ?? 1;
  }
  if (fm.draftKey !== undefined) prepared.draft = { key: fm.draftKey, line: fm.keyLines[fm.draftKey] ?? 1 };
  if (fm.date !== undefined) prepared.date = fm.date;
  return prepared;
}

/** The HTML body plus the references Zhihu will list under it (for previews). */
export function renderArticleParts(
  a: PreparedArticle,
  imageSrc: (asset: ImageAsset) => string,
): RenderResult {
  const byId = new Map<string, ImageAsset>(a.images.map((img) => [img.id, img]));
  return renderMarkdown(a.body, {
    file: a.displayFile,
    bodyLine: a.bodyLine,
    title: a.title,
    titleFrom: a.titleFrom,
    image: (src, line) => {
      const asset = byId.get(a.imageIds[src] ?? "");
      if (asset === undefined) throw new Error(`${a.displayFile}:${line}: image ${src} was not prepared`);
      return asset;
    },
    imageSrc,
  });
}

/** The article body as Zhihu HTML; `imageSrc` gives each image's final address (its zhimg URL after upload). */
export function renderArticle(a: PreparedArticle, imageSrc: (asset: ImageAsset) => string): string {
  return renderArticleParts(a, imageSrc).html;
}
