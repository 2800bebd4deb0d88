// Small helpers shared by the simulator's modules.

import { createHash, randomBytes } from "node:crypto";

export const md5 = (data: Buffer | string): string => createHash("md5").update(data).digest("hex");

export const randomHex = (bytes: number): string => randomBytes(bytes).toString("hex");

export const randomB64 = (bytes: number): string => randomBytes(bytes).toString("base64");

export const nowSec = (): number => Math.floor(Date.now() / 1000);

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
  return JSON.stringify(value).replace(/"\u0000bare:(\d+)"/g, "$1");
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

export function imageExtension(bytes: Buffer): string {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "png";
  if (bytes.subarray(0, 3).toString("latin1") === "GIF") return "gif";
  if (bytes.subarray(0, 4).toString("latin1") === "RIFF" && bytes.subarray(8, 12).toString("latin1") === "WEBP")
    return "webp";
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "jpg";
  return "";
}

export const CONTENT_TYPES: Record<string, string> = {
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  jpg: "image/jpeg",
};
