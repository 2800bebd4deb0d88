// Markdown people write, published to the simulator with real Chromium, the real store and the real Runner,
// then read back as Zhihu holds it: diagrams arrive as uploaded PNGs, every image is on zhimg.com, no tag
// shows as text, no comment text arrives, every footnote is a Zhihu reference; a remote image topn cannot
// download is re-hosted by Zhihu, and one neither can fetch is a transient failure.

import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { imageSize } from "image-size";
import { articleDigest, prepareArticle } from "../src/article/index.js";
import type { Platform, PublishResult } from "../src/platform.js";
import { makePng } from "./fixtures/article/images.js";
import { imageSources, rawHtmlProblems, visibleText } from "./helpers/html.js";
import { type ZhihuWorld, zhihuWorld } from "./helpers/zhihu.js";

const GOLDEN = fileURLToPath(new URL("./golden/", import.meta.url));
const REMOTE_PNG = makePng(24, 16, (x, y) => [200, x * 9, y * 13]);

/** The platform of the world, keeping what each publish reported. */
function recording(w: ZhihuWorld): { platform: Platform; results: PublishResult[] } {
  const inner = w.platform();
  const results: PublishResult[] = [];
  const platform: Platform = {
    name: inner.name,
    publish: async (task, ctx) => {
      const result = await inner.publish(task, ctx);
      results.push(result);
      return result;
    },
    close: () => inner.close(),
  };
  return { platform, results };
}

/**
 * An image host that refuses topn's download (it asks for image/*) but answers Zhihu's fetch: how a host
 * behind hotlink protection or a foreign firewall looks from the two sides.
 */
async function pickyHost(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const server = http.createServer((req, res) => {
    if (req.headers.accept === "image/*") res.writeHead(403, "Forbidden").end();
    else res.writeHead(200, { "content-type": "image/png" }).end(REMOTE_PNG);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const zhimgOnly = (html: string): string[] =>
  imageSources(html).filter(
    (src) => !src.startsWith("//www.zhihu.com/equation") && !/\.zhimg\.com$/.test(new URL(src).hostname),
  );

describe("Markdown people write, on Zhihu", { concurrency: false, timeout: 180_000 }, () => {
  test("a mermaid flowchart and a dot graph become uploaded PNGs", async (t) => {
    const w = await zhihuWorld(t);
    const file = w.writeArticle(
      "diagrams.md",
      "---\ntitle: 图表 Diagrams\ntopics: [编程]\n---\n\n```mermaid\nflowchart LR\n  A[Markdown] --> B[PNG] --> C[Zhihu]\n```\n\n" +
        "```dot\ndigraph { rankdir=LR; md -> png -> zhihu }\n```\n",
    );
    const prepared = await prepareArticle(file);
    const id = await w.enqueue(file, "work");
    const { platform, results } = recording(w);
    assert.deepEqual((await w.run([id], { platform })).succeeded, [id]);

    const [a] = w.sim.articles();
    assert.ok(a);
    const uploaded = w.sim.images().filter((i) => i.uploaded);
    assert.equal(uploaded.length, 2);
    assert.deepEqual(
      imageSources(a.html),
      prepared.images.map((i) => `https://pic4.zhimg.com/v2-${i.id}`),
    );
    for (const image of uploaded) {
      const bytes = w.sim.world.images.get(image.md5)?.bytes;
      assert.ok(bytes);
      assert.equal(imageSize(bytes).type, "png");
    }
    // Drawn at enqueue and again by the job: the same bytes, so the same digest.
    assert.equal(results[0]?.digest, articleDigest(prepared));
  });

  test("the kitchen sink reads back with every image on zhimg, no raw tag, every footnote a reference", async (t) => {
    const w = await zhihuWorld(t);
    const host = await pickyHost(t);
    const md = readFileSync(join(GOLDEN, "kitchen-sink.md"), "utf8").replace(
      "https://images.example.com/kitchen.png",
      `${host}/kitchen.png`,
    );
    const file = w.writeArticle("posts/kitchen-sink.md", md);
    for (const name of ["photo.png", "diagram.png"]) {
      w.writeArticle(`posts/images/${name}`, "");
      copyFileSync(join(GOLDEN, "images", name), join(w.docs, "posts/images", name));
    }
    const prepared = await prepareArticle(file);
    assert.ok(
      prepared.warnings.some((x) =>
        x.includes(`${host}/kitchen.png (HTTP 403 Forbidden): Zhihu will be asked`),
      ),
      prepared.warnings.join("\n"),
    );
    const id = await w.enqueue(file, "work");
    assert.deepEqual((await w.run([id])).succeeded, [id]);

    const [a] = w.sim.articles();
    assert.ok(a);
    assert.equal(a.state, "published");
    const html = a.html;
    assert.deepEqual(zhimgOnly(html), [], "every image is on zhimg.com");
    assert.ok(
      imageSources(html).includes("https://pic4.zhimg.com/v2-0123456789abcdef0123456789abcdef_r.jpg"),
    );
    const secrets = ["secret Obsidian remark", "and an inline comment with private words"];
    assert.deepEqual(rawHtmlProblems(html, secrets), []);
    // Footnotes: the defined one is a Zhihu reference; the undefined one is plain "[nodef]", never "[^…]".
    const sups = [...html.matchAll(/<sup\b[^>]*>/g)].map((m) => m[0]);
    assert.equal(sups.length, 1);
    assert.ok(sups.every((s) => s.includes('data-draft-type="reference"')));
    const text = visibleText(html);
    assert.ok(!text.includes("[^"), "no footnote syntax left");
    assert.ok(text.includes("one without[nodef]"));
    // Emoji Zhihu would filter arrive as what they are made of.
    assert.ok(text.includes("a flag CN and 👍."));
    // Zhihu re-hosted the image topn could not download; nothing was uploaded for the zhimg one.
    const rehosts = w.sim.requests("work").filter((r) => r.endpoint === "image.rehost" && !r.preflight);
    assert.equal(rehosts.length, 1);
    assert.equal(rehosts[0]!.status, 200);
    const remoteMd5 = w.sim.images().find((i) => i.size === REMOTE_PNG.length)?.md5;
    assert.ok(remoteMd5 && html.includes(`https://pic4.zhimg.com/v2-${remoteMd5}.png`));
  });

  test("a remote image neither topn nor Zhihu can fetch fails the task transiently, never at enqueue", async (t) => {
    const w = await zhihuWorld(t);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const file = w.writeArticle(
      "unreachable.md",
      `---\ntitle: 远程 Unreachable\ntopics: [编程]\n---\n\n![gone](http://127.0.0.1:${port}/gone.png)\n`,
    );
    const id = await w.enqueue(file, "work", { maxAttempts: 2 });
    const summary = await w.run([id]);
    assert.deepEqual(summary.failed, [id]);
    const task = w.task(id);
    assert.equal(task.errorKind, "transient");
    assert.equal(task.attempts, 2, "retried: the host may answer later");
    assert.match(task.errorMessage ?? "", /neither topn nor Zhihu could fetch the image .*gone\.png/);
    assert.match(task.errorStep ?? "", /upload image .*gone\.png by URL/);
    const rehosts = w.sim.requests("work").filter((r) => r.endpoint === "image.rehost" && !r.preflight);
    assert.deepEqual(
      rehosts.map((r) => r.status),
      [422, 422],
    );
    assert.equal(w.sim.articles().filter((a) => a.state === "published").length, 0);
  });
});
