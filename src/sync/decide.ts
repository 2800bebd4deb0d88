// What a sync does with each file, decided from the plan (offline checks and identity) and what the database
// remembers — the same rules the store's enqueue applies inside its transaction, so the plan printed before
// anything is written (and all of `--dry-run`) says what enqueue will then do:
//   new        no article known for the file's identity: publish
//   changed    its article is known and what would be published (articleDigest) differs: update it
//   unchanged  the digest equals what was last published
//   queued     a task of an earlier sync (or publish) is already queued or running for it: resumed, never twice
//   draft      the front matter says draft: skipped
//   invalid    fails the checks: reported with file:line and the fix; the other files still sync
//   deleted    an article whose file was in these folders and is gone, and no file here is it now (moved,
//              or naming it in its front matter): reported, never unpublished

import { realpathSync } from "node:fs";
import { sep } from "node:path";
import type { UsageError } from "../errors.js";
import type { PlannedFile } from "../plan/plan.js";
import { articleKey, pathKey } from "../store/identity.js";
import type { ArticleRecord, NewTask, Task } from "../store/types.js";
import type { Age } from "./age.js";

export type SyncStatus = "new" | "changed" | "unchanged" | "queued" | "draft" | "invalid" | "deleted";

export const STATUS_ORDER: readonly SyncStatus[] = [
  "new",
  "changed",
  "queued",
  "unchanged",
  "draft",
  "invalid",
  "deleted",
];

export interface SyncRow {
  status: SyncStatus;
  /** The file as shown (relative to the working folder when inside it). */
  display: string;
  /** Absolute path as found (for deleted: the real path the database recorded). */
  file: string;
  title: string | null;
  /** The article it is (changed, unchanged, deleted, a queued update). */
  article: { id: string; url: string | null } | null;
  /** new/changed: the task to enqueue, in publishing order. */
  task?: NewTask;
  /** queued: the task already there. */
  existing?: Task;
  age?: Age;
  /** invalid: what is wrong, where, and the fix. */
  problem?: UsageError;
  /** draft: the key that says so, and its line. */
  draft?: { key: string; line: number };
}

export interface DecideInput {
  plan: readonly PlannedFile[];
  /** Absolute path of each planned file, by its display name. */
  fileOf: (display: string) => string;
  ageOf: (file: string, p: Extract<PlannedFile, { kind: "ready" }>) => Age;
  records: readonly ArticleRecord[];
  /** Queued and running tasks of this platform and account. */
  active: readonly Task[];
  /** The synced folders (absolute). */
  roots: readonly string[];
  exists: (file: string) => boolean;
  /** How a file the database names is shown (relative to the working folder). */
  display: (file: string) => string;
}

export function decide(input: DecideInput): SyncRow[] {
  const byId = new Map(input.records.map((r) => [r.articleId, r]));
  const byFile = new Map<string, ArticleRecord>();
  // Newest record wins for a file, as the store's lookup by file does.
  for (const r of [...input.records].sort((a, b) => a.publishedAt - b.publishedAt))
    if (r.file !== null) byFile.set(r.file, r);
  const activeBy = new Map(input.active.map((t) => [t.identity, t]));
  const claimed = new Set<string>();
  const rows: SyncRow[] = [];

  for (const p of input.plan) {
    if (p.kind === "same") continue;
    const file = input.fileOf(p.display);
    if (p.kind === "invalid") {
      rows.push({
        status: "invalid",
        display: p.display,
        file,
        title: null,
        article: null,
        problem: p.error,
      });
      continue;
    }
    if (p.kind === "draft") {
      rows.push({
        status: "draft",
        display: p.display,
        file,
        title: null,
        article: null,
        draft: { key: p.key, line: p.line },
      });
      continue;
    }
    const t = p.task;
    const record = t.articleId
      ? byId.get(t.articleId)
      : [t.file, ...(t.aliases ?? [])].map((f) => byFile.get(f)).find((r) => r !== undefined);
    const articleId = t.articleId ?? record?.articleId ?? null;
    if (articleId !== null) claimed.add(articleId);
    const identity = articleId !== null ? articleKey(articleId) : pathKey(t.file);
    const base = {
      display: p.display,
      file,
      title: p.article.title,
      article: articleId === null ? null : { id: articleId, url: record?.url ?? null },
      age: input.ageOf(file, p),
    };
    const existing = activeBy.get(identity);
    if (existing) rows.push({ ...base, status: "queued", existing, task: t });
    else if (record && record.digest === t.digest && record.state === "published")
      rows.push({ ...base, status: "unchanged", task: t });
    else rows.push({ ...base, status: articleId === null ? "new" : "changed", task: t });
  }

  const roots = input.roots.map(real);
  for (const r of input.records) {
    if (r.file === null || claimed.has(r.articleId)) continue;
    if (!roots.some((root) => r.file!.startsWith(root + sep))) continue;
    if (input.exists(r.file)) continue;
    rows.push({
      status: "deleted",
      display: input.display(r.file),
      file: r.file,
      title: r.title,
      article: { id: r.articleId, url: r.url },
    });
  }
  return order(rows);
}

/**
 * Work first: updates (readers of the live version are waiting), then new files oldest first (a backlog goes
 * out in the order it was written); then the rest by status and file.
 */
export function order(rows: readonly SyncRow[]): SyncRow[] {
  const rank = (s: SyncStatus) => STATUS_ORDER.indexOf(s);
  return [...rows].sort((a, b) => {
    const byStatus = workRank(a.status) - workRank(b.status) || rank(a.status) - rank(b.status);
    if (byStatus !== 0) return byStatus;
    if (a.status === "new" || a.status === "changed") {
      const d = (a.age?.at ?? 0) - (b.age?.at ?? 0);
      if (d !== 0) return d;
    }
    return a.display < b.display ? -1 : a.display > b.display ? 1 : 0;
  });
}

const workRank = (s: SyncStatus): number => (s === "changed" ? 0 : s === "new" ? 1 : 2);

export type SyncCounts = Record<SyncStatus, number>;

export function countRows(rows: readonly SyncRow[]): SyncCounts {
  const counts = Object.fromEntries(STATUS_ORDER.map((s) => [s, 0])) as SyncCounts;
  for (const r of rows) counts[r.status]++;
  return counts;
}

function real(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}
