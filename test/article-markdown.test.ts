// Markdown people actually write: the corpus walk (no raw tag, no comment text, nothing lost), captions,
// emoji, remote images and the options that change the HTML.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { looksGenerated } from "../src/article/captions.js";
import { zhihuSafeEmoji } from "../src/article/emoji.js";
import {
  articleDigest,
  articleOptionsFrom,
  articleOptionsState,
  prepareArticle,
  renderArticle,
} from "../src/article/index.js";
import { UsageError } from "../src/errors.js";
import { makePng } from "./fixtures/article/images.js";
import { refusingFetch, standInDiagrams } from "./fixtures/article/stand-ins.js";
import { imageSources, rawHtmlProblems, visibleText } from "./helpers/html.js";
import { tempDir } from "./helpers/run.js";

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");
const dir = tempDir({ after }, "topn-markdown-");
const src = (a: { delivery?: string; source: string; id: string }): string =>
  a.delivery ? a.source : `https://pic4.zhimg.com/v2-${a.id}`;

/** Text of the source's comments (<!-- … --> and Obsidian's %%…%%): none of it may reach Zhihu. */
function commentTexts(markdown: string): string[] {
  const found = [...markdown.matchAll(/<!--([\s\S]*?)-->|%%([\s\S]+?)%%/g)];
  return found
    .map((m) => (m[1] ?? m[2] ?? "").replace(/\s+/g, " ").trim())
    .filter((t) => t.length >= 4 && t !== "more");
}

async function article(name: string, md: string, files: Record<string, Buffer> = {}): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, md);
  for (const [rel, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), bytes);
  }
  return file;
}

describe("the corpus: every golden renders with no raw tag and no comment text", () => {
  const names = readdirSync(GOLDEN).filter((f) => f.endsWith(".md"));
  for (const name of names) {
    test(name, async () => {
      const file = path.join(GOLDEN, name);
      const a = await prepareArticle(file, { fetch: refusingFetch, diagrams: standInDiagrams });
      const html = renderArticle(a, src);
      assert.deepEqual(rawHtmlProblems(html, commentTexts(readFileSync(file, "utf8"))), []);
    });
  }

  test("the walker finds what it looks for", () => {
    assert.deepEqual(rawHtmlProblems("<p>a</p><pre>&lt;b&gt;</pre><p><code>&lt;i&gt;</code></p>"), []);
    assert.equal(rawHtmlProblems("<p>&lt;span style=&quot;x&quot;&gt;</p>").length, 1);
    assert.equal(rawHtmlProblems("<p>&lt;br/&gt;</p>").length, 1);
    assert.equal(rawHtmlProblems("<p>a <!-- note --> b</p>").length, 1);
    assert.equal(rawHtmlProblems("<p>&lt;!-- note --&gt;</p>").length, 1);
    assert.equal(rawHtmlProblems("<p>my private note</p>", ["private note"]).length, 1);
    assert.deepEqual(rawHtmlProblems("<p>1 &lt; 2 and a -&gt; b</p>"), []);
  });

  test("the kitchen sink keeps every piece of text", async () => {
    const a = await prepareArticle(path.join(GOLDEN, "kitchen-sink.md"), {
      fetch: refusingFetch,
      diagrams: standInDiagrams,
    });
    const text = visibleText(renderArticle(a, src)).replace(/\s+/g, " ");
    for (const phrase of [
      "pasted together from what Typora, Obsidian, VS Code, Hugo and GitHub READMEs write. 🎉",
      "Typora 自动插入的图片",
      "mark 标签",
      "u 标签",
      "上标 x²，下标 H₂O",
      "☑ 已完成 finished Typora task",
      "☐ 待办 pending Typora task",
      "Obsidian 提示 callout",
      "Callout body keeps its text.",
      "Private thoughts are not published.",
      "Footnotes with a definition[1] and one without[nodef].",
      "LaTeX delimiters: a+b inline and display:",
      "5. numbered from five",
      "8. eight, a gap",
      'const greeting: string = "<b>not a tag</b>";',
      "A Hugo summary divider sits at the top of this post.",
      "Hugo figure caption 图注",
      "Install 安装",
      "Run npm install -g topn then press Enter.",
      "That is all.",
      "https://github.com/example/topn",
      "https://ci.example.com/topn",
      "remote chart",
      "Emoji 🚀 and a flag CN and 👍.",
      "The end, line one",
      "line two.",
    ]) {
      assert.ok(text.includes(phrase), `lost: ${phrase}`);
    }
    assert.equal(a.images.length, 6, "photo, diagram, two drawn diagrams, zhimg, remote: each once");
  });
});

describe("captions", () => {
  test("generated alt text is recognised", () => {
    for (const generated of [
      "",
      "image-20240101120000000",
      "image-20240101120000000.png",
      "Pasted image 20240101120000",
      "Pasted image 20240101120000.png",
      "Screenshot 2024-01-01 at 12.00.00",
      "Screen Shot 2024-01-01 at 12.00.00 PM",
      "Screenshot_20240101_120000",
      "CleanShot 2024-01-01 at 12.00.00@2x",
      "截屏2024-01-01 12.00.00",
      "屏幕截图 2024-01-01 120000",
      "微信图片_20240101120000",
      "Snipaste_2024-01-01_12-00-00",
      "IMG_1234",
      "DSC_0001.JPG",
      "a.png",
      "chart_v2.jpeg",
      "3f2a9c1b7d6e5f40a1b2c3d4e5f6a7b8",
      "v2-3f2a9c1b7d6e5f40a1b2c3d4e5f6a7b8_r",
      "123e4567-e89b-12d3-a456-426614174000",
      "image",
      "图片",
      "2024-01-01",
    ]) {
      assert.equal(looksGenerated(generated), true, generated);
    }
    assert.equal(looksGenerated("photo", "images/photo.png"), true, "the file's own name");
    assert.equal(looksGenerated("架构%20图", "img/%E6%9E%B6%E6%9E%84%20%E5%9B%BE.png"), false);
    assert.equal(looksGenerated("架构 图", "img/%E6%9E%B6%E6%9E%84%20%E5%9B%BE.png"), true, "decoded name");
    for (const written of [
      "系统架构图",
      "Figure 1: architecture",
      "Figure 1",
      "图 1",
      "2024 年度总结",
      "Screenshot of the settings page",
      "Image processing pipeline",
      "a cat",
      "v2 architecture",
    ]) {
      assert.equal(looksGenerated(written), false, written);
    }
  });

  test("--no-captions (or captions: false) leaves every caption empty", async () => {
    const png = makePng(8, 8);
    const md = '# T\n\n![系统架构图](img/a.png "标题")\n\n![another](img/a.png)\n';
    const file = await article("captions.md", md, { "img/a.png": png });
    const on = renderArticle(await prepareArticle(file), src);
    assert.match(on, /data-caption="标题"/);
    const off = await prepareArticle(file, { captions: false });
    assert.equal(off.settings.captions, false);
    assert.doesNotMatch(renderArticle(off, src), /data-caption="[^"]/);
    const fm = await article("captions-fm.md", `---\ncaptions: false\n---\n${md}`, {});
    assert.doesNotMatch(renderArticle(await prepareArticle(fm), src), /data-caption="[^"]/);
    assert.notEqual(
      articleDigest(await prepareArticle(file)),
      articleDigest(off),
      "the digest sees captions",
    );
  });
});

describe("emoji", () => {
  test("shortcodes only when the file or the command asks", async () => {
    const file = await article("emoji.md", "# T\n\nHi :smile: at 12:30:45\n");
    assert.equal(renderArticle(await prepareArticle(file), src), "<p>Hi :smile: at 12:30:45</p>");
    const on = await prepareArticle(file, { emoji: true });
    assert.equal(renderArticle(on, src), "<p>Hi 😄 at 12:30:45</p>");
    assert.deepEqual(on.settings, { emoji: true, captions: true });
    const fm = await article("emoji-fm.md", "---\nemoji: true\n---\n# T\n\nHi :smile:\n");
    assert.equal(renderArticle(await prepareArticle(fm), src), "<p>Hi 😄</p>");
  });

  test("a front-matter switch that is not true/false names its line", async () => {
    const file = await article("emoji-bad.md", "---\ntitle: T\nemoji: yes please\n---\nbody\n");
    await assert.rejects(prepareArticle(file), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /emoji-bad\.md:3: emoji must be true or false/);
      return true;
    });
  });

  test("the emoji Zhihu filters are replaced by what they are made of", () => {
    assert.equal(zhihuSafeEmoji("🇨🇳 🇯🇵"), "CN JP");
    assert.equal(zhihuSafeEmoji("👍🏽👋🏿"), "👍👋");
    assert.equal(zhihuSafeEmoji("👨‍💻 and 👨‍👩‍👧"), "👨💻 and 👨👩👧");
    assert.equal(zhihuSafeEmoji("😀 ❤️ ✅ 中文"), "😀 ❤️ ✅ 中文");
    // A joiner between letters of a script that needs it is not an emoji's.
    assert.equal(zhihuSafeEmoji("क्‍ष"), "क्‍ष");
  });
});

describe("remote images", () => {
  test("zhimg.com images are referenced as they are: never downloaded, never uploaded", async () => {
    const seen: string[] = [];
    const spy = (async (url: string | URL | Request) => {
      seen.push(String(url));
      return new Response(new Uint8Array(makePng(2, 2)));
    }) as typeof fetch;
    const file = await article(
      "zhimg.md",
      "# T\n\n![a](https://pic4.zhimg.com/v2-0123456789abcdef0123456789abcdef_r.jpg)\n\n" +
        "![b](http://pic1.zhimg.com/80/v2-aa.png)\n\n![c](https://example.com/c.png)\n",
    );
    const a = await prepareArticle(file, { fetch: spy });
    assert.deepEqual(seen, ["https://example.com/c.png"]);
    assert.deepEqual(
      a.images.map((i) => [i.delivery, i.source]),
      [
        ["zhimg", "https://pic4.zhimg.com/v2-0123456789abcdef0123456789abcdef_r.jpg"],
        ["zhimg", "https://pic1.zhimg.com/80/v2-aa.png"],
        [undefined, "https://example.com/c.png"],
      ],
    );
    assert.deepEqual(imageSources(renderArticle(a, src)).slice(0, 2), [
      "https://pic4.zhimg.com/v2-0123456789abcdef0123456789abcdef_r.jpg",
      "https://pic1.zhimg.com/80/v2-aa.png",
    ]);
  });

  test("the digest of an image known by address is its address", async () => {
    const file = await article("addr.md", "# T\n\n![x](https://images.example.com/a.png)\n");
    const refused = await prepareArticle(file, { fetch: refusingFetch });
    assert.equal(refused.images[0]!.delivery, "rehost");
    assert.equal(articleDigest(refused), articleDigest(await prepareArticle(file, { fetch: refusingFetch })));
    await writeFile(file, "# T\n\n![x](https://images.example.com/b.png)\n");
    assert.notEqual(
      articleDigest(await prepareArticle(file, { fetch: refusingFetch })),
      articleDigest(refused),
    );
  });

  test("an HTML <img> is loaded like a Markdown image, with its alt and title", async () => {
    const png = makePng(5, 4);
    const file = await article(
      "html-img.md",
      '# T\n\n<img src="pics/b.png" alt="图 b" width="50">\n\ntext <img src="pics/b.png" title="标题 b"> text\n',
      { "pics/b.png": png },
    );
    const a = await prepareArticle(file);
    assert.equal(a.images.length, 1);
    assert.equal(a.images[0]!.width, 5);
    const html = renderArticle(a, src);
    assert.match(html, /data-caption="图 b"/);
    assert.match(html, /data-caption="标题 b"/);
    assert.match(a.warnings.join("\n"), /html-img\.md:3: image size \(width\) dropped/);
  });
});

describe("options a task keeps for its job", () => {
  test("--emoji and --no-captions survive in the task state; defaults leave no trace", () => {
    assert.deepEqual(articleOptionsState({}), {});
    assert.deepEqual(articleOptionsState({ emoji: false, captions: true }), {});
    const state = articleOptionsState({ emoji: true, captions: false });
    assert.deepEqual(state, { render: { emoji: true, captions: false } });
    assert.deepEqual(articleOptionsFrom(JSON.parse(JSON.stringify({ ...state, updates: "1" }))), {
      emoji: true,
      captions: false,
    });
    assert.deepEqual(articleOptionsFrom({}), {});
  });
});

describe("diagrams in prepare", () => {
  test("drawn once per source, in document order with images; a failure stays code with file:line", async () => {
    const png = makePng(3, 3);
    let calls = 0;
    const counting = {
      render: async (lang: "mermaid" | "dot", source: string) => {
        calls++;
        return standInDiagrams.render(lang, source);
      },
      close: async () => {},
    };
    const file = await article(
      "diagrams.md",
      "# T\n\n![p](d/p.png)\n\n```mermaid\ngraph LR\n  a-->b\n```\n\n```dot\ndigraph { a -> b }\n```\n\n" +
        "```mermaid\ngraph LR\n  a-->b\n```\n\n```mermaid\nBROKEN\n```\n",
      { "d/p.png": png },
    );
    const a = await prepareArticle(file, { diagrams: counting });
    assert.equal(calls, 3, "the repeated flowchart is drawn once");
    assert.deepEqual(
      a.images.map((i) => i.source),
      [path.join(dir, "d/p.png"), "mermaid diagram at line 5", "dot diagram at line 10"],
    );
    assert.deepEqual(
      a.warnings.filter((w) => w.includes("diagram not drawn")),
      [
        `${file}:19: mermaid diagram not drawn (Parse error on line 2: ...BROKEN --> Expecting 'NODE_STRING'): kept as a code block`,
      ],
    );
    const html = renderArticle(a, src);
    assert.equal(imageSources(html).length, 4);
    assert.match(html, /<pre lang="mermaid">BROKEN<\/pre>/);
    // The same source draws the same bytes: the digest is stable.
    assert.equal(articleDigest(a), articleDigest(await prepareArticle(file, { diagrams: counting })));
  });

  test("when drawing itself fails (not the diagram), the file is refused as passing: a queued task retries", async () => {
    const broken = {
      render: async () => {
        throw new Error("Protocol error: Target closed");
      },
      close: async () => {},
    };
    const file = await article("machine.md", "# T\n\n```dot\ndigraph { a -> b }\n```\n");
    await assert.rejects(prepareArticle(file, { diagrams: broken }), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.passing, true);
      assert.equal(e.message, `${file}:3: cannot draw the dot diagram: Protocol error: Target closed`);
      return true;
    });
  });

  test("a file without diagrams never asks for a browser", async () => {
    const never = {
      render: async () => assert.fail("no diagram to draw"),
      close: async () => assert.fail("nothing to close"),
    };
    const file = await article("plain.md", "# T\n\n```js\nx\n```\n");
    await prepareArticle(file, { diagrams: never });
  });
});

describe("the title", () => {
  test("emoji Zhihu filters in the title are a warning naming its line (the title is sent as written)", async () => {
    const file = await article("title-emoji.md", "---\ntopics: [写作]\ntitle: 去日本 🇯🇵 旅行\n---\nbody\n");
    const a = await prepareArticle(file);
    assert.equal(a.title, "去日本 🇯🇵 旅行");
    assert.deepEqual(a.warnings, [
      `${file}:3: the title has emoji Zhihu filters (flags, skin tones, joined emoji): write "去日本 JP 旅行"`,
    ]);
  });
});
