// Which files of a folder are articles: every `*.md` below it, except hidden folders (`.git`, `.obsidian`,
// `.trash`), `node_modules`, and what `.gitignore` / `.topnignore` files exclude — read with git's own
// semantics (the `ignore` package), nested ones included: a deeper file's rules override a shallower one's,
// and the ignore files of the enclosing git repository above the folder count too.

import { execFile } from "node:child_process";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { promisify } from "node:util";
import ignore, { type Ignore } from "ignore";
import { glob } from "tinyglobby";
import { UsageError } from "../errors.js";

const IGNORE_FILES = [".gitignore", ".topnignore"] as const;
/** Never articles, whatever the ignore files say: hidden folders are skipped by the glob itself. */
const ALWAYS_SKIPPED = ["**/node_modules/**"];

const run = promisify(execFile);

export interface Discovered {
  /** Absolute paths of the Markdown files, each once: real files first, then symlinks, each sorted (a file
   * and a link to it are one article, shown under the file's own name). */
  files: string[];
  /** The folders as absolute paths (what `deleted` is judged against). */
  roots: string[];
  /** The git repository holding each root, if any (for commit times). */
  gitRoots: Map<string, string | null>;
}

/** A set of rules from one ignore file: they apply to paths below `dir`. */
interface RuleSet {
  dir: string;
  rules: Ignore;
}

export async function discover(dirs: readonly string[], cwd: string): Promise<Discovered> {
  const roots: string[] = [];
  for (const d of dirs) {
    const abs = resolve(cwd, d);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw new UsageError(`${d}: no such folder`, "check the path");
    }
    if (!isDir)
      throw new UsageError(`${d} is a file, not a folder`, `publish one file with: topn publish ${d}`);
    if (!roots.includes(abs)) roots.push(abs);
  }
  const gitRoots = new Map<string, string | null>();
  const files = new Set<string>();
  for (const root of roots) {
    const git = await gitToplevel(root);
    gitRoots.set(root, git);
    const sets = await ruleSets(root, git);
    const found = await glob("**/*.md", {
      cwd: root,
      absolute: true,
      onlyFiles: true,
      dot: false,
      followSymbolicLinks: true,
      ignore: ALWAYS_SKIPPED,
    });
    for (const f of found) if (!isIgnored(resolve(f), sets)) files.add(resolve(f));
  }
  // Reached through a symlink (the file itself, or a folder on the way): shown only if nothing else is it.
  const link = (f: string) => {
    try {
      return realpathSync.native(f) === f ? 0 : 1;
    } catch {
      return 1;
    }
  };
  const sorted = [...files].sort((a, b) => link(a) - link(b) || (a < b ? -1 : a > b ? 1 : 0));
  return { files: sorted, roots, gitRoots };
}

/**
 * Whether `file` is ignored: the ignore files that hold it are read from the shallowest to the deepest, and
 * the last one with an opinion (a match, or a `!` re-inclusion) decides — as git does.
 */
export function isIgnored(file: string, sets: readonly RuleSet[]): boolean {
  let ignored = false;
  for (const s of sets) {
    const rel = relative(s.dir, file);
    if (rel.startsWith("..") || rel === "") continue;
    const verdict = s.rules.test(rel.split(sep).join("/"));
    if (verdict.ignored) ignored = true;
    else if (verdict.unignored) ignored = false;
  }
  return ignored;
}

/** Rules from ignore files inside `root` and in its ancestors up to the git repository's top. */
async function ruleSets(root: string, git: string | null): Promise<RuleSet[]> {
  const dirs: string[] = [];
  if (git !== null) {
    for (let d = dirname(root); d.startsWith(git) && d !== dirname(d); d = dirname(d)) {
      dirs.unshift(d);
      if (d === git) break;
    }
  }
  const inside = await glob(
    IGNORE_FILES.map((n) => `**/${n}`),
    {
      cwd: root,
      absolute: true,
      dot: true,
      onlyFiles: true,
      followSymbolicLinks: true,
      // Hidden folders are never synced, so their ignore files cannot matter.
      ignore: ["**/.*/**", ...ALWAYS_SKIPPED],
    },
  );
  const sets: RuleSet[] = [];
  for (const d of dirs) for (const n of IGNORE_FILES) addSet(sets, join(d, n));
  for (const f of inside.map((f) => resolve(f)).sort(byDepth)) addSet(sets, f);
  return sets;
}

function addSet(sets: RuleSet[], file: string): void {
  if (!existsSync(file)) return;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(
      `${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      "fix its permissions",
    );
  }
  sets.push({ dir: dirname(file), rules: ignore().add(text) });
}

/** Shallower first; within a folder, .gitignore before .topnignore (topn's own rules have the last word). */
function byDepth(a: string, b: string): number {
  const da = a.split(sep).length;
  const db = b.split(sep).length;
  if (da !== db) return da - db;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The top of the git work tree holding `dir`, or null (not a repository, or no git installed). */
export async function gitToplevel(dir: string): Promise<string | null> {
  try {
    const { stdout } = await run("git", ["rev-parse", "--show-toplevel"], { cwd: dir });
    const top = stdout.trim();
    return top === "" ? null : resolve(top);
  } catch {
    return null;
  }
}
