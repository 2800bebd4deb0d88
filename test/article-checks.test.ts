// Every bad input prepareArticle refuses: a UsageError whose message starts with "file:line:" (where a line
// is known) and a hint saying what to do.

import assert from "node:assert/strict";
import { chmod, mkdir, truncate, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { prepareArticle } from "../src/article/index.js";
import { UsageError } from "../src/errors.js";
import { BMP_2x2, makePng, SVG } from "./fixtures/article/images.js";
import { tempDir } from "./helpers/run.js";

const dir = tempDir({ after }, "topn-checks-");
let server: http.Server;
let base: string;

before(async () => {
  await mkdir(path.join(dir, "img"));
  await writeFile(path.join(dir, "img", "ok.png"), makePng(4, 3));
  await writeFile(path.join(dir, "img", "pic.bmp"), BMP_2x2);
  await writeFile(path.join(dir, "img", "fake.png"), BMP_2x2); // a BMP named .png: sniffed, not trusted
  await writeFile(path.join(dir, "img", "logo.svg"), SVG);
  await writeFile(path.join(dir, "img", "notes.jpg"), "just text, not a picture\n");
  // Sparse: 21 MB on paper, nothing on disk; refused from its size before it is read.
  await writeFile(path.join(dir, "img", "huge.png"), makePng(2, 2));
  await truncate(path.join(dir, "img", "huge.png"), 21 * 1024 * 1024);
  server = http.createServer((req, res) => {
    if (req.url === "/gone.png") res.writeHead(404, "Not Found").end("no");
    else res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A port on 127.0.0.1 that nothing listens on (it was just freed). */
async function closedPort(): Promise<number> {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return port;
}

/** Writes `name` with `content` and expects prepareArticle to reject with a message starting `file:line:`. */
async function rejects(
  name: string,
  content: string | Buffer,
  line: number | null,
  pattern: RegExp,
): Promise<void> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  await expectUsage(file, line, pattern);
}

async function expectUsage(file: string, line: number | null, pattern: RegExp): Promise<void> {
  await assert.rejects(prepareArticle(file), (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    const prefix = line === null ? `${file}: ` : `${file}:${line}: `;
    assert.ok(error.message.startsWith(prefix), `"${error.message}" should start with "${prefix}"`);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n/, "one line");
    assert.ok(error.hint && error.hint.length > 0, "has a hint");
    return true;
  });
}

describe("images", () => {
  test("a missing local image", () =>
    rejects("missing.md", "# T\n\ntext\n\n![x](img/nope.png)\n", 5, /image not found: img\/nope\.png/));
  test("a missing image with a Chinese name (percent-encoded by markdown-it)", () =>
    rejects("missing-cn.md", "# T\n\n![x](<img/不存在 1.png>)\n", 3, /image not found: img\/不存在 1\.png/));
  test("an image that is a folder", () => rejects("folder.md", "# T\n\n![x](img)\n", 3, /is a folder/));
  test("an unsupported type (BMP)", () =>
    rejects("bmp.md", "# T\n\n![x](img/pic.bmp)\n", 3, /unsupported image type BMP/));
  test("the type is sniffed from the bytes, not the name", () =>
    rejects("fake.md", "# T\n\n![x](img/fake.png)\n", 3, /unsupported image type BMP: img\/fake\.png/));
  test("a text file named .jpg", () =>
    rejects(
      "text.md",
      "# T\n\n![x](img/notes.jpg)\n",
      3,
      /unsupported image type: img\/notes\.jpg is not a PNG/,
    ));
  test("SVG is refused", () =>
    rejects("svg.md", "# T\n\nok\n\n\n![x](img/logo.svg)\n", 6, /SVG images are not supported/));
  test("an image over 20 MB", () =>
    rejects(
      "huge.md",
      "# T\n\n![x](img/huge.png)\n",
      3,
      /image too large: img\/huge\.png is 21\.0 MB, Zhihu accepts up to 20\.0 MB/,
    ));
  test("a remote image that cannot be downloaded is a warning, left for Zhihu to fetch, never a refusal", async () => {
    const port = await closedPort();
    const file = path.join(dir, "remote-down.md");
    await writeFile(
      file,
      `# T\n\nintro\n\n![x](${base}/gone.png)\n\n![y](http://127.0.0.1:${port}/a.png)\n\n![z](${base}/error.png)\n`,
    );
    const a = await prepareArticle(file);
    assert.deepEqual(
      a.images.map((i) => [i.delivery, i.source, i.bytes.length, i.width]),
      [
        ["rehost", `${base}/gone.png`, 0, 0],
        ["rehost", `http://127.0.0.1:${port}/a.png`, 0, 0],
        ["rehost", `${base}/error.png`, 0, 0],
      ],
    );
    const warnings = a.warnings.filter((w) => w.includes("cannot download"));
    assert.equal(warnings.length, 3);
    assert.match(
      warnings[0]!,
      /:5: cannot download image http:\/\/127\.0\.0\.1:\d+\/gone\.png \(HTTP 404 Not Found\): Zhihu will be asked/,
    );
    assert.match(warnings[1]!, /:7: cannot download image .* \(ECONNREFUSED\)/);
    assert.match(warnings[2]!, /:9: .*\(HTTP 500/);
  });
  test("a missing cover names the cover line", () =>
    rejects(
      "cover.md",
      "---\ntitle: T\ncover: img/none.png\n---\nbody\n",
      3,
      /image not found: img\/none\.png/,
    ));
  test("an image in a table cell is not needed (shown as its alt text)", async () => {
    const file = path.join(dir, "cell.md");
    await writeFile(file, "# T\n\n| a |\n|---|\n| ![alt](img/nope.png) |\n");
    const a = await prepareArticle(file);
    assert.deepEqual(a.images, []);
    assert.match(a.warnings.join("\n"), /:5: table cell image shown as plain text/);
  });
});

describe("title, topics, body", () => {
  const long = "长".repeat(101);
  test("a front-matter title over 100 characters", () =>
    rejects(
      "long1.md",
      `---\ntopics: [a]\ntitle: ${long}\n---\nbody\n`,
      3,
      /title is 101 characters, Zhihu allows at most 100/,
    ));
  test("a heading title over 100 characters", () =>
    rejects("long2.md", `\n\n# ${long}\n\nbody\n`, 3, /title is 101 characters/));
  test("exactly 100 characters (emoji count once) is fine", async () => {
    const file = path.join(dir, "hundred.md");
    await writeFile(file, `# ${"😀".repeat(100)}\n\nbody\n`);
    assert.equal([...(await prepareArticle(file)).title].length, 100);
  });
  test("no title at all", () => rejects("notitle.md", "just a paragraph\n\n## section\n", 1, /has no title/));
  test("more than 3 topics", () =>
    rejects(
      "topics.md",
      "---\ntitle: T\n\ntopics: a, b, c, d\n---\nbody\n",
      4,
      /4 topics given, Zhihu allows at most 3/,
    ));
  test("more than 3 topics as a list", () =>
    rejects(
      "topics2.md",
      "---\ntitle: T\ntopics:\n  - a\n  - b\n  - c\n  - d\n---\nbody\n",
      3,
      /4 topics given/,
    ));
  test("an empty body (title only)", () => rejects("titleonly.md", "# Just a title\n", null, /has no body/));
  test("an empty body (front matter only)", () =>
    rejects("fmonly.md", "---\ntitle: T\n---\n\n", null, /has no body/));
  test("a bad comments value", () =>
    rejects(
      "comments.md",
      "---\ntitle: T\ncomments: everyone\n---\nbody\n",
      3,
      /comments must be anyone, followees or no_one/,
    ));
  test("a zhihu_id that is not a number", () =>
    rejects(
      "zid.md",
      "---\ntitle: T\nzhihu_id: abc\n---\nbody\n",
      3,
      /zhihu_id must be the article's URL \(https:\/\/zhuanlan\.zhihu\.com\/p\/…\) or its numeric id/,
    ));
});

describe("front matter", () => {
  test("YAML that does not parse names its line", () =>
    rejects("yaml.md", "---\ntitle: T\ntopics: [a, b\n---\nbody\n", 4, /front matter is not valid YAML/));
  test("a bad mapping line", () =>
    rejects("yaml2.md", "---\ntitle: T\n  bad: indent\n---\nbody\n", 3, /front matter is not valid YAML/));
  test("front matter never closed", () => rejects("open.md", "---\ntitle: T\n\nbody\n", 1, /never closed/));
  test("front matter that is a list", () =>
    rejects("list.md", "---\n- a\n---\nbody\n", 2, /must be key: value pairs/));
  test("a title that is a map", () =>
    rejects("map.md", "---\ntitle:\n  a: b\n---\nbody\n", 2, /title must be a single value/));
});

describe("the file itself", () => {
  test("missing", () => expectUsage(path.join(dir, "nope.md"), null, /file not found/));
  test("a relative path resolves against opts.cwd and is named as given", async () => {
    await writeFile(path.join(dir, "rel.md"), "# T\n\n![x](img/nope.png)\n");
    await assert.rejects(prepareArticle("rel.md", { cwd: dir }), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(
        e.message,
        `rel.md:3: image not found: img/nope.png (looked for ${path.join(dir, "img", "nope.png")})`,
      );
      return true;
    });
    await assert.rejects(
      prepareArticle("nowhere.md", { cwd: dir }),
      /^UsageError: nowhere\.md: file not found$/,
    );
  });
  test("a directory", () => expectUsage(dir, null, /is a directory/));
  test("empty", () => rejects("empty.md", "", null, /file is empty/));
  test("only whitespace", () => rejects("blank.md", "  \n\n\t\n", null, /only whitespace/));
  test("binary", () => rejects("bin.md", makePng(2, 2), null, /binary file/));
  test("not UTF-8 (GBK) names the first bad line", () =>
    rejects(
      "gbk.md",
      Buffer.concat([Buffer.from("# T\n\nok\n"), Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x0a])]),
      4,
      /not valid UTF-8/,
    ));
  test("unreadable", {
    skip: process.getuid?.() === 0 ? "running as root: permissions do not stop reads" : false,
  }, async () => {
    const file = path.join(dir, "locked.md");
    await writeFile(file, "# T\n\nbody\n");
    await chmod(file, 0o000);
    await expectUsage(file, null, /cannot be read \(permission denied\)/);
  });
});
