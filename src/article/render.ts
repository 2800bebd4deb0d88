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
// - footnotes become Zhihu references; Zhihu lists them under the article itself, so no footnote section.

import type Token from "markdown-it/lib/token.mjs";
import { markdown } from "./markdown.js";
import { buildTree, type Node, walk } from "./tree.js";
import type { ImageAsset } from "./types.js";

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
export function headingTitle(body: string): { text: string; line: number } | undefined {
  const nodes = buildTree(markdown().parse(body, {}));
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
  const nodes = buildTree(markdown().parse(body, env));
  const drop = titleHeadingIndex(nodes, opts.titleFrom === "front-matter" ? opts.title : undefined);
  const content = nodes.filter((n, i) => i !== drop && n.token.type !== "footnote_block_open");
  const r = new Renderer(opts, content, footnotes(nodes));
  const html = r.root(content);
  return { html, warnings: r.warnings, references: r.references() };
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
      case "footnote_ref":
        out.dropped.add("footnote");
        out.text += numbers ? `[${numbers(t)}]` : "";
        break;
      case "html_inline":
        out.dropped.add("HTML");
        out.text += t.content;
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
  block(html: string): void {
    for (const tag of [...this.open].reverse()) this.current += tag.close;
    this.flush();
    this.pieces.push({ kind: "block", html });
    for (const tag of this.open) this.current += tag.open;
  }
  finish(): Piece[] {
    for (const tag of [...this.open].reverse()) this.current += tag.close;
    this.flush();
    return this.pieces;
  }
  private flush(): void {
    const html = this.current.replace(/^(\s|<br>)+|(\s|<br>)+$/g, "");
    this.current = "";
    const meaningful = html.includes("<img") || html.replace(/<[^>]*>/g, "").trim() !== "";
    if (meaningful) this.pieces.push({ kind: "inline", html });
  }
}

class Renderer {
  readonly warnings: string[] = [];
  private readonly seenWarnings = new Set<string>();
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

  private warn(line: number, message: string): void {
    const text = `${this.opts.file}:${this.opts.bodyLine + line + 1}: ${message}`;
    if (this.seenWarnings.has(text)) return;
    this.seenWarnings.add(text);
    this.warnings.push(text);
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
        case "html_block": {
          const raw = t.content.replace(/\n+$/, "");
          if (/^\s*(<!--[\s\S]*?-->\s*)+$/.test(raw)) {
            this.warn(line, "HTML comment left out: Zhihu would show it as text");
            break;
          }
          this.warn(line, `raw HTML shown as text (Zhihu strips HTML): ${snippet(raw)}`);
          out.push({ kind: "inline", html: escapeHtml(raw).replace(/\n/g, "<br>") });
          break;
        }
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
        case "link_close":
          flow.pop();
          break;
        case "link_open": {
          const href = t.attrGet("href") ?? "";
          if (/^(https?:|mailto:)|^\/\//i.test(href)) {
            flow.push(`<a href="${escapeHtml(href)}">`, "</a>");
          } else {
            this.warn(line, `link to "${href}" is not a web address: shown as plain text`);
            flow.push("", "");
          }
          break;
        }
        case "image":
          flow.block(this.figure(t, line));
          break;
        case "math_inline":
          flow.text(equation(t.content, false));
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
        case "html_inline":
          if (!children.slice(0, i).some((c) => c.type === "html_inline")) {
            this.warn(line, `raw HTML shown as text (Zhihu strips HTML): ${snippet(t.content)}`);
          }
          flow.text(escapeHtml(t.content));
          break;
        default:
          flow.text(escapeHtml(t.content));
      }
    });
    return flow.finish();
  }

  private figure(t: Token, line: number): string {
    const src = t.attrGet("src") ?? "";
    const asset = this.opts.image(src, this.opts.bodyLine + line + 1);
    const caption = escapeHtml(plain(t.children ?? []).text.trim());
    return (
      `<figure><img src="${escapeHtml(this.opts.imageSrc(asset))}" data-caption="${caption}" data-size="normal" ` +
      `data-rawwidth="${asset.width}" data-rawheight="${asset.height}"></figure>`
    );
  }
}

function snippet(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 40 ? `${one.slice(0, 40)}…` : one;
}

/** Zhihu's formula image. Display formulas end in `\\`, Zhihu's own marker for a centred block. */
export function equation(tex: string, display: boolean): string {
  const source = tex.replace(/\s*\n\s*/g, " ").trim() + (display ? "\\\\" : "");
  return `<img eeimg="1" src="${EQUATION_URL}${encodeURIComponent(source)}" alt="${escapeHtml(source)}">`;
}
