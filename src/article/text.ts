// Conventions markdown-it leaves as literal text, turned into what they mean:
// - GitHub task list markers "[ ]" / "[x]" become ☐ / ☑;
// - a footnote reference with no definition ("[^zz]") becomes "[zz]", with a warning, not caret syntax;
// - a GitHub alert or Obsidian callout ("> [!NOTE] Title") starts its quote with the title in bold;
// - Obsidian comments (%%…%%, inline or across paragraphs) are left out: no comment text reaches Zhihu.

import type MarkdownIt from "markdown-it";
import type StateCore from "markdown-it/lib/rules_core/state_core.mjs";
import type Token from "markdown-it/lib/token.mjs";
import { note } from "./markdown.js";

const TASK = /^\[([ xX])\](?=\s|$)\s*/;
const FOOTNOTE_REF = /\[\^([^\]\s]+)\]/g;
const CALLOUT = /^\[!([A-Za-z][\w-]*)\][+-]?[ \t]*/;

export function textPlugin(md: MarkdownIt): void {
  md.core.ruler.push("topn_text", (state: StateCore) => {
    const tokens = state.tokens;
    // A lone "%%" (no partner after it) is text, not the start of a comment that swallows the rest.
    let pairs = 0;
    for (const t of tokens)
      for (const c of t.children ?? []) if (c.type === "text") pairs += c.content.split("%%").length - 1;
    const comments = { open: false, line: -1, left: pairs - (pairs % 2) };
    tokens.forEach((token, i) => {
      const inline = tokens[i + 1]?.type === "paragraph_open" ? tokens[i + 2] : undefined;
      if (token.type === "list_item_open" && inline?.type === "inline") taskMarker(inline);
      if (token.type === "blockquote_open" && inline?.type === "inline") callout(state, inline);
      if (token.type !== "inline" || !token.children) return;
      const line = token.map?.[0] ?? 0;
      token.children = withoutComments(state, token.children, line, comments);
      for (const child of token.children) {
        if (child.type !== "text") continue;
        child.content = child.content.replace(FOOTNOTE_REF, (_, label: string) => {
          note(state.env, line, `footnote [^${label}] has no definition: shown as [${label}]`);
          return `[${label}]`;
        });
      }
    });
  });
}

function taskMarker(inline: Token): void {
  const first = inline.children?.[0];
  const match = first?.type === "text" ? TASK.exec(first.content) : null;
  if (first && match)
    first.content = `${match[1] === " " ? "☐" : "☑"} ${first.content.slice(match[0].length)}`;
}

/** "[!TIP] Title" at the start of a quote → the title (or the kind, "Tip") in bold, then a line break. */
function callout(state: StateCore, inline: Token): void {
  const children = inline.children ?? [];
  const first = children[0];
  const match = first?.type === "text" ? CALLOUT.exec(first.content) : null;
  if (!first || !match) return;
  const kind = match[1]!;
  const rest = first.content.slice(match[0].length);
  const title = rest.trim() || kind.charAt(0).toUpperCase() + kind.slice(1).toLowerCase();
  const make = (type: string, tag: string, nesting: 1 | 0 | -1, content = ""): Token => {
    const t = new state.Token(type, tag, nesting);
    t.content = content;
    return t;
  };
  // The title is the rest of the marker's line: what follows the line break is the body.
  const breakAt = children.findIndex((c) => c.type === "softbreak" || c.type === "hardbreak");
  const titleTokens = breakAt === -1 ? children.slice(1) : children.slice(1, breakAt);
  const body = breakAt === -1 ? [] : children.slice(breakAt + 1);
  inline.children = [
    make("strong_open", "strong", 1),
    make("text", "", 0, rest.trim() === "" && titleTokens.length === 0 ? title : rest),
    ...titleTokens,
    make("strong_close", "strong", -1),
    ...(body.length > 0 ? [make("hardbreak", "br", 0), ...body] : []),
  ];
}

/** Children with %%…%% removed; `state.open` carries a comment across paragraphs. */
function withoutComments(
  core: StateCore,
  children: Token[],
  line: number,
  state: { open: boolean; line: number; left: number },
): Token[] {
  if (!state.open && !children.some((c) => c.type === "text" && c.content.includes("%%"))) return children;
  const out: Token[] = [];
  for (const child of children) {
    if (child.type !== "text") {
      if (!state.open) out.push(child);
      continue;
    }
    const parts = child.content.split("%%");
    let kept = "";
    parts.forEach((part, i) => {
      if (i > 0) {
        if (state.left <= 0) kept += "%%";
        else {
          state.left--;
          state.open = !state.open;
          if (state.open) state.line = line;
          else note(core.env, state.line, "Obsidian comment (%%…%%) left out");
        }
      }
      if (!state.open) kept += kept.endsWith(" ") ? part.replace(/^ +/, "") : part;
    });
    if (kept !== "") {
      child.content = kept;
      out.push(child);
    }
  }
  return out;
}
