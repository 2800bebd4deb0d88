// `topn preview FILE`: the exact HTML Zhihu will receive, inside a page styled like a Zhihu article, so a
// person can check the result before anything is queued. Images and drawn diagrams are inlined as data:
// URLs (nothing is uploaded); an image on zhimg.com, or one that could not be downloaded, is shown by its
// URL; formulas use Zhihu's equation URLs. Those show when the machine is online.

import { writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  type ImageAsset,
  type PreparedArticle,
  prepareArticle,
  type Reference,
  renderArticleParts,
} from "./index.js";
import { escapeHtml } from "./render.js";

export interface PreviewOptions {
  file: string;
  /** Where to write the page; default: beside the source, `post.md` → `post.preview.html`. */
  out?: string;
  /** Also screenshot the page (full height) to this PNG, with the browser topn uses. */
  png?: string;
  /** What relative `file`, `out` and `png` are relative to (default: the process's cwd). */
  cwd?: string;
  /** `--emoji` / `--no-captions`, as for publish. */
  emoji?: boolean;
  captions?: boolean;
}

export interface PreviewResult {
  /** The article body exactly as it will be sent to Zhihu (images as data: URLs instead of zhimg URLs). */
  html: string;
  out: string;
  png?: string;
  warnings: string[];
}

const PNG_WIDTH = 800;
/** Formula images load from www.zhihu.com; offline they fail fast, but never wait on them for long. */
const LOAD_TIMEOUT_MS = 15_000;

export function defaultPreviewPath(file: string): string {
  return path.resolve(file).replace(/\.(md|markdown|mdown|mkd)$/i, "") + ".preview.html";
}

export async function preview(opts: PreviewOptions): Promise<PreviewResult> {
  const cwd = opts.cwd ?? process.cwd();
  const article = await prepareArticle(opts.file, { cwd, emoji: opts.emoji, captions: opts.captions });
  const { html, references } = renderArticleParts(article, dataUrl);
  const out = path.resolve(cwd, opts.out ?? defaultPreviewPath(article.file));
  await writeFile(out, previewPage(article, html, references));
  const result: PreviewResult = { html, out, warnings: article.warnings };
  if (opts.png !== undefined) {
    result.png = path.resolve(cwd, opts.png);
    await screenshot(out, result.png);
  }
  return result;
}

function dataUrl(asset: ImageAsset): string {
  if (asset.delivery) return asset.source;
  return `data:${asset.mime};base64,${asset.bytes.toString("base64")}`;
}

async function screenshot(page: string, png: string): Promise<void> {
  const { launchBrowser } = await import("../browser/launch.js");
  const browser = await launchBrowser({ headless: true });
  try {
    const tab = await browser.newPage();
    await tab.setViewport({ width: PNG_WIDTH, height: 600, deviceScaleFactor: 1 });
    try {
      await tab.goto(pathToFileURL(page).href, { waitUntil: "load", timeout: LOAD_TIMEOUT_MS });
    } catch (error) {
      // A formula server that never answers must not cost the screenshot: take what has rendered.
      if ((error as Error).name !== "TimeoutError") throw error;
    }
    await tab.screenshot({ path: png as `${string}.png`, fullPage: true });
  } finally {
    await browser.close();
  }
}

/** The page around the body. Captions and the reference list imitate what zhuanlan.zhihu.com shows. */
export function previewPage(
  article: PreparedArticle,
  body: string,
  references: readonly Reference[],
): string {
  const meta = [
    article.topics.length > 0 ? `话题：${article.topics.map(escapeHtml).join(" · ")}` : "",
    article.column ? `专栏：${escapeHtml(article.column)}` : "",
  ].filter((s) => s !== "");
  const cover = article.cover
    ? `<img class="cover" src="${escapeHtml(dataUrl(article.cover))}" alt=""${article.cover.width > 0 ? ` width="${article.cover.width}" height="${article.cover.height}"` : ""}>`
    : "";
  const refs =
    references.length === 0
      ? ""
      : `<section class="references"><h4>参考</h4><ol>${references
          .map(
            (r) =>
              `<li value="${r.numero}">${escapeHtml(r.text)}${
                r.url ? ` <a href="${escapeHtml(r.url)}">${escapeHtml(r.url)}</a>` : ""
              }</li>`,
          )
          .join("")}</ol></section>`;
  const warnings =
    article.warnings.length === 0
      ? ""
      : `<aside class="warnings"><b>topn warnings</b><ul>${article.warnings
          .map((w) => `<li>${escapeHtml(w)}</li>`)
          .join("")}</ul></aside>`;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<!-- Zhihu's equation images use protocol-relative URLs; resolve them over https from a file:// page. -->
<base href="https://zhuanlan.zhihu.com/">
<title>${escapeHtml(article.title)} - topn preview</title>
<style>${STYLE}</style>
</head>
<body>
${warnings}<main class="post">
${cover}<h1 class="title">${escapeHtml(article.title)}</h1>
${meta.length > 0 ? `<div class="meta">${meta.join("　")}</div>` : ""}
<!-- BEGIN article body: exactly what topn sends to Zhihu -->
<div class="RichText">
${body}
</div>
<!-- END article body -->
${refs}
</main>
<script>
// Zhihu shows an image's data-caption under it.
for (const img of document.querySelectorAll(".RichText figure > img[data-caption]")) {
  const text = img.getAttribute("data-caption");
  if (text) { const c = document.createElement("figcaption"); c.textContent = text; img.after(c); }
}
</script>
</body>
</html>
`;
}

const STYLE = `
body { margin: 0; background: #f6f6f6; color: #121212; -webkit-font-smoothing: antialiased;
  font-family: -apple-system, BlinkMacSystemFont, "Helvetica Neue", "PingFang SC", "Microsoft YaHei",
  "Source Han Sans SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; }
.post { max-width: 690px; margin: 0 auto; padding: 32px 40px 64px; background: #fff; min-height: 100vh; box-sizing: border-box; }
.cover { display: block; width: calc(100% + 80px); margin: -32px -40px 24px; height: auto; }
.title { font-size: 24px; line-height: 1.22; font-weight: 600; margin: 8px 0 12px; }
.meta { color: #8590a6; font-size: 14px; margin-bottom: 20px; }
.RichText { font-size: 15px; line-height: 1.6; word-wrap: break-word; }
.RichText p { margin: 1.4em 0; }
.RichText h2 { font-size: 1.4em; line-height: 1.4; margin: 1.6em 0 0.8em; font-weight: 600; }
.RichText h3 { font-size: 1.2em; line-height: 1.4; margin: 1.4em 0 0.6em; font-weight: 600; }
.RichText a { color: #175199; text-decoration: none; border-bottom: 1px solid #8590a6; }
.RichText b { font-weight: 600; }
.RichText code { margin: 0 2px; padding: 3px 4px; border-radius: 3px; font-size: 13px; background: #f6f6f6;
  font-family: Menlo, Monaco, Consolas, "Andale Mono", "lucida console", "Courier New", monospace; }
.RichText pre { margin: 1em 0; padding: 0.88889em; font-size: 0.9em; line-height: 1.6; overflow: auto;
  background: #f6f6f6; border-radius: 4px; white-space: pre;
  font-family: Menlo, Monaco, Consolas, "Andale Mono", "lucida console", "Courier New", monospace; }
.RichText blockquote { margin: 1em 0; padding: 0 1em; color: #646464; border-left: 3px solid #d3d3d3; }
.RichText ul, .RichText ol { padding-left: 2em; margin: 1em 0; }
.RichText li { margin: 0.3em 0; }
.RichText hr { margin: 2em auto; width: 240px; max-width: 100%; border: none; border-top: 1px solid #d3d3d3; }
.RichText figure { margin: 1.4em 0; text-align: center; }
.RichText figure img { max-width: 100%; height: auto; }
.RichText figcaption { margin-top: 0.6em; font-size: 0.9em; color: #999; line-height: 1.5; }
.RichText img[eeimg] { max-width: 100%; vertical-align: middle; }
.RichText p > img[eeimg]:only-child { display: block; margin: 0 auto; }
.RichText sup[data-draft-type="reference"] { color: #175199; font-size: 0.75em; padding: 0 2px; cursor: pointer; }
.RichText table { width: 100%; margin: 1em 0; border-collapse: collapse; font-size: 14px; }
.RichText th, .RichText td { padding: 8px 12px; border: 1px solid #ebebeb; text-align: left; }
.RichText th { background: #f6f6f6; font-weight: 600; }
.references { margin-top: 3em; padding-top: 1em; border-top: 1px solid #ebebeb; font-size: 13px; color: #646464; }
.references h4 { font-size: 14px; margin: 0 0 0.5em; color: #121212; }
.references a { color: #175199; word-break: break-all; }
.warnings { max-width: 690px; margin: 0 auto; padding: 12px 40px; box-sizing: border-box; background: #fff8e1;
  color: #6d4c00; font-size: 13px; border-bottom: 1px solid #f0d98c; }
.warnings ul { margin: 4px 0 0; padding-left: 1.2em; }
`;
