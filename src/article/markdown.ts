// The markdown-it configurations topn parses articles with, and the notes its own rules leave for the
// renderer (warnings found while parsing, with the body line they belong to).

import MarkdownIt, { type PluginSimple } from "markdown-it";
import footnotePlugin from "markdown-it-footnote";
import { emojiShortcodes, zhihuEmojiPlugin } from "./emoji.js";
import { htmlPlugin } from "./html.js";
import { mathPlugin } from "./math.js";
import { textPlugin } from "./text.js";
import { wikiLinkPlugin } from "./wikilinks.js";

// @types/markdown-it-footnote is typed against the CommonJS flavour of markdown-it's types.
const footnote = footnotePlugin as unknown as PluginSimple;

const shared = new Map<boolean, MarkdownIt>();

/**
 * A parser is stateless between `parse` calls, so one instance per setting serves every article.
 * `emoji`: turn `:smile:` shortcodes into emoji (only for files that ask: in others `:name:` is text).
 */
export function markdown(opts: { emoji?: boolean } = {}): MarkdownIt {
  const emoji = opts.emoji ?? false;
  let md = shared.get(emoji);
  if (md === undefined) {
    // html: true so raw HTML is recognised and converted (html.ts) rather than passed on as text;
    // typographer off so quotes and dashes stay as written.
    md = new MarkdownIt("default", { html: true, linkify: true, typographer: false })
      .use(footnote)
      .use(mathPlugin)
      .use(wikiLinkPlugin);
    if (emoji) md.use(emojiShortcodes);
    md.use(htmlPlugin).use(textPlugin).use(zhihuEmojiPlugin);
    shared.set(emoji, md);
  }
  return md;
}

/** A warning found while parsing: 0-based body line; `once` keys a warning given once per file. */
export interface ParseNote {
  line: number;
  message: string;
  once?: string;
}

/** Records a note in the parse environment (markdown-it's per-parse `env`). */
export function note(env: unknown, line: number, message: string, once?: string): void {
  const e = env as { topnNotes?: ParseNote[] };
  e.topnNotes ??= [];
  e.topnNotes.push(once === undefined ? { line, message } : { line, message, once });
}

export function notesOf(env: unknown): ParseNote[] {
  return (env as { topnNotes?: ParseNote[] }).topnNotes ?? [];
}
