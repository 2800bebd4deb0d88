// The one markdown-it configuration topn parses articles with.

import MarkdownIt, { type PluginSimple } from "markdown-it";
import footnotePlugin from "markdown-it-footnote";
import { mathPlugin } from "./math.js";

// @types/markdown-it-footnote is typed against the CommonJS flavour of markdown-it's types.
const footnote = footnotePlugin as unknown as PluginSimple;

let shared: MarkdownIt | undefined;

/** A parser is stateless between `parse` calls, so one instance serves every article. */
export function markdown(): MarkdownIt {
  if (shared === undefined) {
    // html: true so raw HTML is recognised (and then escaped with a warning) rather than passed on silently;
    // typographer off so quotes and dashes stay as written.
    shared = new MarkdownIt("default", { html: true, linkify: true, typographer: false })
      .use(footnote)
      .use(mathPlugin);
  }
  return shared;
}
