// Which file is this, really? A symlink and its target, two hard links, a path typed in another case on a
// case-insensitive disk, a file moved since it was published: each must find the same article.

import { realpathSync, statSync } from "node:fs";
import type { ArticleRecord } from "../store/types.js";

export interface FileIdentity {
  /** The path with symlinks resolved and its case as on disk. */
  real: string;
  /** dev:ino — one file behind several names (hard links). */
  fileId: string;
}

export function identify(abs: string): FileIdentity {
  const real = realpathSync.native(abs);
  const st = statSync(real);
  return { real, fileId: `${st.dev}:${st.ino}` };
}

export interface Aliases {
  /** Other paths the database may know this file by (hard links now, or where it was moved from). */
  paths: string[];
  /** Set when the file was moved: the article it was published as. */
  movedFrom?: ArticleRecord;
  /** An article whose file is gone and whose title this file has, but not its content: maybe a moved file
   * that was also edited. Not used as the identity (a guess must not update an article), only warned about. */
  lookalike?: ArticleRecord;
}

/**
 * What else this file may be known as, among the account's articles whose file is not this path: a path
 * that is the same file right now (a hard link), or a path that is gone and whose published content this file
 * has byte for byte (a rename or move without write-back).
 */
export function findAliases(
  me: FileIdentity,
  content: { contentHash: string; digest: string; title: string },
  articles: readonly ArticleRecord[],
): Aliases {
  const out: Aliases = { paths: [] };
  const moved: ArticleRecord[] = [];
  for (const a of articles) {
    if (a.file === null || a.file === me.real) continue;
    let other: FileIdentity | null;
    try {
      other = identify(a.file);
    } catch {
      other = null;
    }
    if (other?.fileId === me.fileId) out.paths.push(a.file);
    else if (other === null && (a.contentHash === content.contentHash || a.digest === content.digest))
      moved.push(a);
    else if (other === null && a.title === content.title) out.lookalike ??= a;
  }
  // Two gone files with this very content: which one moved here cannot be told, so neither is assumed.
  if (moved.length === 1) {
    out.movedFrom = moved[0]!;
    out.paths.push(moved[0]!.file!);
  }
  return out;
}
