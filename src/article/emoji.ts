// Emoji. Shortcodes (`:smile:`) come from markdown-it-emoji, for files that ask for them: elsewhere `:name:`
// is ordinary text. And the emoji Zhihu filters are replaced before they are sent. zhihu.md only says "some
// emoji are filtered"; our guess (test/sim/README.md) is the multi-code-point ones, which older emoji sets
// and Zhihu's sanitiser do not know: flags (regional indicator pairs), skin tones, emoji joined with a
// zero-width joiner, and tag sequences. Each is replaced by what it is made of, which still reads.

import type MarkdownIt from "markdown-it";
import { full as emojiPlugin } from "markdown-it-emoji";
import type StateCore from "markdown-it/lib/rules_core/state_core.mjs";
import { note } from "./markdown.js";

export function emojiShortcodes(md: MarkdownIt): void {
  // No ASCII smileys: ":)" or "8)" in a technical article is text, not an emoji.
  md.use(emojiPlugin, { shortcuts: {} });
}

const FLAG = /[\u{1F1E6}-\u{1F1FF}]{2}/gu;
const SKIN_TONE = /[\u{1F3FB}-\u{1F3FF}]/gu;
const JOINER = /(\p{Extended_Pictographic}\uFE0F?)\u200D(?=\p{Extended_Pictographic})/gu;
const TAG = /[\u{E0020}-\u{E007F}]/gu;
const FILTERED =
  /[\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]|\p{Extended_Pictographic}\uFE0F?\u200D/u;

/** Text with the emoji Zhihu filters replaced by what they are made of: a flag by its two letters. */
export function zhihuSafeEmoji(text: string): string {
  if (!FILTERED.test(text)) return text;
  return text
    .replace(FLAG, (flag) =>
      [...flag].map((c) => String.fromCharCode(c.codePointAt(0)! - 0x1f1e6 + 0x41)).join(""),
    )
    .replace(SKIN_TONE, "")
    .replace(JOINER, "$1")
    .replace(TAG, "");
}

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

function firstFiltered(text: string): string {
  for (const { segment } of graphemes.segment(text)) if (FILTERED.test(segment)) return segment;
  return "";
}

export function zhihuEmojiPlugin(md: MarkdownIt): void {
  md.core.ruler.push("topn_zhihu_emoji", (state: StateCore) => {
    for (const token of state.tokens) {
      if (token.type !== "inline") continue;
      for (const child of token.children ?? []) {
        if (child.type !== "text" && child.type !== "emoji") continue;
        const safe = zhihuSafeEmoji(child.content);
        if (safe === child.content) continue;
        const first = firstFiltered(child.content);
        note(
          state.env,
          token.map?.[0] ?? 0,
          `emoji ${first} sent as "${zhihuSafeEmoji(first)}" (Zhihu filters flags, skin tones and joined emoji; others like it are replaced too)`,
          "zhihu-emoji",
        );
        child.content = safe;
      }
    }
  });
}
