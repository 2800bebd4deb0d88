// Obsidian's links between notes: `[[Note]]`, `[[Note|text]]`, `[[Note#Heading]]`, `[[folder/Note]]`
// (`\|` inside a table cell, where a bare `|` would end the cell). Parsed into one `wikilink` token whose
// content is the text a reader sees; the renderer asks a resolver for the note's Zhihu article and makes it a
// link, or leaves the text plain with a warning. Embeds (`![[…]]`) are not links: left as written, with a note.

import type MarkdownIt from "markdown-it";
import type StateInline from "markdown-it/lib/rules_inline/state_inline.mjs";

export interface WikiLinkMeta {
  /** The note as written, without `.md` (empty for a link to a heading of this article). */
  note: string;
  heading: string;
  /** The whole link as written, for messages. */
  raw: string;
  /** `![[…]]`: an embed, not a link. */
  embed: boolean;
}

/** What a resolver says about a note: its article's address, or why there is none. */
export type WikiTarget = { url: string } | { reason: string };
export type WikiResolver = (note: string) => WikiTarget;

const OPEN = 0x5b; // [
const BANG = 0x21; // !

export function wikiLinkPlugin(md: MarkdownIt): void {
  md.inline.ruler.before("link", "topn_wikilink", (state: StateInline, silent: boolean) => {
    const { src, pos } = state;
    if (src.charCodeAt(pos) !== OPEN || src.charCodeAt(pos + 1) !== OPEN) return false;
    const end = src.indexOf("]]", pos + 2);
    if (end === -1) return false;
    const inner = src.slice(pos + 2, end);
    if (inner.trim() === "" || /[[\]\n]/.test(inner)) return false;
    if (silent) {
      // Skipped over by another rule (inside a link's label): consumed, nothing made.
      state.pos = end + 2;
      return true;
    }
    const raw = `[[${inner}]]`;
    if (pos > 0 && src.charCodeAt(pos - 1) === BANG) {
      // The "!" is already text: the embed stays as written, and the renderer says why.
      const token = state.push("wikilink", "", 0);
      token.content = raw;
      token.meta = { note: "", heading: "", raw: `!${raw}`, embed: true } satisfies WikiLinkMeta;
      state.pos = end + 2;
      return true;
    }
    const bar = /\\?\|/.exec(inner);
    const target = bar ? inner.slice(0, bar.index) : inner;
    const label = bar ? inner.slice(bar.index + bar[0].length).trim() : "";
    const hash = target.indexOf("#");
    const noteName = (hash === -1 ? target : target.slice(0, hash)).trim().replace(/\.md$/i, "");
    const heading =
      hash === -1
        ? ""
        : target
            .slice(hash + 1)
            .replace(/^\^/, "")
            .trim();
    const token = state.push("wikilink", "a", 0);
    token.content = label || [noteName, heading].filter((s) => s !== "").join(" > ");
    token.meta = { note: noteName, heading, raw, embed: false } satisfies WikiLinkMeta;
    state.pos = end + 2;
    return true;
  });
}
