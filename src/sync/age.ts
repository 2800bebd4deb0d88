// How old a post is, to publish a backlog oldest first: the front matter's `date`, else when git last
// committed the file, else its modification time. Git is asked once per repository (one `git log` over the
// folder), not once per file: a folder of 200 posts is one process, not 200.

import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
/** `git log` of a large history can print a lot; more than this is not a blog. */
const GIT_LOG_MAX_BYTES = 256 * 1024 * 1024;

export type AgeSource = "date" | "git" | "mtime";

export interface Age {
  at: number;
  from: AgeSource;
}

/**
 * Last commit time (ms) of every file git knows under `dir`, by absolute path. Empty when `dir` is not in a
 * repository or git fails: the caller falls back to mtimes, which is only a worse order, never an error.
 */
export async function gitCommitTimes(dir: string, toplevel: string): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  let stdout: string;
  try {
    // -z: paths as they are (no quoting of non-ASCII names); newest commit first, so a file's first
    // appearance is its last commit.
    ({ stdout } = await run(
      "git",
      ["log", "--format=%x00T%ct", "--name-only", "-z", "--no-renames", "--", relative(toplevel, dir) || "."],
      { cwd: toplevel, maxBuffer: GIT_LOG_MAX_BYTES },
    ));
  } catch {
    return times;
  }
  let commitAt: number | null = null;
  for (const raw of stdout.split("\0")) {
    const token = raw.replace(/^\n/, "");
    if (token === "") continue;
    const stamp = /^T(\d+)$/.exec(token);
    if (stamp) {
      commitAt = Number(stamp[1]) * 1000;
      continue;
    }
    if (commitAt === null) continue;
    const abs = resolve(toplevel, token.split("/").join(sep));
    if (!times.has(abs)) times.set(abs, commitAt);
  }
  return times;
}

/** The age of one file from what is known: front matter date, git time, mtime. */
export function ageOf(file: string, date: number | undefined, git: ReadonlyMap<string, number>): Age {
  if (date !== undefined) return { at: date, from: "date" };
  const committed = git.get(file);
  if (committed !== undefined) return { at: committed, from: "git" };
  let mtime = 0;
  try {
    mtime = statSync(file).mtimeMs;
  } catch {
    // Gone since it was read: it sorts first, and its task says what happened.
  }
  return { at: mtime, from: "mtime" };
}
