// Diagram blocks (```mermaid, ```dot / ```graphviz) → PNG, uploaded like any image. Zhihu takes no SVG, so
// both end as a screenshot in the Chromium topn already drives: Mermaid runs in that page (its script read
// from node_modules and injected: the page may load nothing from the network), Graphviz runs in Node as
// WebAssembly (@viz-js/viz) and the page only rasterises its SVG.
// The browser starts only when a file has a diagram; one page draws all of a file's diagrams. The same
// source gives the same PNG bytes on one machine (measured: the md5 is an image's identity on Zhihu and
// part of articleDigest); fonts differ between machines, and so may the bytes.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Browser, Page } from "puppeteer-core";

export type DiagramLang = "mermaid" | "dot";

/** The diagram kind a fence's language names, if any. */
export function diagramLang(lang: string): DiagramLang | undefined {
  const l = lang.toLowerCase();
  if (l === "mermaid") return "mermaid";
  if (l === "dot" || l === "graphviz" || l === "gv") return "dot";
  return undefined;
}

/** Key of a diagram in PreparedArticle.diagramIds. */
export function diagramKey(lang: DiagramLang, source: string): string {
  return `${lang}\n${source}`;
}

/** The diagram's own source does not draw (a syntax error): it stays code. Any other failure is the machine's. */
export class DiagramError extends Error {
  override readonly name = "DiagramError";
  // By brand, as UsageError: a renderer passed in from elsewhere may carry its own copy of this module.
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as { name?: unknown }).name === "DiagramError";
  }
}

export interface DiagramRenderer {
  /**
   * The PNG of a diagram. Rejects with a DiagramError (one line saying why) when the source does not draw,
   * with anything else when the drawing machinery failed.
   */
  render(lang: DiagramLang, source: string): Promise<Buffer>;
  /** Releases what rendering started (the browser). */
  close(): Promise<void>;
}

/** Past this the drawing counts as failed (a hung page, a pathological graph): tried again later. */
const RENDER_TIMEOUT_MS = 20_000;
/** Pixels per CSS pixel: sharp on the high-density screens most Zhihu readers use. */
const SCALE = 2;
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; background: #fff; }
#out { display: inline-block; padding: 16px; background: #fff; }
#out svg { display: block; }
</style></head><body><div id="out"></div></body></html>`;

/** Renders in a headless Chromium started on first use and closed by `close()`. */
export function chromiumDiagrams(opts: { env?: NodeJS.ProcessEnv } = {}): DiagramRenderer {
  let browser: Promise<Browser> | null = null;
  let page: Promise<Page> | null = null;
  let mermaidReady: Promise<void> | null = null;

  const open = async (): Promise<Page> => {
    browser ??= import("../browser/launch.js").then(({ launchBrowser }) =>
      launchBrowser({ headless: true, ...(opts.env ? { env: opts.env } : {}) }),
    );
    const b = await browser;
    const p = await b.newPage();
    await p.setViewport({ width: 1600, height: 1200, deviceScaleFactor: SCALE });
    // Diagrams may name images or fonts by URL; nothing is fetched, so the result depends on the source only.
    await p.setRequestInterception(true);
    p.on("request", (r) => {
      if (r.url().startsWith("data:")) void r.continue();
      else void r.abort("blockedbyclient");
    });
    await p.setContent(PAGE);
    return p;
  };

  const draw = async (p: Page, lang: DiagramLang, source: string): Promise<Buffer> => {
    if (lang === "mermaid") {
      const result = (await p.evaluate(`(${MERMAID_IN_PAGE})(${JSON.stringify(source)})`)) as {
        error?: string;
      };
      if (result.error !== undefined) throw new DiagramError(result.error);
    } else {
      const svg = await graphvizSvg(source);
      await p.evaluate(`document.getElementById("out").innerHTML = ${JSON.stringify(svg)}`);
    }
    const box = await p.$("#out");
    if (box === null) throw new Error("the drawing page lost its content");
    return Buffer.from(await box.screenshot({ type: "png" }));
  };

  return {
    async render(lang, source) {
      page ??= open();
      const p = await page;
      if (lang === "mermaid") {
        mermaidReady ??= injectMermaid(p);
        await mermaidReady;
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          draw(p, lang, source),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`not drawn within ${RENDER_TIMEOUT_MS / 1000} s`)),
              RENDER_TIMEOUT_MS,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      const b = browser;
      browser = null;
      page = null;
      mermaidReady = null;
      if (b) await (await b.catch(() => null))?.close().catch(() => {});
    },
  };
}

async function injectMermaid(p: Page): Promise<void> {
  const file = createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js");
  await p.addScriptTag({ content: await readFile(file, "utf8") });
  // strict: no click handlers or HTML from the diagram text; deterministicIds: the same source, the same SVG.
  await p.evaluate(
    `mermaid.initialize({ startOnLoad: false, securityLevel: "strict", deterministicIds: true, theme: "default" })`,
  );
}

// Runs in the page. Kept as source text: a transpiled function may reference helpers that do not exist there.
const MERMAID_IN_PAGE = `async (source) => {
  const out = document.getElementById("out");
  out.innerHTML = "";
  try {
    const { svg } = await mermaid.render("topn-diagram", source);
    out.innerHTML = svg;
    // Mermaid sizes its SVG as width:100% with a max-width; inside a shrink-to-fit box that is its max-width.
    const el = out.querySelector("svg");
    const max = el && parseFloat(el.style.maxWidth);
    if (max > 0) { el.style.width = max + "px"; el.style.maxWidth = "none"; }
    return {};
  } catch (e) {
    // Mermaid leaves its error drawing in the page: take it away.
    for (const stray of document.querySelectorAll("body > :not(#out)")) stray.remove();
    out.innerHTML = "";
    return { error: String((e && e.message) || e).split("\\n").filter((l) => l.trim() !== "").slice(0, 2).join(" ") };
  }
}`;

type Viz = Awaited<ReturnType<typeof import("@viz-js/viz").instance>>;
let viz: Promise<Viz> | null = null;

/** Graphviz DOT → SVG, in Node. */
export async function graphvizSvg(source: string): Promise<string> {
  viz ??= import("@viz-js/viz").then((m) => m.instance());
  const result = (await viz).render(source, { format: "svg" });
  if (result.status !== "success") {
    const messages = result.errors.filter((e) => e.level === "error").map((e) => e.message.trim());
    throw new DiagramError(messages[0] ?? "Graphviz could not lay it out");
  }
  return result.output;
}
