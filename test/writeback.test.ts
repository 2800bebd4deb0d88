// Write-back of `zhihu: URL` into a file's front matter: one line changes, nothing else, or nothing at all.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { linkSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { withEntry, writeBack } from "../src/article/writeback.js";
import { tempDir } from "./helpers/run.js";

const entry = {
  key: "zhihu",
  url: "https://zhuanlan.zhihu.com/p/1234567890123456789",
  articleId: "1234567890123456789",
};
const line = `zhihu: ${entry.url}`;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const text = (b: Buffer | null) => b?.toString("utf8");

test("no front matter: one is created; the body stays as it was", () => {
  assert.equal(text(withEntry(Buffer.from("# T\n\nbody\n"), entry)), `---\n${line}\n---\n# T\n\nbody\n`);
});

test("the line goes last in the front matter, after a block scalar or a flow list; an old value is replaced", () => {
  const block = "---\ntitle: T\ndescription: |\n  two\n  lines\n---\nbody\n";
  assert.equal(
    text(withEntry(Buffer.from(block), entry)),
    `---\ntitle: T\ndescription: |\n  two\n  lines\n${line}\n---\nbody\n`,
  );
  const flow = "---\ntags: [a,\n  b]\n---\nbody\n";
  assert.equal(text(withEntry(Buffer.from(flow), entry)), `---\ntags: [a,\n  b]\n${line}\n---\nbody\n`);
  const old = "---\ntitle: T\nzhihu: https://zhuanlan.zhihu.com/p/1\ntopics: [x]\n---\nbody\n";
  assert.equal(text(withEntry(Buffer.from(old), entry)), `---\ntitle: T\n${line}\ntopics: [x]\n---\nbody\n`);
});

test("a file that already names the article (zhihu: or zhihu_id:) is left alone", () => {
  assert.equal(withEntry(Buffer.from(`---\n${line}\n---\nb\n`), entry), null);
  assert.equal(withEntry(Buffer.from(`---\nzhihu_id: "${entry.articleId}"\n---\nb\n`), entry), null);
});

test("a file edited since it was published is not touched; a file with hard links is rewritten in place", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "a.md");
  const published = Buffer.from("---\ntitle: T\n---\nbody\n");
  writeFileSync(file, "---\ntitle: T\n---\nedited body\n");
  assert.deepEqual(await writeBack(file, entry, sha(published)), { kind: "changed" });
  assert.equal(readFileSync(file, "utf8"), "---\ntitle: T\n---\nedited body\n");
  assert.deepEqual(await writeBack(join(dir, "gone.md"), entry, sha(published)), { kind: "missing" });

  writeFileSync(file, published);
  const twin = join(dir, "b.md");
  linkSync(file, twin);
  const ino = statSync(file).ino;
  assert.deepEqual(await writeBack(file, entry, sha(published)), { kind: "written" });
  assert.equal(statSync(file).ino, ino, "same inode: the hard link still points at it");
  assert.equal(readFileSync(twin, "utf8"), `---\ntitle: T\n${line}\n---\nbody\n`);
  assert.deepEqual(await writeBack(file, entry, sha(readFileSync(file))), { kind: "present" });
});

test("an ordinary file is replaced atomically, keeping its mode; no temp file is left", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "a.md");
  const published = Buffer.from("---\ntitle: T\n---\nbody\n");
  writeFileSync(file, published, { mode: 0o640 });
  const ino = statSync(file).ino;
  assert.deepEqual(await writeBack(file, entry, sha(published)), { kind: "written" });
  assert.notEqual(statSync(file).ino, ino, "renamed over the original");
  assert.equal(statSync(file).mode & 0o777, 0o640);
  const { readdirSync } = await import("node:fs");
  assert.deepEqual(readdirSync(dir), ["a.md"]);
});
