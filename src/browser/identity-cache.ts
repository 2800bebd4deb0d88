// What an installed browser presents (identity.ts), remembered per executable, so that a launch can give it
// to the whole browser from its first request without first launching a plain one to ask (~1 s).
// It is only a cache: a missing, unreadable or outdated entry costs one probe, and the entry is checked
// against the running browser's version on every launch, so an upgraded browser is probed again.

import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import envPaths from "env-paths";
import type { BrowserIdentity } from "./identity.js";

export interface KnownBrowser {
  /** The full version the browser reports (Browser.getVersion), e.g. 156.0.8078.108. */
  version: string;
  /** null: the browser already presents itself as installed (it has a window, or no headless marker). */
  identity: BrowserIdentity | null;
}

/** The user's cache folder for topn: $XDG_CACHE_HOME/topn when set, else the platform's own. */
function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg ? path.join(xdg, "topn") : envPaths("topn", { suffix: "" }).cache;
}

function entryPath(executable: string, env: NodeJS.ProcessEnv): string {
  const key = createHash("sha256").update(executable).digest("hex").slice(0, 16);
  return path.join(cacheDir(env), "browser-identity", `${key}.json`);
}

/** The remembered identity of `executable`, or null when there is none usable. */
export async function readKnownBrowser(
  executable: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KnownBrowser | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(entryPath(executable, env), "utf8"));
  } catch {
    return null; // absent or damaged: probed again, and rewritten
  }
  return isEntry(raw, executable) ? { version: raw.version, identity: raw.identity } : null;
}

/**
 * Remembers what `executable` presents. One file per executable, replaced whole by a rename, so two topn
 * processes probing at once cannot leave a torn file.
 */
export async function rememberBrowser(
  executable: string,
  known: KnownBrowser,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const file = entryPath(executable, env);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(temp, `${JSON.stringify({ executable, ...known }, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, file);
  } catch {
    // A cache that cannot be written (a read-only home, no HOME under cron) is not a failure of the work:
    // this launch has its identity already, and the next one probes again.
    await rm(temp, { force: true }).catch(() => {});
  }
}

interface Entry extends KnownBrowser {
  executable: string;
}

function isEntry(raw: unknown, executable: string): raw is Entry {
  if (typeof raw !== "object" || raw === null) return false;
  const e = raw as Partial<Entry>;
  if (e.executable !== executable || typeof e.version !== "string" || e.version === "") return false;
  if (e.identity === null) return true;
  const id = e.identity as Partial<BrowserIdentity> | undefined;
  return (
    typeof id?.userAgent === "string" &&
    !id.userAgent.includes("Headless") &&
    typeof id.metadata === "object" &&
    id.metadata !== null &&
    Array.isArray(id.metadata.brands)
  );
}
