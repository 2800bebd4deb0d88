// Markdown → the HTML subset Zhihu's editor keeps (see shared/zhihu.md, "Article HTML that Zhihu accepts").
// Everything Zhihu would drop or mangle is turned into something plain and predictable here, with a
// warning naming file:line, so what the person previews is what readers get.
//
// Choices:
// - headings by rank: the shallowest level used → h2, the next → h3, deeper → a bold paragraph;
// - math: `<img eeimg="1" src="//www.zhihu.com/equation?tex=…" alt="…">`; display math is its own
//   paragraph and its TeX ends with `\\`, which is how Zhihu's own editor marks a centred formula;
// - images are blocks (`<figure>`): an image inside a paragraph splits the paragraph around it;
// - list items and quotes hold inline content: their paragraphs are joined with `<br>`;
// - an ordered list numbered 1, 2, 3… is an `<ol>`; one that starts elsewhere or skips numbers is written
//   as paragraphs starting "5. ", because Zhihu's editor numbers every list from 1 (it keeps no `start`);
// - footnotes become Zhihu references; Zhihu lists them under the article itself, so no footnote section;
// - a linked image keeps its link as a line under the image (a caption is plain text on Zhihu);
// - captions: the image's title, else its alt text unless that looks generated (captions.ts);
// - ```mermaid and ```dot blocks are the PNG prepare rendered for them, or stay code when that failed.
// Raw HTML was already turned into Markdown tokens while parsing (html.ts).

import type Token from "markdown-it/lib/token.mjs";
import { captionOf } from "./captions.js";
import { type DiagramLang, diagramLang } from "./diagrams.js";
import { markdown, notesOf } from "./markdown.js";
import { buildTree, type Node, walk } from "./tree.js";
import type { ImageAsset } from "./types.js";
import type { WikiLinkMeta, WikiResolver } from "./wikilinks.js";

export interface RenderOptions {
  /** The file as named in messages. */
  file: string;
  /** File lines before the body (front matter). */
  bodyLine: number;
  title: string;
  titleFrom: "front-matter" | "heading";
  /** The asset for an image `src` at a file line. */
  image: (src: string, line: number) => ImageAsset;
  /** The final `src` of an asset in the HTML (a zhimg URL after upload, a data: URL in previews). */
  imageSrc: (asset: ImageAsset) => string;
  /** The PNG of a diagram block (lang "mermaid" or "dot"), or undefined to leave it as code. */
  diagram?: (lang: DiagramLang, source: string, line: number) => ImageAsset | undefined;
  /** Captions under images (default true). */
  captions?: boolean;
  /** `:smile:` shortcodes (default false). */
  emoji?: boolean;
  /** The Zhihu article of a note named by a wiki link (`[[Note]]`); without one, every such link is text. */
  wikiLink?: WikiResolver;
}

export interface Reference {
  numero: number;
  text: string;
  url: string;
}

export interface RenderResult {
  html: string;
  warnings: string[];
  /** Footnotes as Zhihu will list them under the article. */
  references: Reference[];
}

export const EQUATION_URL = "//www.zhihu.com/equation?tex=";

/** The `#` heading that serves as the title: its plain text and 0-based body line. */
export function headingTitle(body: string, emoji = false): { text: string; line: number } | undefined {
  const nodes = buildTree(markdown({ emoji }).parse(body, {}));
  const index = titleHeadingIndex(nodes, undefined);
  const node = index === -1 ? undefined : nodes[index];
  if (node === undefined) return undefined;
  return { text: plain(node.children[0]?.token.children ?? []).text.trim(), line: mapLine(node.token) };
}

/**
 * Index of the top-level heading to leave out of the body: the first `#` heading when it is the title;
 * with a front-matter title, a leading `#` heading that repeats it.
 */
function titleHeadingIndex(nodes: readonly Node[], frontMatterTitle: string | undefined): number {
  if (frontMatterTitle === undefined) {
    return nodes.findIndex((n) => n.token.type === "heading_open" && n.token.tag === "h1");
  }
  const first = nodes.findIndex((n) => n.token.type !== "footnote_block_open");
  const node = nodes[first];
  if (node?.token.type !== "heading_open" || node.token.tag !== "h1") return -1;
  const text = plain(node.children[0]?.token.children ?? []).text.trim();
  return text === frontMatterTitle ? first : -1;
}

function mapLine(token: Token): number {
  return token.map ? token.map[0] : 0;
}

export function renderMarkdown(body: string, opts: RenderOptions): RenderResult {
  const env: Record<string, unknown> = {};
  const nodes = buildTree(markdown({ emoji: opts.emoji ?? false }).parse(body, env));
  const drop = titleHeadingIndex(nodes, opts.titleFrom === "front-matter" ? opts.title : undefined);
  const content = nodes.filter((n, i) => i !== drop && n.token.type !== "footnote_block_open");
  const r = new Renderer(opts, content, footnotes(nodes));
  const html = r.root(content);
  for (const n of notesOf(env)) r.note(n.line, n.message, n.once);
  unreferencedFootnotes(body, env, (line, message) => r.note(line, message));
  return { html, warnings: r.finishWarnings(), references: r.references() };
}

/** Definitions no reference uses: markdown-it-footnote drops them, so their text would vanish silently. */
function unreferencedFootnotes(
  body: string,
  env: Record<string, unknown>,
  warn: (line: number, m: string) => void,
): void {
  const refs = (env.footnotes as { refs?: Record<string, number> } | undefined)?.refs ?? {};
  const lines = body.split("\n");
  for (const [key, id] of Object.entries(refs)) {
    if (id !== -1) continue;
    const label = key.slice(1);
    const line = lines.findIndex((l) => l.trimStart().startsWith(`[^${label}]:`));
    warn(Math.max(line, 0), `footnote [^${label}] is never referenced: its text is left out`);
  }
}

type Piece = { kind: "inline" | "block"; html: string };
type Where = "root" | "item" | "quote";

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const CJK =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;

/** A line break inside a paragraph: nothing between two CJK characters (a space would show), else a space. */
function softBreak(children: readonly Token[], i: number): string {
  const before = children[i - 1]?.content.slice(-1) ?? "";
  const after = children[i + 1]?.content.slice(0, 1) ?? "";
  return CJK.test(before) && CJK.test(after) ? "" : " ";
}

/** What plain-text rendering of inline tokens dropped, so callers can warn once. */
interface Plain {
  text: string;
  dropped: Set<string>;
  url: string;
}

/** Inline tokens as plain text (headings, table cells, alt text, footnote text). Unescaped. */
function plain(children: readonly Token[], numbers?: (t: Token) => number): Plain {
  const out: Plain = { text: "", dropped: new Set(), url: "" };
  children.forEach((t, i) => {
    switch (t.type) {
      case "softbreak":
        out.text += softBreak(children, i);
        break;
      case "hardbreak":
        out.text += " ";
        break;
      case "image": {
        out.dropped.add("image");
        out.text += plain(t.children ?? []).text;
        break;
      }
      case "math_inline":
        out.dropped.add("math");
        out.text += `$${t.content}$`;
        break;
      case "link_open":
        out.dropped.add("link");
        if (out.url === "") out.url = t.attrGet("href") ?? "";
        break;
      case "wikilink":
        if (!(t.meta as WikiLinkMeta).embed) out.dropped.add("link");
        out.text += t.content;
        break;
      case "footnote_ref":
        out.dropped.add("footnote");
        out.text += numbers ? `[${numbers(t)}]` : "";
        break;
      case "strong_open":
      case "em_open":
      case "s_open":
        out.dropped.add("formatting");
        break;
      case "code_inline":
        out.dropped.add("formatting");
        out.text += t.content;
        break;
      default:
        out.text += t.content;
    }
  });
  return out;
}

function footnotes(nodes: readonly Node[]): Map<number, Reference> {
  const refs = new Map<number, Reference>();
  const block = nodes.find((n) => n.token.type === "footnote_block_open");
  for (const fn of block?.children ?? []) {
    if (fn.token.type !== "footnote_open") continue;
    const id = (fn.token.meta as { id: number }).id;
    const texts: string[] = [];
    let url = "";
    for (const node of walk(fn.children)) {
      if (node.token.type !== "inline") continue;
      const p = plain((node.token.children ?? []).filter((t) => t.type !== "footnote_anchor"));
      texts.push(p.text.trim());
      if (url === "" && /^(https?:)?\/\//i.test(p.url)) url = p.url;
    }
    refs.set(id, { numero: id + 1, text: texts.filter((t) => t !== "").join(" "), url });
  }
  return refs;
}

/** Collects inline HTML; an image closes the open inline tags, becomes a block, and the tags reopen after it. */
class Flow {
  private readonly pieces: Piece[] = [];
  private current = "";
  private readonly open: { open: string; close: string }[] = [];

  text(html: string): void {
    this.current += html;
  }
  push(open: string, close: string): void {
    this.current += open;
    this.open.push({ open, close });
  }
  pop(): void {
    const tag = this.open.pop();
    if (tag) this.current += tag.close;
  }
  /** A block (an image) at this point; `after` are whole pieces that follow it (the line under an image). */
  block(html: string, after: Piece[] = []): void {
    for (const tag of [...this.open].reverse()) this.current += tag.close;
    this.flush();
    this.pieces.push({ kind: "block", html }, ...after);
    for (const tag of this.open) this.current += tag.open;
  }
  finish(): Piece[] {
    for (const tag of [...this.open].reverse()) this.current += tag.close;
    this.flush();
    return this.pieces;
  }
  private flush(): void {
    let html = this.current;
    // An image taken out of a link or bold leaves the tags around nothing.
    for (let before = ""; before !== html; ) {
      before = html;
      html = html.replace(/<(a|b|i|code)\b[^>]*><\/\1>/g, "");
    }
    html = html.replace(/^(\s|<br>)+|(\s|<br>)+$/g, "");
    this.current = "";
    const meaningful = html.includes("<img") || html.replace(/<[^>]*>/g, "").trim() !== "";
    if (meaningful) this.pieces.push({ kind: "inline", html });
  }
}

interface Warning {
  /** 1-based file line. */
  line: number;
  message: string;
  once?: string;
}

class Renderer {
  private readonly warnings: Warning[] = [];
  private readonly rank: Map<number, number>;
  private readonly used = new Set<number>();

  constructor(
    private readonly opts: RenderOptions,
    content: readonly Node[],
    private readonly refs: Map<number, Reference>,
  ) {
    const levels = new Set<number>();
    for (const node of walk(content)) {
      if (node.token.type === "heading_open") levels.add(Number(node.token.tag.slice(1)));
    }
    this.rank = new Map([...levels].sort((a, b) => a - b).map((level, i) => [level, i]));
  }

  references(): Reference[] {
    return [...this.used].sort((a, b) => a - b).flatMap((id) => this.refs.get(id) ?? []);
  }

  root(nodes: readonly Node[]): string {
    return this.blocks(nodes, "root", 0)
      .map((p) => (p.kind === "inline" ? `<p>${p.html}</p>` : p.html))
      .join("\n");
  }

  private warn(line: number, message: string, once?: string): void {
    this.warnings.push({ line: this.opts.bodyLine + line + 1, message, ...(once ? { once } : {}) });
  }

  /** A warning found while parsing (0-based body line). */
  note(line: number, message: string, once?: string): void {
    this.warn(line, message, once);
  }

  /** "file:line: message" in line order; the same line twice, or a `once` kind again, is said once. */
  finishWarnings(): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const w of [...this.warnings].sort((a, b) => a.line - b.line)) {
      const text = `${this.opts.file}:${w.line}: ${w.message}`;
      const key = w.once ?? text;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(text);
    }
    return out;
  }

  /** Pieces inside a list item or quote: one inline run, paragraphs separated by line breaks. */
  private contained(nodes: readonly Node[], where: Where, line: number): string {
    let html = "";
    let lastInline = false;
    for (const piece of this.blocks(nodes, where, line)) {
      if (piece.kind === "inline" && lastInline) html += "<br>";
      html += piece.html;
      lastInline = piece.kind === "inline";
    }
    return html;
  }

  private blocks(nodes: readonly Node[], where: Where, parentLine: number): Piece[] {
    const out: Piece[] = [];
    for (const node of nodes) {
      const t = node.token;
      const line = t.map ? t.map[0] : parentLine;
      switch (t.type) {
        case "paragraph_open":
          out.push(...this.inline(node.children[0]?.token.children ?? [], line));
          break;
        case "heading_open":
          out.push(this.heading(node, where, line));
          break;
        case "fence":
        case "code_block": {
          const lang = t.type === "fence" ? t.info.trim().split(/\s+/)[0]!.toLowerCase() : "";
          const diagram = diagramLang(lang);
          const png = diagram && this.opts.diagram?.(diagram, t.content, this.opts.bodyLine + line + 1);
          if (png) {
            out.push({ kind: "block", html: this.figureHtml(png, "") });
            break;
          }
          const safe = lang.replace(/[^a-z0-9_+#.-]/g, "") || "text";
          out.push({
            kind: "block",
            html: `<pre lang="${safe}">${escapeHtml(t.content.replace(/\n$/, ""))}</pre>`,
          });
          break;
        }
        case "math_block":
          out.push({ kind: "inline", html: equation(t.content, true) });
          break;
        case "bullet_list_open":
        case "ordered_list_open": {
          const numbers = t.type === "ordered_list_open" ? listNumbers(node) : null;
          if (numbers !== null) {
            out.push(...this.numberedItems(node, numbers, where, line));
            break;
          }
          const tag = t.type === "bullet_list_open" ? "ul" : "ol";
          const items = node.children
            .map((item) => `<li>${this.contained(item.children, "item", item.token.map?.[0] ?? line)}</li>`)
            .join("");
          out.push({ kind: "block", html: `<${tag}>${items}</${tag}>` });
          break;
        }
        case "blockquote_open":
          out.push({
            kind: "block",
            html: `<blockquote>${this.contained(node.children, "quote", line)}</blockquote>`,
          });
          break;
        case "hr":
          out.push({ kind: "block", html: "<hr>" });
          break;
        case "table_open":
          out.push({ kind: "block", html: this.table(node, line) });
          break;
        case "inline":
          out.push(...this.inline(t.children ?? [], line));
          break;
        default:
          if (node.children.length > 0) out.push(...this.blocks(node.children, where, line));
          else if (t.content.trim() !== "") out.push({ kind: "inline", html: escapeHtml(t.content) });
      }
    }
    return out;
  }

  /**
   * List items as paragraphs that start with their own number ("5. …"): an item's text is one paragraph
   * (its paragraphs joined by line breaks, as in any list item), its blocks follow it.
   */
  private numberedItems(node: Node, numbers: number[], where: Where, line: number): Piece[] {
    const out: Piece[] = [];
    node.children.forEach((item, i) => {
      const pieces: Piece[] = [{ kind: "inline", html: `${numbers[i]}.` }];
      for (const piece of this.blocks(
        item.children,
        where === "root" ? "item" : where,
        item.token.map?.[0] ?? line,
      )) {
        const last = pieces[pieces.length - 1]!;
        if (piece.kind === "inline" && last.kind === "inline") {
          last.html +=
            pieces.length === 1 && last.html === `${numbers[i]}.` ? ` ${piece.html}` : `<br>${piece.html}`;
        } else pieces.push(piece);
      }
      out.push(...pieces);
    });
    return out;
  }

  private heading(node: Node, where: Where, line: number): Piece {
    const level = Number(node.token.tag.slice(1));
    const text = escapeHtml(this.plainText(node.children[0]?.token.children ?? [], line, "heading"));
    const rank = this.rank.get(level) ?? 2;
    if (where === "root" && rank < 2) {
      const tag = rank === 0 ? "h2" : "h3";
      return { kind: "block", html: `<${tag}>${text}</${tag}>` };
    }
    if (where === "root") {
      this.warn(
        line,
        `heading level ${level} rendered as a bold paragraph (Zhihu has two heading levels; ` +
          `this article's are ${[...this.rank.keys()].map((l) => "#".repeat(l)).join(", ")})`,
      );
    } else {
      this.warn(line, "heading inside a list or quote rendered as bold text");
    }
    return { kind: "inline", html: `<b>${text}</b>` };
  }

  /** Plain text with one warning for whatever markup was dropped. */
  private plainText(children: readonly Token[], line: number, what: string): string {
    const p = plain(children, (t) => this.numero(t));
    const lost = [...p.dropped].filter((d) => d !== "formatting");
    if (lost.length > 0)
      this.warn(line, `${lost.join(", ")} in a ${what} shown as plain text (Zhihu keeps text only)`);
    return p.text.trim();
  }

  private table(node: Node, line: number): string {
    const rows: string[] = [];
    const dropped = new Set<string>();
    let firstLine = -1;
    for (const section of node.children) {
      for (const tr of section.children) {
        const rowLine = tr.token.map?.[0] ?? line;
        const cells = tr.children.map((cell) => {
          const tag = cell.token.type === "th_open" ? "th" : "td";
          if (/text-align/.test(cell.token.attrGet("style") ?? "")) {
            this.warn(rowLine, "table column alignment dropped: Zhihu tables have none", "table-align");
          }
          const p = plain(cell.children[0]?.token.children ?? [], (t) => this.numero(t));
          if (p.dropped.size > 0 && firstLine === -1) firstLine = rowLine;
          for (const d of p.dropped) dropped.add(d);
          return `<${tag}>${escapeHtml(p.text.trim())}</${tag}>`;
        });
        rows.push(`<tr>${cells.join("")}</tr>`);
      }
    }
    if (firstLine !== -1) {
      this.warn(
        firstLine,
        `table cell ${[...dropped].join(", ")} shown as plain text (Zhihu tables hold plain text)`,
      );
    }
    return `<table data-draft-node="block" data-draft-type="table" data-size="normal"><tbody>${rows.join("")}</tbody></table>`;
  }

  private numero(t: Token): number {
    const id = (t.meta as { id: number }).id;
    this.used.add(id);
    return id + 1;
  }

  private inline(children: readonly Token[], line: number): Piece[] {
    const flow = new Flow();
    // Addresses of the links open here ("" for one shown as text or one with text of its own): an image
    // that is a link's only content keeps that link as a line under it.
    const links: string[] = [];
    children.forEach((t, i) => {
      switch (t.type) {
        case "text":
        case "text_special":
          flow.text(escapeHtml(t.content));
          break;
        case "softbreak":
          flow.text(softBreak(children, i));
          break;
        case "hardbreak":
          flow.text("<br>");
          break;
        case "code_inline":
          flow.text(`<code>${escapeHtml(t.content)}</code>`);
          break;
        case "strong_open":
          flow.push("<b>", "</b>");
          break;
        case "em_open":
          flow.push("<i>", "</i>");
          break;
        case "s_open":
          this.warn(line, "strikethrough is not supported by Zhihu: shown as plain text");
          flow.push("", "");
          break;
        case "strong_close":
        case "em_close":
        case "s_close":
          flow.pop();
          break;
        case "link_close":
          links.pop();
          flow.pop();
          break;
        case "link_open": {
          const href = t.attrGet("href") ?? "";
          if (/^(https?:|mailto:)|^\/\//i.test(href)) {
            links.push(onlyImages(children, i) ? href : "");
            flow.push(`<a href="${escapeHtml(href)}">`, "</a>");
          } else {
            links.push("");
            this.warn(line, `link to "${href}" is not a web address: shown as plain text`);
            flow.push("", "");
          }
          break;
        }
        case "image": {
          const href = links.findLast((l) => l !== "");
          const link: Piece[] = href
            ? [{ kind: "inline", html: `<a href="${escapeHtml(href)}">${escapeHtml(href)}</a>` }]
            : [];
          flow.block(this.figure(t, line), link);
          break;
        }
        case "math_inline":
          flow.text(equation(t.content, false));
          break;
        case "wikilink":
          flow.text(this.wikiLink(t, line));
          break;
        case "footnote_ref": {
          const n = this.numero(t);
          const ref = this.refs.get(n - 1) ?? { numero: n, text: "", url: "" };
          flow.text(
            `<sup data-text="${escapeHtml(ref.text)}" data-url="${escapeHtml(ref.url)}" data-draft-node="inline" ` +
              `data-draft-type="reference" data-numero="${n}">[${n}]</sup>`,
          );
          break;
        }
        default:
          flow.text(escapeHtml(t.content));
      }
    });
    return flow.finish();
  }

  /** A link to the note's Zhihu article, or its text when there is none (with the reason as a warning). */
  private wikiLink(t: Token, line: number): string {
    const meta = t.meta as WikiLinkMeta;
    const text = escapeHtml(t.content);
    if (meta.embed) {
      this.warn(line, `Obsidian embed ${meta.raw} is not supported on Zhihu: shown as written`);
      return text;
    }
    if (meta.note === "") {
      this.warn(line, `wiki link ${meta.raw} points into this article; Zhihu has no anchors: shown as text`);
      return text;
    }
    const target = this.opts.wikiLink?.(meta.note) ?? {
      reason: "is not resolved here (topn sync and topn publish link notes to their Zhihu articles)",
    };
    if ("url" in target) return `<a href="${escapeHtml(target.url)}">${text}</a>`;
    this.warn(line, `wiki link ${meta.raw} ${target.reason}: shown as plain text`);
    return text;
  }

  private figure(t: Token, line: number): string {
    const src = t.attrGet("src") ?? "";
    const asset = this.opts.image(src, this.opts.bodyLine + line + 1);
    const caption =
      this.opts.captions === false
        ? ""
        : captionOf({ alt: plain(t.children ?? []).text.trim(), title: t.attrGet("title") ?? "", src });
    return this.figureHtml(asset, caption);
  }

  private figureHtml(asset: ImageAsset, caption: string): string {
    // An image known only by its address has no known size: Zhihu measures it itself.
    const size = asset.width > 0 ? ` data-rawwidth="${asset.width}" data-rawheight="${asset.height}"` : "";
    return (
      `<figure><img src="${escapeHtml(this.opts.imageSrc(asset))}" data-caption="${escapeHtml(caption)}" ` +
      `data-size="normal"${size}></figure>`
    );
  }
}

/** Whether the link opened at `open` holds images and nothing else but spaces. */
function onlyImages(children: readonly Token[], open: number): boolean {
  let images = 0;
  for (let i = open + 1; i < children.length; i++) {
    const t = children[i]!;
    if (t.type === "link_close") return images > 0;
    if (t.type === "image") images++;
    else if (!(t.type === "text" && t.content.trim() === "") && t.type !== "softbreak") return false;
  }
  return false;
}

/**
 * The numbers of an ordered list's items when `<ol>` cannot show them (it starts elsewhere than 1, or skips
 * numbers); null when 1, 2, 3… (or "1. 1. 1.", which Markdown numbers 1, 2, 3) is right.
 */
function listNumbers(node: Node): number[] | null {
  const written = node.children.map((item) => Number.parseInt(item.token.info, 10));
  const start = Number.parseInt(node.token.attrGet("start") ?? "1", 10);
  const sequential = written.map((_, i) => start + i);
  const lazy = written.every((n) => n === written[0]);
  if (start === 1 && (lazy || written.every((n, i) => n === sequential[i]))) return null;
  if (lazy || written.some(Number.isNaN)) return sequential;
  return written.every((n, i) => i === 0 || n > written[i - 1]!) ? written : sequential;
}

/** Zhihu's formula image. Display formulas end in `\\`, Zhihu's own marker for a centred block. */
export function equation(tex: string, display: boolean): string {
  const source = tex.replace(/\s*\n\s*/g, " ").trim() + (display ? "\\\\" : "");
  return `<img eeimg="1" src="${EQUATION_URL}${encodeURIComponent(source)}" alt="${escapeHtml(source)}">`;
}
