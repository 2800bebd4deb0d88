// `topn preview`: the page it writes, and a real screenshot with the browser topn uses.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { imageSize } from "image-size";
import { defaultPreviewPath, preview } from "../src/article/preview.js";
import { UsageError } from "../src/errors.js";
import { makePng } from "./fixtures/article/images.js";
import { tempDir } from "./helpers/run.js";

const dir = tempDir({ after }, "topn-preview-");
let file: string;
const PNG = makePng(120, 80, (x) => [x * 2, 90, 200]);

before(async () => {
  await mkdir(path.join(dir, "images"));
  await writeFile(path.join(dir, "images", "pic.png"), PNG);
  file = path.join(dir, "post.md");
  await writeFile(
    file,
    "---\ntitle: 预览 Preview <test>\ntopics: [写作, Markdown]\n---\n\n正文 with $x^2$ math[^1].\n\n" +
      "![图 1 caption](images/pic.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~\n\n[^1]: A note https://example.com\n",
  );
});

describe("preview", () => {
  test("writes the exact body inside a Zhihu-like page beside the source", async () => {
    const result = await preview({ file });
    assert.equal(result.out, path.join(dir, "post.preview.html"));
    assert.equal(result.out, defaultPreviewPath(file));
    const page = await readFile(result.out, "utf8");
    assert.ok(page.includes(`<div class="RichText">\n${result.html}\n</div>`), "body embedded verbatim");
    assert.match(page, /<h1 class="title">预览 Preview &lt;test&gt;<\/h1>/);
    assert.match(page, /话题：写作 · Markdown/);
    // Local images are inlined; formulas point at Zhihu's equation service.
    assert.ok(result.html.includes(`src="data:image/png;base64,${PNG.toString("base64")}"`));
    assert.match(result.html, /<img eeimg="1" src="\/\/www\.zhihu\.com\/equation\?tex=x%5E2" alt="x\^2">/);
    assert.match(page, /<base href="https:\/\/zhuanlan\.zhihu\.com\/">/);
    // Zhihu lists references itself: the preview shows them under the article.
    assert.match(
      page,
      /<section class="references"><h4>参考<\/h4><ol><li value="1">A note https:\/\/example\.com/,
    );
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, /post\.md:14: strikethrough/);
    assert.match(page, /topn warnings/);
    assert.equal(result.png, undefined);
  });

  test("--out is honoured and a bad file is a UsageError before anything is written", async () => {
    const out = path.join(dir, "custom.html");
    assert.equal((await preview({ file, out })).out, out);
    assert.ok(existsSync(out));
    const bad = path.join(dir, "bad.md");
    await writeFile(bad, "# T\n\n![x](images/missing.png)\n");
    await assert.rejects(preview({ file: bad }), UsageError);
    assert.equal(existsSync(defaultPreviewPath(bad)), false);
  });

  test("--png screenshots the page with real Chromium", { timeout: 60_000 }, async () => {
    const png = path.join(dir, "shot.png");
    const result = await preview({ file, png });
    assert.equal(result.png, png);
    const size = imageSize(await readFile(png));
    assert.equal(size.type, "png");
    assert.equal(size.width, 800);
    assert.ok(size.height > 400, `full page height, got ${size.height}`);
  });
});

describe("preview of images known only by their address", () => {
  test("a zhimg image and one that cannot be downloaded are shown by their URL, not refused", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const remote = path.join(dir, "remote.md");
    const zhimg = "https://pic4.zhimg.com/v2-0123456789abcdef0123456789abcdef_r.jpg";
    await writeFile(remote, `# R\n\n![a](${zhimg})\n\n![b](http://127.0.0.1:${port}/b.png)\n`);
    const result = await preview({ file: remote });
    assert.ok(result.html.includes(`src="${zhimg}"`));
    assert.ok(result.html.includes(`src="http://127.0.0.1:${port}/b.png"`));
    assert.match(result.warnings.join("\n"), /remote\.md:5: cannot download image .*ECONNREFUSED/);
  });
});
