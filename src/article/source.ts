// Reading the Markdown file itself: every way a path can fail to be a readable UTF-8 text file
// becomes a one-line UsageError naming the file and the fix.

import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";

export interface SourceFile {
  abs: string;
  /** The path as the person gave it. */
  display: string;
  bytes: Buffer;
  /** Decoded text, BOM removed, line endings normalised to LF. */
  text: string;
}

/** Bytes sniffed for NUL: text editors never write one, binary formats nearly always do early on. */
const BINARY_SNIFF_BYTES = 8000;

/** `file` is named in messages as given; a relative one is resolved against `cwd`. */
export async function readSource(file: string, cwd: string = process.cwd()): Promise<SourceFile> {
  const abs = path.resolve(cwd, file);
  const display = file;
  let bytes: Buffer;
  try {
    const info = await stat(abs);
    if (info.isDirectory()) {
      throw new UsageError(`${display}: is a directory, not a Markdown file`, "pass the path of a .md file");
    }
    bytes = await readFile(abs);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw fsError(display, error);
  }
  if (bytes.length === 0) {
    throw new UsageError(`${display}: file is empty`, "write the article first: a title and a body");
  }
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
    throw new UsageError(`${display}: looks like a binary file, not Markdown`, "pass the article's .md file");
  }
  const bad = firstInvalidUtf8Line(bytes);
  if (bad !== 0) {
    throw new UsageError(
      `${display}:${bad}: file is not valid UTF-8`,
      "re-save the file as UTF-8 (e.g. iconv -f GBK -t UTF-8)",
    );
  }
  let text = bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = text.replace(/\r\n?/g, "\n");
  if (text.trim() === "") {
    throw new UsageError(
      `${display}: file has only whitespace`,
      "write the article first: a title and a body",
    );
  }
  return { abs, display, bytes, text };
}

function fsError(display: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT")
    return new UsageError(`${display}: file not found`, "check the path and its spelling");
  if (code === "ENOTDIR") {
    return new UsageError(`${display}: file not found (a parent is not a folder)`, "check the path");
  }
  if (code === "EACCES" || code === "EPERM") {
    return new UsageError(`${display}: file cannot be read (permission denied)`, `run: chmod u+r ${display}`);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new UsageError(`${display}: file cannot be read: ${reason}`, "check the path and its permissions");
}

/** 1-based line of the first invalid UTF-8 sequence, 0 when the whole file is valid. */
function firstInvalidUtf8Line(bytes: Buffer): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    decoder.decode(bytes);
    return 0;
  } catch {
    // A newline byte is never part of a multi-byte sequence, so decoding line by line finds the culprit.
    let line = 1;
    let start = 0;
    while (start <= bytes.length) {
      let end = bytes.indexOf(0x0a, start);
      if (end === -1) end = bytes.length;
      try {
        decoder.decode(bytes.subarray(start, end));
      } catch {
        return line;
      }
      line++;
      start = end + 1;
    }
    return 1;
  }
}
