// File → PreparedArticle: every check that can fail before a task is enqueued happens here, so a queued
// task never fails for a reason the person could have been told at the prompt.

import { createHash } from "node:crypto";
import path from "node:path";
import { UsageError } from "../errors.js";
import {
  chromiumDiagrams,
  DiagramError,
  type DiagramLang,
  type DiagramRenderer,
  diagramKey,
} from "./diagrams.js";
import { zhihuSafeEmoji } from "./emoji.js";
import { parseFrontMatter } from "./frontmatter.js";
import { describe, type ImageRef, loadImages } from "./images.js";
import { markdown } from "./markdown.js";
import { headingTitle, type RenderResult, renderMarkdown } from "./render.js";
import { readSource } from "./source.js";
import type { ArticleSettings, ImageAsset, PreparedArticle } from "./types.js";
import type { WikiResolver } from "./wikilinks.js";

export const MAX_TITLE_CHARS = 100;

export interface PrepareOptions {
  /** Used to download remote images (tests pass their own). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** What a relative `file` is relative to (default: the process's cwd); messages name `file` as given. */
  cwd?: string;
  /** `--emoji`: shortcodes on whatever the front matter says. */
  emoji?: boolean;
  /** `--no-captions` (false): no captions whatever the front matter says. */
  captions?: boolean;
  /** Draws diagram blocks; default: a headless Chromium started only if the file has one, closed after. */
  diagrams?: DiagramRenderer;
  /** Environment for that browser (TOPN_BROWSER). */
  env?: NodeJS.ProcessEnv;
  /** Finds the Zhihu article of a note named by a wiki link; without one, wiki links stay text. */
  wikiLinks?: WikiResolver;
}

/** A task keeps the addresses its wiki links had when it was queued, so the job renders the same HTML. */
const linksResolver =
  (links: Readonly<Record<string, string>>): WikiResolver =>
  (note) => {
    const url = links[note];
    return url === undefined ? { reason: "had no Zhihu article when the file was queued" } : { url };
  };

/** The options of `publish`/`preview` that change the HTML, as kept in a task's state for the job. */
export function articleOptionsState(
  opts: Pick<PrepareOptions, "emoji" | "captions"> & { links?: Readonly<Record<string, string>> },
): Record<string, unknown> {
  const render: Record<string, unknown> = {};
  if (opts.emoji === true) render.emoji = true;
  if (opts.captions === false) render.captions = false;
  if (opts.links && Object.keys(opts.links).length > 0) render.links = { ...opts.links };
  return Object.keys(render).length > 0 ? { render } : {};
}

/** The inverse of articleOptionsState. */
export function articleOptionsFrom(
  state: Readonly<Record<string, unknown>>,
): Pick<PrepareOptions, "emoji" | "captions" | "wikiLinks"> {
  const render = (state.render ?? {}) as { emoji?: unknown; captions?: unknown; links?: unknown };
  const links =
    typeof render.links === "object" && render.links !== null
      ? Object.fromEntries(
          Object.entries(render.links).filter((e): e is [string, string] => typeof e[1] === "string"),
        )
      : {};
  return {
    ...(render.emoji === true ? { emoji: true } : {}),
    ...(render.captions === false ? { captions: false } : {}),
    ...(Object.keys(links).length > 0 ? { wikiLinks: linksResolver(links) } : {}),
  };
}

export async function prepareArticle(file: string, opts: PrepareOptions = {}): Promise<PreparedArticle> {
  opts.signal?.throwIfAborted();
  const source = await readSource(file, opts.cwd);
  const display = source.display;
  const fm = parseFrontMatter(display, source.text);
  const settings: ArticleSettings = {
    emoji: opts.emoji === true || fm.emoji === true,
    captions: opts.captions !== false && fm.captions !== false,
  };

  let title = fm.title;
  let titleFrom: PreparedArticle["titleFrom"] = "front-matter";
  let titleLine = fm.keyLines.title ?? 1;
  if (title === undefined) {
    const heading = headingTitle(fm.body, settings.emoji);
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

  const titleWarnings =
    zhihuSafeEmoji(title) === title
      ? []
      : [
          `${display}:${titleLine}: the title has emoji Zhihu filters (flags, skin tones, joined emoji): write "${zhihuSafeEmoji(title)}"`,
        ];

  // A first pass with placeholder images finds exactly the images and diagrams the renderer will place, with
  // their lines, in the order they appear.
  const refs: ImageRef[] = [];
  const links: Record<string, string> = {};
  const diagrams = new Map<string, { lang: DiagramLang; source: string; line: number }>();
  const order: string[] = [];
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
    emoji: settings.emoji,
    captions: settings.captions,
    image: (src, line) => {
      refs.push({ src, line });
      order.push(`image\n${src}`);
      return placeholder;
    },
    diagram: (lang, source, line) => {
      const key = diagramKey(lang, source);
      if (!diagrams.has(key)) diagrams.set(key, { lang, source, line });
      order.push(`diagram\n${key}`);
      return placeholder;
    },
    imageSrc: () => "",
    wikiLink: (note) => {
      const target = opts.wikiLinks?.(note) ?? {
        reason: "is not resolved here (topn sync and topn publish link notes to their Zhihu articles)",
      };
      if ("url" in target) links[note] = target.url;
      return target;
    },
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
  const loaded = await loadImages(coverRef ? [coverRef, ...refs] : refs, {
    display,
    baseDir: path.dirname(source.abs),
    fetch: opts.fetch ?? globalThis.fetch,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const assets = loaded.assets;
  const drawn = await drawDiagrams(display, [...diagrams.values()], opts);

  const imageIds: Record<string, string> = {};
  const diagramIds: Record<string, string> = {};
  const images: ImageAsset[] = [];
  const byId = new Map<string, ImageAsset>();
  for (const entry of order) {
    const [kind, ...rest] = entry.split("\n");
    const key = rest.join("\n");
    let asset = kind === "image" ? assets.get(key) : drawn.assets.get(key);
    if (asset === undefined) continue; // a diagram that failed stays code
    // A diagram whose PNG equals an image's bytes is that image: one upload.
    asset = byId.get(asset.id) ?? asset;
    byId.set(asset.id, asset);
    if (kind === "image") imageIds[key] = asset.id;
    else diagramIds[key] = asset.id;
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
      ...byLine([...titleWarnings, ...dry.warnings, ...loaded.warnings, ...drawn.warnings]),
    ],
    body: fm.body,
    bodyLine: fm.bodyLine,
    titleFrom,
    imageIds,
    diagramIds,
    links,
    settings,
  };
  if (fm.column !== undefined) prepared.column = fm.column;
  if (coverRef !== undefined) {
    const cover = assets.get(coverRef.src)!;
    prepared.cover = byId.get(cover.id) ?? cover;
  }
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
    emoji: a.settings.emoji,
    captions: a.settings.captions,
    image: (src, line) => {
      const asset = byId.get(a.imageIds[src] ?? "");
      if (asset === undefined) throw new Error(`${a.displayFile}:${line}: image ${src} was not prepared`);
      return asset;
    },
    diagram: (lang, source) => byId.get(a.diagramIds[diagramKey(lang, source)] ?? ""),
    imageSrc,
    wikiLink: linksResolver(a.links),
  });
}

/** The article body as Zhihu HTML; `imageSrc` gives each image's final address (its zhimg URL after upload). */
export function renderArticle(a: PreparedArticle, imageSrc: (asset: ImageAsset) => string): string {
  return renderArticleParts(a, imageSrc).html;
}

/**
 * Each distinct diagram drawn once; one whose source does not draw is a warning and stays a code block.
 * When the drawing itself fails (the browser), the file is not published without its diagrams: the error
 * is "passing", refused at the prompt and retried by a queued task.
 */
async function drawDiagrams(
  display: string,
  list: readonly { lang: DiagramLang; source: string; line: number }[],
  opts: PrepareOptions,
): Promise<{ assets: Map<string, ImageAsset>; warnings: string[] }> {
  const assets = new Map<string, ImageAsset>();
  const warnings: string[] = [];
  if (list.length === 0) return { assets, warnings };
  const renderer = opts.diagrams ?? chromiumDiagrams(opts.env ? { env: opts.env } : {});
  try {
    for (const d of list) {
      opts.signal?.throwIfAborted();
      const where = `${display}:${d.line}`;
      let png: Buffer;
      try {
        png = await renderer.render(d.lang, d.source);
      } catch (error) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const reason = (error as Error).message.replace(/\s+/g, " ").trim();
        if (!(error instanceof DiagramError)) {
          if (error instanceof UsageError) throw error;
          throw new UsageError(
            `${where}: cannot draw the ${d.lang} diagram: ${reason}`,
            "check that Chromium starts (TOPN_BROWSER), then try again",
            true,
          );
        }
        warnings.push(`${where}: ${d.lang} diagram not drawn (${reason}): kept as a code block`);
        continue;
      }
      assets.set(
        diagramKey(d.lang, d.source),
        describe(png, `${d.lang} diagram at line ${d.line}`, { src: d.lang, line: d.line }, where),
      );
    }
  } finally {
    if (opts.diagrams === undefined) await renderer.close();
  }
  return { assets, warnings };
}

/** Warnings in file-line order (each starts "file:line: "); the order within a line is kept. */
function byLine(warnings: readonly string[]): string[] {
  const lineOf = (w: string): number => Number(/:(\d+): /.exec(w)?.[1] ?? 0);
  return [...warnings].sort((a, b) => lineOf(a) - lineOf(b));
}
