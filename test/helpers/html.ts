// Walks article HTML as a browser would read it, for what must never reach Zhihu: a tag shown as text
// ("&lt;span&gt;" decoded to "<span>" outside code), an HTML comment, or text from a comment in the source.

import { type ChildNode, isComment, isTag, isText } from "domhandler";
import { parseDocument } from "htmlparser2";

const TAG_AS_TEXT = /<\/?[a-z][a-z0-9-]*(\s[^<>]*)?\/?>|<!--/i;

/** Problems found, one line each; empty when the HTML is clean. */
export function rawHtmlProblems(html: string, secrets: readonly string[] = []): string[] {
  const problems: string[] = [];
  const walk = (nodes: readonly ChildNode[], inCode: boolean): void => {
    for (const node of nodes) {
      if (isComment(node)) problems.push(`an HTML comment: <!--${node.data}-->`);
      else if (isText(node)) {
        if (!inCode && TAG_AS_TEXT.test(node.data))
          problems.push(`a tag shown as text: ${node.data.trim().slice(0, 80)}`);
      } else if (isTag(node)) walk(node.children, inCode || node.name === "pre" || node.name === "code");
    }
  };
  walk(parseDocument(html).children, false);
  const flat = html.replace(/\s+/g, " ");
  for (const secret of secrets)
    if (flat.includes(secret)) problems.push(`comment text reached the HTML: ${secret}`);
  return problems;
}

/** The visible text of the HTML (tags removed, entities decoded), for "nothing was lost" checks. */
export function visibleText(html: string): string {
  const out: string[] = [];
  const walk = (nodes: readonly ChildNode[]): void => {
    for (const node of nodes) {
      if (isText(node)) out.push(node.data);
      else if (isTag(node)) {
        for (const attr of ["data-caption", "alt", "href"])
          if (node.attribs[attr]) out.push(` ${node.attribs[attr]} `);
        walk(node.children);
      }
    }
  };
  walk(parseDocument(html).children);
  return out.join("");
}

/** Every `src` of an `<img>`. */
export function imageSources(html: string): string[] {
  const out: string[] = [];
  const walk = (nodes: readonly ChildNode[]): void => {
    for (const node of nodes) {
      if (!isTag(node)) continue;
      if (node.name === "img" && node.attribs.src !== undefined) out.push(node.attribs.src);
      walk(node.children);
    }
  };
  walk(parseDocument(html).children);
  return out;
}
