// The throwaway Chrome profile a browser lives in. Each launch gets its own folder in the temp dir (two topn
// processes never share a profile, and no login lingers on disk), removed when the browser goes. A topn that
// is killed cannot remove its own (~6 MB each), and cron jobs cut short by a timeout would fill /tmp over
// months, so every launch also removes the profiles whose topn is gone.

import { rmSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isOwnerDead, newOwnerId } from "../owner.js";

const PREFIX = "topn-chrome-";
/** Names the topn process that made the folder, as `host:pid:tag`. */
const OWNER_FILE = "topn-owner";

export interface TempProfile {
  readonly dir: string;
  remove(): Promise<void>;
  /** For process exit, where nothing asynchronous runs any more. */
  removeSync(): void;
}

export async function makeTempProfile(): Promise<TempProfile> {
  const dir = await mkdtemp(path.join(os.tmpdir(), PREFIX));
  // Written before Chrome starts: a folder without it is someone's launch in progress and is never swept.
  await writeFile(path.join(dir, OWNER_FILE), newOwnerId());
  const options = { recursive: true, force: true, maxRetries: 5, retryDelay: 50 };
  return {
    dir,
    remove: () => rm(dir, options),
    removeSync: () => rmSync(dir, options),
  };
}

/** Removes the temp profiles whose topn process has died on this host. Never throws. */
export async function sweepStaleProfiles(): Promise<void> {
  const tmp = os.tmpdir();
  let names: string[];
  try {
    names = (await readdir(tmp)).filter((name) => name.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(tmp, name);
    try {
      if (!isOwnerDead((await readFile(path.join(dir, OWNER_FILE), "utf8")).trim())) continue;
      await rm(dir, { recursive: true, force: true });
    } catch {
      // Not ours to judge (no owner file, another user's folder) or gone already.
    }
  }
}
