// Math for markdown-it in the two notations people write: `$…$` / `$$…$$` by Pandoc's rules (an opening `$`
// has a non-space on its right, a closing one a non-space on its left and no digit after it, so "$5 and $6"
// stays text), and LaTeX's `\(…\)` / `\[…\]`. Display math is a block of lines from `$$` (or `\[`) to `$$`
// (or `\]`) with no blank line in between.
// `\[…\]` inside a line is also how Markdown escapes brackets ("\[1\]"): there it is math only when it
// holds TeX (a backslash, ^, _, braces or =), else it stays the escaped text.
// Written here because the dependency-free plugin (markdown-it-dollarmath) declares markdown-it ≤ 13.

import type MarkdownIt from "markdown-it";
import type StateBlock from "markdown-it/lib/rules_block/state_block.mjs";
import type StateInline from "markdown-it/lib/rules_inline/state_inline.mjs";

const DOLLAR = 0x24;
const BACKSLASH = 0x5c;
const TEX_LIKE = /[\\^_{}=]/;

export function mathPlugin(md: MarkdownIt): void {
  // Before "escape", which would otherwise turn `\(` into a literal parenthesis.
  md.inline.ruler.before("escape", "math_backslash", mathBackslash);
  md.inline.ruler.after("escape", "math_inline", mathInline);
  const alt = { alt: ["paragraph", "reference", "blockquote", "list"] };
  md.block.ruler.before("fence", "math_block", displayBlock("$$", "$$"), alt);
  md.block.ruler.before("fence", "math_block_backslash", displayBlock("\\[", "\\]"), alt);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || Number.isNaN(code);
}

function escaped(src: string, pos: number): boolean {
  let backslashes = 0;
  for (let i = pos - 1; i >= 0 && src.charCodeAt(i) === BACKSLASH; i--) backslashes++;
  return backslashes % 2 === 1;
}

function mathInline(state: StateInline, silent: boolean): boolean {
  const src = state.src;
  const start = state.pos;
  const max = state.posMax;
  if (src.charCodeAt(start) !== DOLLAR) return false;
  const double = src.charCodeAt(start + 1) === DOLLAR;
  const delimiter = double ? "$$" : "$";
  const open = delimiter.length;
  if (start + open >= max) return false;
  if (!double && isSpace(src.charCodeAt(start + open))) return false;

  let close = start + open;
  for (;;) {
    close = src.indexOf(delimiter, close);
    if (close === -1 || close >= max) return false;
    const ok =
      !escaped(src, close) &&
      (double || (!isSpace(src.charCodeAt(close - 1)) && !/[0-9]/.test(src.charAt(close + 1))));
    if (ok) break;
    close++;
  }
  return push(state, silent, src.slice(start + open, close), delimiter, close + open);
}

/** `\(…\)` anywhere; `\[…\]` inside a line when it holds TeX. */
function mathBackslash(state: StateInline, silent: boolean): boolean {
  const src = state.src;
  const start = state.pos;
  if (src.charCodeAt(start) !== BACKSLASH || escaped(src, start)) return false;
  const kind = src.charAt(start + 1);
  if (kind !== "(" && kind !== "[") return false;
  const closer = kind === "(" ? "\\)" : "\\]";
  let close = start + 2;
  for (;;) {
    close = src.indexOf(closer, close);
    if (close === -1 || close >= state.posMax) return false;
    if (!escaped(src, close)) break;
    close++;
  }
  const content = src.slice(start + 2, close);
  if (kind === "[" && !TEX_LIKE.test(content)) return false;
  return push(state, silent, content, `\\${kind}`, close + 2);
}

function push(state: StateInline, silent: boolean, raw: string, markup: string, end: number): boolean {
  const content = raw.trim();
  if (content === "") return false;
  if (!silent) {
    const token = state.push("math_inline", "math", 0);
    token.content = content;
    token.markup = markup;
  }
  state.pos = end;
  return true;
}

function displayBlock(open: string, close: string) {
  return (state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean => {
    if (state.sCount[startLine]! - state.blkIndent >= 4) return false;
    const src = state.src;
    const begin = state.bMarks[startLine]! + state.tShift[startLine]!;
    const first = src.slice(begin, state.eMarks[startLine]!);
    if (!first.startsWith(open)) return false;

    const lines: string[] = [];
    let last = startLine;
    let found = false;
    const rest = first.slice(open.length).trimEnd();
    if (rest.endsWith(close) && !escaped(rest, rest.length - close.length)) {
      lines.push(rest.slice(0, -close.length));
      found = true;
    } else {
      lines.push(rest);
      for (let line = startLine + 1; line < endLine; line++) {
        const from = state.bMarks[line]! + state.tShift[line]!;
        const to = state.eMarks[line]!;
        if (from >= to) break; // a blank line ends the attempt: an unmatched opener must not swallow the document
        if (state.sCount[line]! < state.blkIndent) break;
        const text = src.slice(from, to).trimEnd();
        if (text.endsWith(close)) {
          lines.push(text.slice(0, -close.length));
          last = line;
          found = true;
          break;
        }
        lines.push(text);
      }
    }
    const content = lines.join("\n").trim();
    if (!found || content === "" || content.includes(open)) return false;
    if (silent) return true;
    state.line = last + 1;
    const token = state.push("math_block", "math", 0);
    token.block = true;
    token.content = content;
    token.markup = open;
    token.map = [startLine, state.line];
    return true;
  };
}
