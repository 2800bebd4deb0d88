// Markdown → Zhihu HTML: golden files for every construct, the whole CommonMark spec, heading ranks.
// Regenerate goldens after an intended change: UPDATE_GOLDEN=1 node --test --import tsx test/article.test.ts

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { prepareArticle, renderArticle, zhimgUrl } from "../src/article/index.js";
import { renderMarkdown } from "../src/article/render.js";
import type { ImageAsset } from "../src/article/types.js";
import { refusingFetch, standInDiagrams } from "./fixtures/article/stand-ins.js";
import { escapeRe, tempDir } from "./helpers/run.js";

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const zhimg = (a: ImageAsset): string => (a.delivery ? a.source : zhimgUrl(`v2-${a.id}`, a.ext));

describe("golden files (test/golden/<name>.md → .html, .warnings.txt)", () => {
  const names = readdirSync(GOLDEN)
    .filter((f) => f.endsWith(".md"))
    .map((f) => f.slice(0, -3))
    .sort();
  test("there is a golden for every construct", () => {
    for (const name of ["headings", "code", "math", "table", "footnotes", "links", "lists", "blockquote"]) {
      assert.ok(names.includes(name), name);
    }
    for (const name of [
      "math-backslash",
      "lists-numbered",
      "task-lists",
      "linked-images",
      "footnotes-undefined",
      "html-inline",
      "html-block",
      "html-comments",
      "captions",
      "remote-images",
      "diagrams",
      "emoji",
      "emoji-off",
      "callouts",
      "kitchen-sink",
    ]) {
      assert.ok(names.includes(name), name);
    }
    assert.ok(names.includes("images") && names.includes("unsupported") && names.includes("long-article"));
  });
  for (const name of names) {
    test(name, async () => {
      const md = path.join(GOLDEN, `${name}.md`);
      const article = await prepareArticle(md, { fetch: refusingFetch, diagrams: standInDiagrams });
      const html = `${renderArticle(article, zhimg)}\n`;
      // Warnings name the file as given; goldens name it by its base name so they do not depend on the cwd.
      const warnings = article.warnings.map((w) => w.replace(md, `${name}.md`));
      const htmlFile = path.join(GOLDEN, `${name}.html`);
      const warnFile = path.join(GOLDEN, `${name}.warnings.txt`);
      if (UPDATE) {
        writeFileSync(htmlFile, html);
        if (warnings.length > 0) writeFileSync(warnFile, `${warnings.join("\n")}\n`);
        else rmSync(warnFile, { force: true });
      }
      assert.equal(html, readFileSync(htmlFile, "utf8"), `${name}.html differs (UPDATE_GOLDEN=1 to accept)`);
      const expected = existsSync(warnFile) ? readFileSync(warnFile, "utf8").split("\n").filter(Boolean) : [];
      assert.deepEqual(warnings, expected);
      // Deterministic: a second render is byte-identical.
      assert.equal(`${renderArticle(article, zhimg)}\n`, html);
    });
  }
});

describe("the CommonMark spec", () => {
  const spec = createRequire(import.meta.url)("commonmark-spec") as {
    tests: { markdown: string; number: number; section: string }[];
  };
  test(`every example renders without throwing (${spec.tests.length} examples)`, () => {
    assert.ok(spec.tests.length > 600);
    const image = (src: string): ImageAsset => ({
      id: src,
      source: src,
      bytes: Buffer.alloc(0),
      mime: "image/png",
      ext: "png",
      width: 1,
      height: 1,
    });
    for (const example of spec.tests) {
      const out = renderMarkdown(example.markdown, {
        file: `spec#${example.number}`,
        bodyLine: 0,
        title: "T",
        titleFrom: "front-matter",
        image,
        imageSrc: (a) => a.source,
      });
      assert.equal(typeof out.html, "string", `example ${example.number} (${example.section})`);
      // Nothing Zhihu would drop or execute gets through unescaped.
      assert.doesNotMatch(
        out.html,
        /<(script|div|span|iframe|style|del|s|h1|h4|h5|h6|thead)\b/i,
        `example ${example.number}`,
      );
    }
  });
});

describe("heading ranks", () => {
  const dir = tempDir({ after }, "topn-article-");
  const cases: { name: string; md: string; html: string; title: string }[] = [
    {
      name: "# title with ## sections gives h2 sections",
      md: "# T\n\n## A\n\ntext\n\n### B\n",
      title: "T",
      html: "<h2>A</h2>\n<p>text</p>\n<h3>B</h3>",
    },
    {
      name: "front-matter title: # and ## are h2 and h3",
      md: "---\ntitle: T\n---\n# A\n\n## B\n\n### C\n",
      title: "T",
      html: "<h2>A</h2>\n<h3>B</h3>\n<p><b>C</b></p>",
    },
    {
      name: "only ### and ##### used: they become h2 and h3",
      md: "---\ntitle: T\n---\n### A\n\n##### B\n",
      title: "T",
      html: "<h2>A</h2>\n<h3>B</h3>",
    },
    {
      name: "setext headings count like ATX ones",
      md: "Title\n=====\n\nSection\n-------\n\nbody\n",
      title: "Title",
      html: "<h2>Section</h2>\n<p>body</p>",
    },
    {
      name: "a front-matter title repeated as the first # heading is not repeated",
      md: "---\ntitle: Same\n---\n# Same\n\nbody\n",
      title: "Same",
      html: "<p>body</p>",
    },
    {
      name: "the first # heading is the title even after an intro paragraph",
      md: "intro\n\n# The Title\n\n## Part\n",
      title: "The Title",
      html: "<p>intro</p>\n<h2>Part</h2>",
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const file = path.join(dir, "a.md");
      await writeFile(file, c.md);
      const article = await prepareArticle(file);
      assert.equal(article.title, c.title);
      assert.equal(renderArticle(article, zhimg), c.html);
    });
  }
  test("headings below the second rank warn with file:line", async () => {
    const file = path.join(dir, "deep.md");
    await writeFile(file, "---\ntopics: [写作]\n---\n# T\n\n## A\n\n### B\n\n#### C\n");
    const article = await prepareArticle(file);
    assert.equal(article.warnings.length, 1);
    assert.match(
      article.warnings[0]!,
      new RegExp(`^${escapeRe(file)}:10: heading level 4 rendered as a bold paragraph`),
    );
  });
});

describe("front matter", () => {
  const dir = tempDir({ after }, "topn-article-");
  test("fields, comma topics, a 19-digit zhihu_id kept exact, unknown keys warn", async () => {
    const file = path.join(dir, "fm.md");
    await writeFile(
      file,
      "---\ntitle: 你好 Hello\ntopics: Markdown，写作, Markdown\ncolumn: c1\ncomments: no_one\n" +
        "zhihu_id: 1234567890123456789\nlayout: post\n---\nbody\n",
    );
    const a = await prepareArticle(file);
    assert.equal(a.title, "你好 Hello");
    assert.deepEqual(a.topics, ["Markdown", "写作"]);
    assert.equal(a.column, "c1");
    assert.equal(a.comments, "no_one");
    assert.equal(a.zhihuId, "1234567890123456789");
    assert.equal(a.titleFrom, "front-matter");
    assert.deepEqual(a.warnings, [
      `${file}:7: unknown front matter key "layout" ignored (known: title, topics, column, cover, comments, zhihu, zhihu_id, draft, published, date, tags, description, emoji, captions)`,
    ]);
    assert.match(a.contentHash, /^[0-9a-f]{64}$/);
    assert.equal(a.file, file);
  });
  test("what other tools write: zhihu: URL, draft/published, date, tags as optional topics, Obsidian keys", async () => {
    const file = path.join(dir, "tools.md");
    await writeFile(
      file,
      "---\ntitle: T\nzhihu: https://zhuanlan.zhihu.com/p/1234567890123456789\ndraft: true\n" +
        "date: 2030-01-02T03:04:05+08:00\ntags: [写作, 随笔]\naliases: [x]\ncssclasses: wide\ndescription: d\n---\nbody\n",
    );
    const a = await prepareArticle(file);
    assert.equal(a.zhihuId, "1234567890123456789");
    assert.equal(a.zhihuLine, 3);
    assert.deepEqual(a.draft, { key: "draft", line: 4 });
    assert.equal(a.date, Date.parse("2030-01-02T03:04:05+08:00"));
    assert.deepEqual(a.topics, []);
    assert.deepEqual(a.optionalTopics, ["写作", "随笔"]);
    assert.deepEqual(a.warnings, [], "no 'no topics' warning, no unknown keys");
    await writeFile(file, "---\ntitle: T\npublished: false\nzhihu: 42\n---\nbody\n");
    const b = await prepareArticle(file);
    assert.deepEqual(b.draft, { key: "published", line: 3 });
    assert.equal(b.zhihuId, "42");
    await writeFile(file, "---\ntitle: T\nzhihu: https://www.zhihu.com/question/1\n---\nbody\n");
    await assert.rejects(prepareArticle(file), /zhihu must be the article's URL/);
  });
  test("defaults: comments anyone, no topics; a quoted zhihu_id; CRLF and a BOM are fine", async () => {
    const file = path.join(dir, "crlf.md");
    await writeFile(file, "\ufeff---\r\nzhihu_id: '42'\r\n---\r\n# 标题\r\n\r\n正文\r\n");
    const a = await prepareArticle(file);
    assert.equal(a.title, "标题");
    assert.equal(a.titleFrom, "heading");
    assert.equal(a.comments, "anyone");
    assert.deepEqual(a.topics, []);
    assert.equal(a.zhihuId, "42");
    assert.equal(renderArticle(a, zhimg), "<p>正文</p>");
    assert.deepEqual(a.warnings, [
      `${file}:1: no topics: Zhihu usually refuses to publish without one (add e.g. topics: [写作])`,
    ]);
  });
});
