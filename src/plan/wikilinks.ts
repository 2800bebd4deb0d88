// Which note a wiki link names, and that note's Zhihu article. A note is a Markdown file of the folders being
// published, known by its file name (`[[Note]]`, `[[folder/Note]]`) or its front-matter title, matched without
// regard to case as Obsidian does. Two notes of one name: the one beside the linking file wins, else the link
// is ambiguous and stays text (a guess would link the wrong article). The article is the one the database
// recorded for the note's file, or for the article id its front matter names.

import { readdir, readFile, realpath } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { parseFrontMatter } from "../article/frontmatter.js";
import type { WikiResolver, WikiTarget } from "../article/wikilinks.js";
import type { ArticleRecord, Store } from "../store/types.js";
import { displayFile } from "../ui/format.js";

interface Note {
  /** The file as found (absolute). */
  file: string;
  /** Its real path (what the database records). */
  real: string;
  /** Path below its folder, without `.md`, `/`-separated, lower case. */
  key: string;
  name: string;
  title: string | null;
  articleId: string | null;
}

export interface NoteSource {
  file: string;
  real: string;
  /** The folder it was found in (what `[[folder/Note]]` is relative to). */
  root: string;
}

const fold = (s: string): string => s.trim().toLowerCase().replace(/\\/g, "/");

export class WikiLinks {
  /** Per linking file: the notes it names that are in the folders but have no article yet. */
  private readonly unpublished = new Map<string, Set<string>>();

  private constructor(
    private readonly notes: readonly Note[],
    private readonly urls: ReadonlyMap<string, string>,
    private readonly byId: ReadonlyMap<string, string>,
    private readonly cwd: string,
  ) {}

  /** Reads each note's front matter (title, article id); a file that does not parse is known by name only. */
  static async build(
    sources: readonly NoteSource[],
    records: readonly ArticleRecord[],
    cwd: string,
  ): Promise<WikiLinks> {
    const notes: Note[] = [];
    for (const s of sources) {
      let title: string | null = null;
      let articleId: string | null = null;
      try {
        const text = (await readFile(s.file, "utf8")).replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
        const fm = parseFrontMatter(s.file, text);
        title = fm.title ?? null;
        articleId = fm.zhihuId ?? null;
      } catch {
        // Unreadable or invalid: the plan reports it; here it is still a note by its name.
      }
      const rel = relative(s.root, s.file).split(sep).join("/");
      notes.push({
        file: s.file,
        real: s.real,
        key: fold(rel.replace(/\.md$/i, "")),
        name: fold(basename(s.file).replace(/\.md$/i, "")),
        title: title === null ? null : fold(title),
        articleId,
      });
    }
    const urls = new Map<string, string>();
    const byId = new Map<string, string>();
    for (const r of records) {
      if (r.state !== "published" || r.url === null) continue;
      byId.set(r.articleId, r.url);
      if (r.file !== null) urls.set(r.file, r.url);
    }
    return new WikiLinks(notes, urls, byId, cwd);
  }

  /** The resolver for links written in `file`. */
  resolverFor(file: string): WikiResolver {
    const pending = new Set<string>();
    this.unpublished.set(file, pending);
    return (name) => this.resolve(file, name, pending);
  }

  /** Real paths of the notes `file`'s links named that had no article when it was resolved. */
  waitsFor(file: string): ReadonlySet<string> {
    return this.unpublished.get(file) ?? new Set();
  }

  private resolve(from: string, name: string, pending: Set<string>): WikiTarget {
    const wanted = fold(name.replace(/\.md$/i, ""));
    let found = wanted.includes("/")
      ? this.notes.filter((n) => n.key === wanted || n.key.endsWith(`/${wanted}`))
      : this.notes.filter((n) => n.name === wanted || n.title === wanted);
    found = [...new Map(found.map((n) => [n.real, n])).values()];
    if (found.length > 1) {
      const beside = found.filter((n) => dirname(n.file) === dirname(from));
      if (beside.length === 1) found = beside;
    }
    if (found.length === 0) return { reason: "names no note in the folders being published" };
    if (found.length > 1) {
      const where = found.map((n) => displayFile(n.file, this.cwd)).join(", ");
      return { reason: `is ambiguous (${where}): name the folder too, e.g. [[folder/${name}]]` };
    }
    const note = found[0]!;
    const url =
      this.urls.get(note.real) ?? (note.articleId === null ? undefined : this.byId.get(note.articleId));
    if (url !== undefined) return { url };
    if (note.real !== from) pending.add(note.real);
    return {
      reason: `names ${displayFile(note.file, this.cwd)}, which has no Zhihu article yet (it becomes a link once that note is published)`,
    };
  }
}

/**
 * For `topn publish`: the notes are the files published and the Markdown files beside them. Nothing is read
 * beyond the files themselves unless one of them has a wiki link.
 */
export async function wikiLinksNear(
  files: readonly string[],
  where: { store: Store; platform: string; account: string; cwd: string },
): Promise<WikiLinks | undefined> {
  const texts = await Promise.all(files.map((f) => readFile(f, "utf8").catch(() => "")));
  if (!texts.some((t) => t.includes("[["))) return undefined;
  const notes = new Set(files);
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => []))
      if (e.isFile() && e.name.toLowerCase().endsWith(".md")) notes.add(join(dir, e.name));
  }
  const sources: NoteSource[] = [];
  for (const file of notes)
    sources.push({ file, real: await realpath(file).catch(() => file), root: dirname(file) });
  const records = await where.store.tasks.articles(where.platform, where.account);
  return WikiLinks.build(sources, records, where.cwd);
}
