// Images an article uses: found on disk or downloaded (Zhihu's own re-hosting by URL fails for many
// hosts), then checked — type by the bytes, size, dimensions — before anything is enqueued.
// Two kinds of remote image are not downloaded: one on zhimg.com is Zhihu's already and is used as it is;
// one that cannot be downloaded now (its host is down, refuses us, answers with something that is not a
// picture) is a warning, and Zhihu is asked to fetch it itself when publishing. A missing or unreadable
// local file, or a picture of a kind Zhihu refuses, is an error.

import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { imageSize } from "image-size";
import { UsageError } from "../errors.js";
import type { ImageAsset } from "./types.js";

/** Zhihu's editor refuses larger uploads; no better public figure was found. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
export const DOWNLOAD_TIMEOUT_MS = 30_000;
/** Downloads at once: enough to hide latency, few enough not to look like a crawler. */
const PARALLEL_LOADS = 4;

const ACCEPTED: Record<string, { mime: string; ext: string }> = {
  png: { mime: "image/png", ext: "png" },
  jpg: { mime: "image/jpeg", ext: "jpg" },
  gif: { mime: "image/gif", ext: "gif" },
  webp: { mime: "image/webp", ext: "webp" },
};

export interface ImageRef {
  /** As written in the Markdown (markdown-it normalises it to a percent-encoded URL). */
  src: string;
  /** 1-based file line, for messages. */
  line: number;
}

export interface LoadContext {
  /** The Markdown file as named in messages. */
  display: string;
  /** Folder relative paths are resolved against. */
  baseDir: string;
  fetch: typeof fetch;
  signal?: AbortSignal;
}

type Location =
  | { kind: "file"; path: string }
  | { kind: "url"; url: string }
  | { kind: "data"; bytes: Buffer };

export interface LoadedImages {
  /** `src` → its asset. */
  assets: Map<string, ImageAsset>;
  /** "file:line: …" for each remote image left for Zhihu to fetch, in document order. */
  warnings: string[];
}

/** Loads every distinct `src`, at most a few at a time; the first failure in document order is thrown. */
export async function loadImages(refs: readonly ImageRef[], ctx: LoadContext): Promise<LoadedImages> {
  const first = new Map<string, ImageRef>();
  for (const ref of refs) if (!first.has(ref.src)) first.set(ref.src, ref);
  const unique = [...first.values()];
  const results: (PromiseSettledResult<Loaded> | undefined)[] = new Array(unique.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      const i = next++;
      try {
        results[i] = { status: "fulfilled", value: await loadImage(unique[i]!, ctx) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LOADS, unique.length) }, worker));

  const bySrc = new Map<string, ImageAsset>();
  const byHash = new Map<string, ImageAsset>();
  const warnings: string[] = [];
  unique.forEach((ref, i) => {
    const result = results[i]!;
    if (result.status === "rejected") throw result.reason;
    // The same bytes under two names are one asset: uploaded once, one id.
    const asset = byHash.get(result.value.asset.id) ?? result.value.asset;
    byHash.set(asset.id, asset);
    bySrc.set(ref.src, asset);
    if (result.value.problem !== undefined) warnings.push(result.value.problem);
  });
  return { assets: bySrc, warnings };
}

interface Loaded {
  asset: ImageAsset;
  /** Why a remote image is left for Zhihu to fetch. */
  problem?: string;
}

async function loadImage(ref: ImageRef, ctx: LoadContext): Promise<Loaded> {
  const where = `${ctx.display}:${ref.line}`;
  const location = locate(ref, ctx, where);
  if (location.kind === "file") {
    return { asset: describe(await readLocal(location.path, ref, where), location.path, ref, where) };
  }
  if (location.kind === "data")
    return { asset: describe(location.bytes, `${ref.src.slice(0, 40)}…`, ref, where) };
  const url = location.url;
  if (isZhimg(url)) return { asset: byAddress(url.replace(/^http:/i, "https:"), "zhimg") };
  const rehost = (problem: string): Loaded => ({
    asset: byAddress(url, "rehost"),
    problem: `${where}: cannot download image ${url} (${problem}): Zhihu will be asked to fetch it when publishing`,
  });
  let bytes: Buffer;
  try {
    bytes = await download(url, ctx, where);
  } catch (error) {
    if (error instanceof Unreachable) return rehost(error.message);
    throw error;
  }
  // A host that answers a picture's address with a page (hotlink protection, a login wall) did not give us
  // the picture; Zhihu's own fetch may still get it.
  if (!isPicture(bytes)) return rehost("the answer is not a picture");
  return { asset: describe(bytes, url, ref, where) };
}

/** A download that failed in a way that says nothing about the image: the host is down, refuses us… */
class Unreachable extends Error {}

function isPicture(bytes: Buffer): boolean {
  try {
    imageSize(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Zhihu's own image hosts: an image there is referenced as it is. */
export function isZhimg(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host === "zhimg.com" || host.endsWith(".zhimg.com");
  } catch {
    return false;
  }
}

/** An image known only by its address. Its id stands for the address (nothing else is known of it). */
function byAddress(url: string, delivery: "zhimg" | "rehost"): ImageAsset {
  const ext = /\.(png|jpe?g|gif|webp)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase().replace("jpeg", "jpg") ?? "";
  return {
    id: `url-${createHash("md5").update(url).digest("hex")}`,
    source: url,
    bytes: Buffer.alloc(0),
    mime: ACCEPTED[ext]?.mime ?? "",
    ext,
    width: 0,
    height: 0,
    delivery,
  };
}

function locate(ref: ImageRef, ctx: LoadContext, where: string): Location {
  const src = ref.src.trim();
  if (src === "") throw new UsageError(`${where}: image has no path`, "write ![caption](path/to/image.png)");
  if (src.startsWith("//")) return { kind: "url", url: `https:${src}` };
  if (/^https?:/i.test(src)) return { kind: "url", url: src };
  if (/^data:/i.test(src)) {
    const match = /^data:[^,;]*(;base64)?,(.*)$/is.exec(src);
    if (!match)
      throw new UsageError(
        `${where}: image data: URL cannot be read`,
        "save the image as a file and link it",
      );
    const payload = match[2] ?? "";
    return {
      kind: "data",
      bytes: match[1] ? Buffer.from(payload, "base64") : Buffer.from(decodeURIComponent(payload), "latin1"),
    };
  }
  if (/^file:/i.test(src)) return { kind: "file", path: fileURLToPath(src) };
  if (/^[a-z][a-z0-9+.-]*:/i.test(src) && !/^[a-z]:[\\/]/i.test(src)) {
    throw new UsageError(
      `${where}: image address ${src} is neither a file nor an http(s) URL`,
      "use a local path or an https:// URL",
    );
  }
  return { kind: "file", path: path.resolve(ctx.baseDir, decodeSafe(src.replace(/[?#].*$/, ""))) };
}

async function readLocal(file: string, ref: ImageRef, where: string): Promise<Buffer> {
  const hint = "fix the path: relative paths are resolved against the Markdown file's folder";
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new UsageError(`${where}: image ${ref.src} is a folder, not a file`, hint);
    if (info.size > MAX_IMAGE_BYTES) throw tooLarge(where, ref.src, info.size);
    return await readFile(file);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new UsageError(`${where}: image not found: ${decodeSafe(ref.src)} (looked for ${file})`, hint);
    }
    throw new UsageError(
      `${where}: image ${decodeSafe(ref.src)} cannot be read: ${(error as Error).message}`,
      "check the file's permissions",
    );
  }
}

async function download(url: string, ctx: LoadContext, where: string): Promise<Buffer> {
  const signals = [AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)];
  if (ctx.signal) signals.push(ctx.signal);
  const signal = AbortSignal.any(signals);
  try {
    const response = await ctx.fetch(url, { signal, redirect: "follow", headers: { accept: "image/*" } });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new Unreachable(`HTTP ${response.status} ${response.statusText}`.trimEnd());
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > MAX_IMAGE_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge(where, url, declared);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.byteLength;
        // Stop reading a response that lies about (or omits) its length as soon as it passes the limit.
        if (total > MAX_IMAGE_BYTES) throw tooLarge(where, url, MAX_IMAGE_BYTES, true);
        chunks.push(Buffer.from(chunk));
      }
    }
    return Buffer.concat(chunks);
  } catch (error) {
    if (error instanceof UsageError || error instanceof Unreachable) throw error;
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${DOWNLOAD_TIMEOUT_MS / 1000} s`
        : causeOf(error);
    throw new Unreachable(reason);
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

function tooLarge(where: string, src: string, size: number, atLeast = false): UsageError {
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return new UsageError(
    `${where}: image too large: ${decodeSafe(src)} is ${atLeast ? "over " : ""}${mb(size)}, Zhihu accepts up to ${mb(MAX_IMAGE_BYTES)}`,
    "compress or resize it (e.g. save as JPEG at quality 85)",
  );
}

/** A literal % in a file name is not an escape: then the text is used as written. */
function decodeSafe(src: string): string {
  try {
    return decodeURI(src);
  } catch {
    return src;
  }
}

/** Sniffs the type from the bytes (never the name) and reads the dimensions. */
export function describe(bytes: Buffer, source: string, ref: ImageRef, where: string): ImageAsset {
  const label = ref.src.startsWith("data:") ? "data: URL" : ref.src;
  const name = decodeSafe(label);
  if (bytes.length > MAX_IMAGE_BYTES) throw tooLarge(where, label, bytes.length);
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch {
    throw new UsageError(
      `${where}: unsupported image type: ${name} is not a PNG, JPEG, GIF or WebP image`,
      "convert it to PNG or JPEG",
    );
  }
  if (size.type === "svg") {
    throw new UsageError(`${where}: SVG images are not supported by Zhihu: ${name}`, "export it as PNG");
  }
  const accepted = ACCEPTED[size.type ?? ""];
  if (accepted === undefined) {
    throw new UsageError(
      `${where}: unsupported image type ${size.type?.toUpperCase()}: ${name} (Zhihu takes PNG, JPEG, GIF, WebP)`,
      "convert it to PNG or JPEG",
    );
  }
  if (!(size.width > 0 && size.height > 0)) {
    throw new UsageError(
      `${where}: image ${name} has no width or height (damaged file?)`,
      "re-export the image",
    );
  }
  // EXIF orientations 5–8 rotate by 90°: the picture people see is the other way round.
  const rotated = (size.orientation ?? 1) >= 5;
  return {
    id: createHash("md5").update(bytes).digest("hex"),
    source,
    bytes,
    mime: accepted.mime,
    ext: accepted.ext,
    width: rotated ? size.height : size.width,
    height: rotated ? size.width : size.height,
  };
}
