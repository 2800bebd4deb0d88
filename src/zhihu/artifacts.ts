// What a failed publish leaves behind for `topn show`: the page as it looked, its HTML and the last API
// exchange, with every secret hidden. Writing them must never hide the failure itself: each file is best
// effort and bounded in time.

import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "puppeteer-core";
import { REDACTED, redact, redactValue } from "../redact.js";
import type { Exchange } from "./api.js";

const STEP_TIMEOUT_MS = 5_000;
/** Shorter values are not worth scrubbing by value (they would match ordinary text). */
const MIN_SECRET_CHARS = 6;

interface ArtifactInput {
  page: Page | null;
  exchange: Exchange | null;
  /** Values that must not appear in any file whatever their shape (the account's cookie values). */
  secrets: readonly string[];
}

/** Hides known secret shapes, then every listed secret value (also URL-encoded) wherever it is. */
function scrub(text: string, secrets: readonly string[]): string {
  let out = redact(text);
  for (const s of secrets) {
    if (s.length < MIN_SECRET_CHARS) continue;
    for (const form of new Set([s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)])) {
      out = out.split(form).join(REDACTED);
    }
  }
  return out;
}

/** Writes screenshot.png, page.html and last-exchange.json into `dir`; returns the files written. */
export async function writeArtifacts(dir: string, input: ArtifactInput): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const put = async (name: string, make: () => Promise<string | Uint8Array | null>): Promise<void> => {
    try {
      const data = await bounded(make());
      if (data === null) return;
      await writeFile(path.join(dir, name), data, { mode: 0o600 });
      written.push(name);
    } catch {
      // A page that is gone or wedged has nothing to show; the other files still help.
    }
  };
  const page = input.page && !input.page.isClosed() ? input.page : null;
  await put("screenshot.png", async () => (page ? await page.screenshot({ type: "png" }) : null));
  await put("page.html", async () => (page ? scrub(await page.content(), input.secrets) : null));
  await put("last-exchange.json", async () =>
    input.exchange ? scrub(`${JSON.stringify(redactValue(input.exchange), null, 2)}\n`, input.secrets) : null,
  );
  return written;
}

function bounded<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), STEP_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}
