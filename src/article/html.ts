// Raw HTML inside Markdown → the tokens the renderer already handles, so it gets Zhihu's nearest equivalent
// instead of being published as visible tags: <b>/<strong> bold, <i>/<em> italic, <a> a link, <img> an image
// (uploaded like Markdown images), <br> a line break, <kbd>/<code> code, <sup>/<sub> Unicode super- and
// subscripts, <u>/<mark> bold, <details> its summary in bold then its body, HTML lists, tables, headings,
// quotes and <pre> their Markdown counterparts. Anything else keeps its text and loses its tags with a
// warning; comments, scripts and styles are left out. Nothing of the HTML reaches Zhihu as text.
//
// Two shapes reach this code: an HTML block (a whole fragment, parsed with htmlparser2 into a tree) and
// inline HTML (markdown-it gives each tag of a paragraph as its own token, between Markdown tokens).

import type { ChildNode, Element } from "domhandler";
import { isComment, isTag, isText } from "domhandler";
import { DomUtils, Parser, parseDocument } from "htmlparser2";
import type MarkdownIt from "markdown-it";
import type StateCore from "markdown-it/lib/rules_core/state_core.mjs";
import type Token from "markdown-it/lib/token.mjs";
import { note } from "./markdown.js";

type Nesting = 1 | 0 | -1;

export function htmlPlugin(md: MarkdownIt): void {
  md.core.ruler.push("topn_html", (state: StateCore) => {
    const out: Token[] = [];
    for (const token of state.tokens) {
      if (token.type === "html_block") {
        const line = token.map?.[0] ?? 0;
        const converter = new BlockConverter({ state, line, source: token.content });
        converter.blocks(parseDocument(token.content, { withStartIndices: true }).children);
        out.push(...converter.finish());
        continue;
      }
      if (token.type === "inline" && token.children?.some((c) => c.type === "html_inline")) {
        token.children = convertInline(token.children, { state, line: token.map?.[0] ?? 0, source: "" });
      }
      out.push(token);
    }
    state.tokens = out;
  });
}

interface Ctx {
  state: StateCore;
  /** 0-based body line where the HTML starts. */
  line: number;
  /** The HTML block's text (positions in it give lines); "" for inline HTML. */
  source: string;
}

/** What an HTML element becomes in running text. */
type Plan =
  /** Tokens around its content. */
  | { kind: "wrap"; open: () => Token; close: () => Token }
  /** Its text as one token (code, super/subscript). */
  | { kind: "text"; make: (text: string) => Token[] }
  /** Replaced by these tokens, content dropped. */
  | { kind: "replace"; tokens: Token[] }
  /** Its content without the tags. */
  | { kind: "through" };

const VOID = words("br img input hr wbr area base col embed link meta param source track");
const BLOCKS = words(
  "p div center section article header footer main aside nav address hgroup body html fieldset legend form figcaption caption dd li ul ol menu dl dt details summary figure blockquote pre table thead tbody tfoot tr td th h1 h2 h3 h4 h5 h6",
);
/** Inline tags whose text is all that matters. */
const PLAIN = words("span abbr acronym bdi bdo data time label nobr ruby a");
const STYLING = words("font small big center");
const STYLING_ATTRS = [...words("style align color bgcolor face size valign border width height")];
const LEFT_OUT = words("script style template noscript head title meta link base");
const EMBEDS = words("iframe video audio embed object");
const PICTURES = words("svg canvas math map");
const CONTROLS = words("input button select textarea option datalist output progress meter");

/** Characters with a Unicode superscript (subscript) form, and those forms, position for position. */
const SUPERSCRIPT = table("0123456789+-−=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱ");
const SUBSCRIPT = table("0123456789+-−=()", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎");

function words(list: string): Set<string> {
  return new Set(list.split(" "));
}

function table(from: string, to: string): Map<string, string> {
  const target = [...to];
  return new Map([...from].map((c, i) => [c, target[i]!]));
}

function token(ctx: Ctx, type: string, tag: string, nesting: Nesting): Token {
  return new ctx.state.Token(type, tag, nesting);
}

function text(ctx: Ctx, content: string): Token {
  const t = token(ctx, "text", "", 0);
  t.content = content;
  return t;
}

function warn(ctx: Ctx, line: number, message: string, once?: string): void {
  note(ctx.state.env, line, message, once);
}

function checkStyling(ctx: Ctx, line: number, name: string, attribs: Record<string, string>): void {
  const dropped = STYLING_ATTRS.filter((a) => attribs[a] !== undefined && (name !== "img" || !isSize(a)));
  if (STYLING.has(name)) dropped.unshift(`<${name}>`);
  if (dropped.length > 0) {
    warn(
      ctx,
      line,
      `HTML styling (${dropped.join(", ")}) dropped: Zhihu keeps no colours, sizes or alignment`,
      "html-styling",
    );
  }
}

const isSize = (attr: string): boolean => attr === "width" || attr === "height" || attr === "style";

/** What the element `name` becomes in running text; warns about what it loses. */
function plan(ctx: Ctx, line: number, name: string, attribs: Record<string, string>): Plan {
  checkStyling(ctx, line, name, attribs);
  const wrap = (type: string, tag: string): Plan => ({
    kind: "wrap",
    open: () => token(ctx, `${type}_open`, tag, 1),
    close: () => token(ctx, `${type}_close`, tag, -1),
  });
  switch (name) {
    case "b":
    case "strong":
      return wrap("strong", "strong");
    case "i":
    case "em":
    case "cite":
    case "dfn":
    case "var":
      return wrap("em", "em");
    case "u":
    case "ins":
      warn(ctx, line, `<${name}> shown as bold: Zhihu has no underline`, `html-${name}`);
      return wrap("strong", "strong");
    case "mark":
      warn(ctx, line, "<mark> shown as bold: Zhihu has no highlight", "html-mark");
      return wrap("strong", "strong");
    case "del":
    case "s":
    case "strike":
      // The renderer says what happens to strikethrough.
      return wrap("s", "s");
    case "code":
    case "kbd":
    case "samp":
    case "tt":
      return {
        kind: "text",
        make: (content) => {
          const t = token(ctx, "code_inline", "code", 0);
          t.content = content;
          return [t];
        },
      };
    case "sup":
    case "sub":
      return { kind: "text", make: (content) => [text(ctx, script(ctx, line, name, content))] };
    case "q":
      return { kind: "wrap", open: () => text(ctx, "“"), close: () => text(ctx, "”") };
    case "rt":
      return { kind: "wrap", open: () => text(ctx, "("), close: () => text(ctx, ")") };
    case "rp":
      return { kind: "replace", tokens: [] };
    case "br":
      return { kind: "replace", tokens: [token(ctx, "hardbreak", "br", 0)] };
    case "img":
      return { kind: "replace", tokens: image(ctx, line, attribs) };
    case "input":
      if (attribs.type?.toLowerCase() === "checkbox") {
        return { kind: "replace", tokens: [text(ctx, attribs.checked !== undefined ? "☑ " : "☐ ")] };
      }
      break;
  }
  if (name === "a" && attribs.href !== undefined) {
    const href = ctx.state.md.normalizeLink(attribs.href.trim());
    if (ctx.state.md.validateLink(href)) {
      return {
        kind: "wrap",
        open: () => {
          const t = token(ctx, "link_open", "a", 1);
          t.attrs = [["href", href]];
          return t;
        },
        close: () => token(ctx, "link_close", "a", -1),
      };
    }
  }
  if (PLAIN.has(name) || STYLING.has(name) || BLOCKS.has(name)) return { kind: "through" };
  if (LEFT_OUT.has(name)) {
    warn(ctx, line, `<${name}> left out: Zhihu takes no scripts, styles or page metadata`, `html-${name}`);
    return { kind: "replace", tokens: [] };
  }
  if (EMBEDS.has(name)) {
    const src = attribs.src ?? attribs.data ?? "";
    const href = ctx.state.md.normalizeLink(src.trim());
    if (src.trim() === "" || !/^(https?:)?\/\//i.test(href)) {
      warn(ctx, line, `embedded <${name}> left out: Zhihu embeds no pages or players`);
      return { kind: "replace", tokens: [] };
    }
    warn(ctx, line, `embedded <${name}> shown as a link to ${src.trim()}: Zhihu embeds no pages or players`);
    const open = token(ctx, "link_open", "a", 1);
    open.attrs = [["href", href]];
    return { kind: "replace", tokens: [open, text(ctx, src.trim()), token(ctx, "link_close", "a", -1)] };
  }
  if (PICTURES.has(name)) {
    warn(
      ctx,
      line,
      `inline <${name}> left out: Zhihu shows no drawn HTML (save it as a PNG and link the image)`,
    );
    return { kind: "replace", tokens: [] };
  }
  if (CONTROLS.has(name)) {
    warn(ctx, line, `form control <${name}> left out: an article has no forms`, `html-${name}`);
    return VOID.has(name) ? { kind: "replace", tokens: [] } : { kind: "through" };
  }
  warn(ctx, line, `unknown HTML tag <${name}>: its text is kept, the tag is not`, `html-unknown-${name}`);
  return { kind: "through" };
}

/** Super- or subscript in Unicode when every character has one; else the plain text, with a warning. */
function script(ctx: Ctx, line: number, name: string, content: string): string {
  const forms = name === "sup" ? SUPERSCRIPT : SUBSCRIPT;
  const chars = [...content.trim()];
  if (chars.length > 0 && chars.every((c) => forms.has(c))) return chars.map((c) => forms.get(c)).join("");
  warn(
    ctx,
    line,
    `<${name}>${content}</${name}> shown as plain text: Zhihu has no ${name === "sup" ? "superscript" : "subscript"} (write math as $x^{2}$)`,
  );
  return content;
}

/** An HTML <img> as a Markdown image token: src, alt and title; its size attributes are dropped. */
function image(ctx: Ctx, line: number, attribs: Record<string, string>): Token[] {
  const raw = (attribs.src ?? "").trim();
  const src = ctx.state.md.normalizeLink(raw);
  if (raw === "" || !ctx.state.md.validateLink(src)) {
    warn(ctx, line, `<img> without a usable src left out${raw ? `: ${raw.slice(0, 60)}` : ""}`);
    return [];
  }
  const sized = ["width", "height", "style"].filter((a) => attribs[a] !== undefined);
  if (sized.length > 0) {
    warn(
      ctx,
      line,
      `image size (${sized.join(", ")}) dropped: Zhihu shows images at their own size`,
      "html-img-size",
    );
  }
  const t = token(ctx, "image", "img", 0);
  const alt = (attribs.alt ?? "").trim();
  t.attrs = [
    ["src", src],
    ["alt", ""],
  ];
  if (attribs.title?.trim()) t.attrs.push(["title", attribs.title.trim()]);
  t.children = alt === "" ? [] : [text(ctx, alt)];
  t.content = alt;
  return [t];
}

// ——— inline HTML: one token per tag, between Markdown tokens ———

interface Open {
  name: string;
  plan: Plan;
  /** Index in the output where the element's content starts. */
  start: number;
}

const CLOSING = /^<\/([A-Za-z][A-Za-z0-9-]*)\s*>$/;

function convertInline(children: readonly Token[], ctx: Ctx): Token[] {
  const out: Token[] = [];
  const stack: Open[] = [];
  const finish = (open: Open): void => {
    const p = open.plan;
    if (p.kind === "wrap") out.push(p.close());
    else if (p.kind === "replace") out.splice(open.start);
    else if (p.kind === "text") {
      const inner = out.slice(open.start);
      // Only plain text can become one code span or a superscript; anything richer keeps its own tokens.
      if (inner.every((t) => t.type === "text" || t.type === "softbreak" || t.type === "code_inline")) {
        out.splice(
          open.start,
          inner.length,
          ...p.make(inner.map((t) => (t.type === "softbreak" ? " " : t.content)).join("")),
        );
      }
    }
  };
  for (const t of children) {
    if (t.type !== "html_inline") {
      out.push(t);
      continue;
    }
    const closing = CLOSING.exec(t.content);
    if (closing) {
      const name = closing[1]!.toLowerCase();
      const at = stack.map((o) => o.name).lastIndexOf(name);
      // A closing tag closes what was opened after its element, as in HTML; a stray one is dropped.
      if (at !== -1) for (const open of stack.splice(at).reverse()) finish(open);
      continue;
    }
    new Parser(
      {
        oncomment: () => warn(ctx, ctx.line, "HTML comment left out: Zhihu would show it as text"),
        onopentag: (name, attribs, implied) => {
          if (implied) return;
          // Inside an element that is left out (an inline <svg>), its parts need no plan of their own.
          const p: Plan = stack.some((o) => o.plan.kind === "replace")
            ? { kind: "through" }
            : plan(ctx, ctx.line, name, attribs);
          if (p.kind === "wrap") out.push(p.open());
          if (p.kind === "replace") out.push(...p.tokens);
          if (!VOID.has(name)) stack.push({ name, plan: p, start: out.length });
        },
      },
      { decodeEntities: true },
    ).end(t.content);
  }
  for (const open of stack.reverse()) finish(open);
  return joinSpaces(out);
}

/** Where a left-out tag or comment stood between two spaces, one space is enough. */
export function joinSpaces(tokens: Token[]): Token[] {
  tokens.forEach((t, i) => {
    const next = tokens[i + 1];
    if (t.type === "text" && next?.type === "text" && t.content.endsWith(" ")) {
      next.content = next.content.replace(/^ +/, "");
    }
  });
  return tokens.filter((t) => t.type !== "text" || t.content !== "");
}

// ——— HTML blocks: a fragment parsed into a tree ———

class BlockConverter {
  private readonly out: Token[] = [];
  private pending: Token[] = [];
  private pendingLine = -1;

  constructor(private readonly ctx: Ctx) {}

  finish(): Token[] {
    this.flush();
    return this.out;
  }

  private lineOf(node: ChildNode): number {
    const at = node.startIndex ?? 0;
    let line = this.ctx.line;
    for (let i = 0; i < at && i < this.ctx.source.length; i++)
      if (this.ctx.source.charCodeAt(i) === 10) line++;
    return line;
  }

  private block(type: string, tag: string, nesting: Nesting, line: number): Token {
    const t = token(this.ctx, type, tag, nesting);
    t.block = true;
    t.map = [line, line + 1];
    this.out.push(t);
    return t;
  }

  private inlineToken(children: Token[], line: number): void {
    const t = this.block("inline", "", 0, line);
    t.children = children;
    t.content = children.map((c) => c.content).join("");
  }

  /** Running text collected so far becomes a paragraph. */
  private flush(): void {
    const children = this.pending;
    this.pending = [];
    const meaningful = children.some((c) =>
      c.type === "text" ? c.content.trim() !== "" : c.type !== "hardbreak",
    );
    if (!meaningful) return;
    const line = this.pendingLine;
    this.block("paragraph_open", "p", 1, line);
    this.inlineToken(children, line);
    this.block("paragraph_close", "p", -1, line);
  }

  private running(node: ChildNode): void {
    const tokens = inline(node, this.ctx, this.lineOf(node));
    if (tokens.length === 0) return;
    if (this.pending.length === 0) this.pendingLine = this.lineOf(node);
    this.pending.push(...tokens);
  }

  blocks(nodes: readonly ChildNode[]): void {
    for (const node of nodes) this.node(node);
  }

  private nested(nodes: readonly ChildNode[]): Token[] {
    const inner = new BlockConverter(this.ctx);
    inner.blocks(nodes);
    return inner.finish();
  }

  private node(node: ChildNode): void {
    if (isComment(node)) {
      warn(this.ctx, this.lineOf(node), "HTML comment left out: Zhihu would show it as text");
      return;
    }
    if (!isTag(node)) {
      if (isText(node)) this.running(node);
      return;
    }
    const line = this.lineOf(node);
    const name = node.name;
    if (!BLOCKS.has(name) && name !== "hr") {
      this.running(node);
      return;
    }
    this.flush();
    checkStyling(this.ctx, line, name, node.attribs);
    switch (name) {
      case "h1":
      case "h2":
      case "h3":
      case "h4":
      case "h5":
      case "h6":
        this.block("heading_open", name, 1, line);
        this.inlineToken(inlineChildren(node, this.ctx, line), line);
        this.block("heading_close", name, -1, line);
        return;
      case "hr":
        this.block("hr", "hr", 0, line);
        return;
      case "pre": {
        const fence = this.block("fence", "code", 0, line);
        const code = node.children.find((c): c is Element => isTag(c) && c.name === "code");
        const classes = `${node.attribs.class ?? ""} ${code?.attribs.class ?? ""}`;
        fence.info = /(?:^|\s)(?:language|lang)-([\w+#.-]+)/.exec(classes)?.[1] ?? "";
        fence.content = DomUtils.textContent(node).replace(/^\n/, "");
        fence.markup = "```";
        return;
      }
      case "blockquote":
        this.block("blockquote_open", "blockquote", 1, line);
        this.out.push(...this.nested(node.children));
        this.block("blockquote_close", "blockquote", -1, line);
        return;
      case "ul":
      case "ol":
      case "menu":
        this.list(node, line);
        return;
      case "table":
        this.table(node, line);
        return;
      case "details": {
        warn(
          this.ctx,
          line,
          "<details> shown open (its summary in bold, then its body): Zhihu cannot fold text",
          "html-details",
        );
        const summary = node.children.find((c): c is Element => isTag(c) && c.name === "summary");
        if (summary) this.summary(summary);
        this.blocks(node.children.filter((c) => c !== summary));
        this.flush();
        return;
      }
      case "summary":
      case "dt":
        this.summary(node);
        return;
      case "figure": {
        const caption = node.children.find((c): c is Element => isTag(c) && c.name === "figcaption");
        const img = DomUtils.findOne((e) => e.name === "img", node.children);
        if (caption && img && !img.attribs.title) img.attribs.title = DomUtils.textContent(caption).trim();
        this.blocks(img && caption ? node.children.filter((c) => c !== caption) : node.children);
        this.flush();
        return;
      }
      default:
        // Containers (p, div, section…): their content, in paragraphs.
        this.blocks(node.children);
        this.flush();
    }
  }

  private summary(node: Element): void {
    this.flush();
    const line = this.lineOf(node);
    this.pendingLine = line;
    this.pending = [
      token(this.ctx, "strong_open", "strong", 1),
      ...inlineChildren(node, this.ctx, line),
      token(this.ctx, "strong_close", "strong", -1),
    ];
    this.flush();
  }

  private list(node: Element, line: number): void {
    const ordered = node.name === "ol";
    const type = ordered ? "ordered_list" : "bullet_list";
    const open = this.block(`${type}_open`, ordered ? "ol" : "ul", 1, line);
    let number = Number.parseInt(node.attribs.start ?? "1", 10);
    if (!Number.isFinite(number)) number = 1;
    if (ordered && number !== 1) open.attrSet("start", String(number));
    for (const item of node.children) {
      if (!isTag(item) && !(isText(item) && item.data.trim() !== "")) continue;
      const itemLine = this.lineOf(item);
      const value =
        isTag(item) && item.name === "li" ? Number.parseInt(item.attribs.value ?? "", 10) : Number.NaN;
      if (Number.isFinite(value)) number = value;
      const li = this.block("list_item_open", "li", 1, itemLine);
      if (ordered) {
        li.info = String(number++);
        li.markup = ".";
      }
      this.out.push(...this.nested(isTag(item) && item.name === "li" ? item.children : [item]));
      this.block("list_item_close", "li", -1, itemLine);
    }
    this.block(`${type}_close`, ordered ? "ol" : "ul", -1, line);
  }

  private table(node: Element, line: number): void {
    const rows = DomUtils.findAll((e) => e.name === "tr", node.children);
    if (rows.length === 0) return;
    this.block("table_open", "table", 1, line);
    this.block("tbody_open", "tbody", 1, line);
    for (const row of rows) {
      const rowLine = this.lineOf(row);
      this.block("tr_open", "tr", 1, rowLine);
      for (const cell of row.children) {
        if (!isTag(cell) || (cell.name !== "td" && cell.name !== "th")) continue;
        if (cell.attribs.align !== undefined || /text-align/.test(cell.attribs.style ?? "")) {
          warn(this.ctx, rowLine, "table column alignment dropped: Zhihu tables have none", "table-align");
        }
        if (cell.attribs.colspan !== undefined || cell.attribs.rowspan !== undefined) {
          warn(
            this.ctx,
            rowLine,
            "table cell spans (colspan, rowspan) dropped: Zhihu tables are plain grids",
            "html-span",
          );
        }
        this.block(`${cell.name}_open`, cell.name, 1, rowLine);
        this.inlineToken(inlineChildren(cell, this.ctx, rowLine), rowLine);
        this.block(`${cell.name}_close`, cell.name, -1, rowLine);
      }
      this.block("tr_close", "tr", -1, rowLine);
    }
    this.block("tbody_close", "tbody", -1, line);
    this.block("table_close", "table", -1, line);
  }
}

function inlineChildren(node: Element, ctx: Ctx, line: number): Token[] {
  return node.children.flatMap((c) => inline(c, ctx, line));
}

/** A node of an HTML block as running text. */
function inline(node: ChildNode, ctx: Ctx, line: number): Token[] {
  if (isText(node)) {
    const content = node.data.replace(/[ \t\n\r\f]+/g, " ");
    return content === "" ? [] : [text(ctx, content)];
  }
  if (isComment(node)) {
    warn(ctx, line, "HTML comment left out: Zhihu would show it as text");
    return [];
  }
  if (!isTag(node)) return [];
  const p = plan(ctx, line, node.name, node.attribs);
  switch (p.kind) {
    case "wrap":
      return [p.open(), ...inlineChildren(node, ctx, line), p.close()];
    case "text":
      return p.make(DomUtils.textContent(node).replace(/\s+/g, " "));
    case "replace":
      return p.tokens;
    case "through":
      return inlineChildren(node, ctx, line);
  }
}
