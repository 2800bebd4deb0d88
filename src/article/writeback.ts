// Write-back: after the first publish, the article's URL goes into the file's own front matter
// (`zhihu: https://zhuanlan.zhihu.com/p/ID`), so the file keeps its article when it is moved, renamed or
// cloned elsewhere. Only that one line changes: the rest of the file stays byte for byte, with its BOM and
// its line endings, and a file edited since it was published is left alone.

import { createHash } from "node:crypto";
import { chmod, open, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { parseFrontMatter } from "./frontmatter.js";

export type WriteBackResult =
  /** The line was added (or replaced a different value). */
  | { kind: "written" }
  /** The front matter already names this article. */
  | { kind: "present" }
  /** The file is not the version that was published: not touched. */
  | { kind: "changed" }
  /** The file is gone. */
  | { kind: "missing" };

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Record `key: url` in the front matter of `file` if its bytes still hash to `publishedHash`. Atomic: a temp
 * file in the same folder renamed over the original (a file with hard links is rewritten in place instead,
 * so its other names keep seeing it).
 */
export async function writeBack(
  file: string,
  entry: { key: string; url: string; articleId: string },
  publishedHash: string,
): Promise<WriteBackResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw e;
  }
  if (sha256(bytes) !== publishedHash) return { kind: "changed" };
  const updated = withEntry(bytes, entry);
  if (updated === null) return { kind: "present" };
  await replaceFile(file, updated, bytes);
  return { kind: "written" };
}

/** The file's bytes with `key: url` in its front matter, or null when it already names the article. */
export function withEntry(
  bytes: Buffer,
  entry: { key: string; url: string; articleId: string },
): Buffer | null {
  const bom = bytes.subarray(0, 3).equals(BOM);
  const text = bytes.subarray(bom ? 3 : 0).toString("utf8");
  const nl = /\r\n/.test(text.slice(0, 4096)) ? "\r\n" : "\n";
  const line = `${entry.key}: ${entry.url}`;
  let out: string;
  const fence = /^---[ \t]*\r?\n/.exec(text);
  if (!fence) {
    out = `---${nl}${line}${nl}---${nl}${text}`;
  } else {
    const current = parseFrontMatter("", text.replace(/\r\n?/g, "\n"));
    if (current.zhihuId === entry.articleId) return null;
    const lines = splitKeepingEnds(text);
    const close = lines.findIndex((l, i) => i > 0 && /^(---|\.\.\.)[ \t]*(\r?\n)?$/.test(l));
    if (close < 0) throw new Error("the front matter is never closed");
    const keyLine = new RegExp(`^${entry.key}[ \\t]*:`);
    const at = lines.findIndex((l, i) => i > 0 && i < close && keyLine.test(l));
    if (at >= 0) {
      const end = /\r?\n$/.exec(lines[at]!)?.[0] ?? nl;
      lines[at] = `${line}${end}`;
    } else {
      // Last key of the front matter: a top-level key at column 0 ends whatever block came before it.
      lines.splice(close, 0, `${line}${nl}`);
    }
    out = lines.join("");
  }
  const check = parseFrontMatter("", out.replace(/\r\n?/g, "\n"));
  if (check.zhihuId !== entry.articleId) {
    throw new Error(`the front matter would not read back as article ${entry.articleId}`);
  }
  const body = Buffer.from(out, "utf8");
  return bom ? Buffer.concat([BOM, body]) : body;
}

function splitKeepingEnds(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

async function replaceFile(file: string, bytes: Buffer, expected: Buffer): Promise<void> {
  const info = await stat(file);
  if (info.nlink > 1) {
    // A rename would split the hard links into two files; rewriting in place keeps them one.
    const handle = await open(file, "r+");
    try {
      await handle.write(bytes, 0, bytes.length, 0);
      await handle.truncate(bytes.length);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.topn-${process.pid}.tmp`);
  try {
    const handle = await open(tmp, "wx", info.mode & 0o777);
    try {
      await handle.write(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(tmp, info.mode & 0o7777);
    // The last moment to notice an edit made while we wrote: leave the person's version in place.
    if (!(await readFile(file)).equals(expected))
      throw new Error("the file changed while topn was writing to it");
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
