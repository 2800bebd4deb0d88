// Images: local and remote (a real HTTP server on 127.0.0.1), deduplicated by md5, typed by their bytes.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MAX_IMAGE_BYTES, prepareArticle, renderArticle } from "../src/article/index.js";
import { UsageError } from "../src/errors.js";
import { GIF_1x1, jpegHeader, makePng, webpHeader } from "./fixtures/article/images.js";
import { escapeRe, tempDir } from "./helpers/run.js";

const PNG = makePng(40, 30);
const PNG_MD5 = createHash("md5").update(PNG).digest("hex");
const dir = tempDir({ after }, "topn-images-");
let server: http.Server;
let base: string;
const hits: string[] = [];

before(async () => {
  await mkdir(path.join(dir, "img"));
  await writeFile(path.join(dir, "img", "a.png"), PNG);
  await writeFile(path.join(dir, "img", "copy of a.png"), PNG);
  await writeFile(path.join(dir, "img", "图片.png"), PNG);
  await writeFile(path.join(dir, "img", "anim.png"), GIF_1x1); // a GIF with the wrong extension
  await writeFile(path.join(dir, "img", "photo.jpeg"), jpegHeader(640, 480));
  await writeFile(path.join(dir, "img", "w.webp"), webpHeader(300, 200));
  server = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    switch (req.url) {
      case "/a.png":
      case "/same-bytes.png":
        // A wrong content type on purpose: the bytes decide.
        res.writeHead(200, { "content-type": "text/plain", "content-length": PNG.length }).end(PNG);
        break;
      case "/moved":
        res.writeHead(302, { location: "/a.png" }).end();
        break;
      case "/declared-huge.png":
        res.writeHead(200, { "content-length": MAX_IMAGE_BYTES + 1 }).end();
        break;
      case "/streamed-huge.png": {
        // No content-length: the limit must hold while reading.
        res.writeHead(200, { "content-type": "image/png" });
        const chunk = Buffer.alloc(1024 * 1024, 1);
        let sent = 0;
        const pump = (): void => {
          while (sent < 22 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        res.on("error", () => undefined);
        pump();
        break;
      }
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function article(name: string, md: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, md);
  return file;
}

describe("remote images", () => {
  test("are downloaded, sniffed and deduplicated with identical local ones", async () => {
    hits.length = 0;
    const file = await article(
      "remote.md",
      `# T\n\n![one](${base}/a.png)\n\n![two](${base}/same-bytes.png)\n\n![three](img/a.png)\n\n![four](${base}/moved)\n`,
    );
    const a = await prepareArticle(file);
    assert.equal(a.images.length, 1, "four references, one asset");
    const [img] = a.images;
    assert.equal(img!.id, PNG_MD5);
    assert.equal(img!.source, `${base}/a.png`);
    assert.equal(img!.mime, "image/png");
    assert.deepEqual([img!.width, img!.height], [40, 30]);
    assert.deepEqual(Object.values(a.imageIds), [PNG_MD5, PNG_MD5, PNG_MD5, PNG_MD5]);
    assert.deepEqual(hits.sort(), ["/a.png", "/a.png", "/moved", "/same-bytes.png"]);
    const html = renderArticle(a, (asset) => `https://pic4.zhimg.com/v2-${asset.id}`);
    assert.equal(html.split(`src="https://pic4.zhimg.com/v2-${PNG_MD5}"`).length - 1, 4);
  });

  test("an injected fetch is used (the publish step may route downloads)", async () => {
    const file = await article("injected.md", "# T\n\n![x](https://images.example/a.png)\n");
    const seen: string[] = [];
    const fake = (async (url: string | URL | Request) => {
      seen.push(String(url));
      return new Response(new Uint8Array(PNG));
    }) as typeof fetch;
    const a = await prepareArticle(file, { fetch: fake });
    assert.deepEqual(seen, ["https://images.example/a.png"]);
    assert.equal(a.images[0]!.id, PNG_MD5);
  });

  test("a declared size over the limit is refused without reading the body", async () => {
    const file = await article("declared.md", `# T\n\n![x](${base}/declared-huge.png)\n`);
    await assert.rejects(prepareArticle(file), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(
        e.message,
        new RegExp(`^${escapeRe(file)}:3: image too large: .*declared-huge\\.png is 20\\.0 MB`),
      );
      return true;
    });
  });

  test("a streamed body over the limit is cut off while reading", async () => {
    const file = await article("streamed.md", `# T\n\n![x](${base}/streamed-huge.png)\n`);
    await assert.rejects(prepareArticle(file), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /:3: image too large: .*streamed-huge\.png is over 20\.0 MB/);
      return true;
    });
  });

  test("an aborted signal stops preparation with the abort reason, not a UsageError", async () => {
    const file = await article("abort.md", `# T\n\n![x](${base}/a.png)\n`);
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(prepareArticle(file, { signal: controller.signal }), /stop/);
  });
});

describe("local images", () => {
  test("the same bytes under several names (and the cover) are one asset", async () => {
    const file = await article(
      "dedupe.md",
      "---\ntitle: T\ncover: img/a.png\n---\n![a](img/a.png)\n\n![b](<img/copy of a.png>)\n\n![c](img/图片.png)\n\n" +
        "![d](./img/../img/a.png)\n\n![e](img/a.png)\n",
    );
    const a = await prepareArticle(file);
    assert.equal(a.images.length, 1);
    assert.equal(a.cover, a.images[0]);
    assert.equal(a.images[0]!.source, path.join(dir, "img", "a.png"));
    assert.equal(Object.keys(a.imageIds).length, 4, "four distinct srcs");
  });

  test("types come from the bytes: GIF named .png, JPEG, WebP", async () => {
    const file = await article(
      "types.md",
      "# T\n\n![g](img/anim.png)\n\n![j](img/photo.jpeg)\n\n![w](img/w.webp)\n",
    );
    const a = await prepareArticle(file);
    assert.deepEqual(
      a.images.map((i) => [i.ext, i.mime, i.width, i.height]),
      [
        ["gif", "image/gif", 1, 1],
        ["jpg", "image/jpeg", 640, 480],
        ["webp", "image/webp", 300, 200],
      ],
    );
    assert.match(
      renderArticle(a, (i) => i.ext),
      /src="jpg" data-caption="j" data-size="normal" data-rawwidth="640" data-rawheight="480"/,
    );
  });

  test("absolute paths, file: URLs and data: URLs", async () => {
    const abs = path.join(dir, "img", "a.png");
    const dataUrl = `data:image/gif;base64,${GIF_1x1.toString("base64")}`;
    const file = await article(
      "kinds.md",
      `# T\n\n![a](${abs})\n\n![b](file://${abs})\n\n![c](${dataUrl})\n`,
    );
    const a = await prepareArticle(file);
    assert.deepEqual(
      a.images.map((i) => i.ext),
      ["png", "gif"],
    );
  });
});
