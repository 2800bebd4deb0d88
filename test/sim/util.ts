// Small helpers shared by the simulator's modules.

import { createHash, randomBytes } from "node:crypto";
import { imageSize } from "image-size";

export const md5 = (data: Buffer | string): string => createHash("md5").update(data).digest("hex");

export const randomHex = (bytes: number): string => randomBytes(bytes).toString("hex");

export const randomB64 = (bytes: number): string => randomBytes(bytes).toString("base64");

export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** How long the cookies a login sets live, in seconds. */
export const LOGIN_COOKIE_SEC = 180 * 24 * 3600;

export const dc0Value = (): string => `${randomB64(24)}|${nowSec()}`;

export const qc1Value = (): string => `${randomHex(16)}|${Date.now()}|${Date.now()}`;

export function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A `<script>`-safe JSON text: `</script>` inside strings cannot close the element. */
export function scriptJson(json: string): string {
  return json.replace(/</g, "\\u003c");
}

/**
 * JSON.stringify where the article ids wrapped by `bare()` come out as bare numbers (above 2^53, as the real
 * site sends them), so a client that reaches for JSON.parse without care loses precision, like Zhihu's own.
 */
export function stringifyWithBareIds(value: unknown): string {
  // JSON.stringify writes the marker's NUL as the six characters \u0000.
  return JSON.stringify(value).replace(/"\\u0000bare:(\d+)"/g, "$1");
}

export const bare = (digits: string): string => `\u0000bare:${digits}`;

/** mulberry32: a tiny seeded PRNG so fault injection is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Type and size of raster image bytes, or null for anything Zhihu would not take (SVG included). */
export function imageInfo(bytes: Buffer): { ext: string; width: number; height: number } | null {
  try {
    const { type, width, height } = imageSize(bytes);
    if (!type || !(type in CONTENT_TYPES)) return null;
    return { ext: type, width, height };
  } catch {
    return null;
  }
}

/**
 * What Zhihu's sanitiser is guessed to do to emoji (zhihu.md: "some emoji are filtered"; see README.md):
 * flags (regional indicator pairs), skin-tone modifiers, zero-width joiners between emoji and tag
 * characters are removed from saved text.
 */
export function zhihuFilterEmoji(text: string): string {
  return text
    .replace(/[\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]/gu, "")
    .replace(/(\p{Extended_Pictographic}\uFE0F?)\u200D(?=\p{Extended_Pictographic})/gu, "$1");
}

export const CONTENT_TYPES: Record<string, string> = {
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  jpg: "image/jpeg",
};
