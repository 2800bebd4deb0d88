// `topn sync DIR…` below the command line: find the files, plan them (the same plan as `publish`), decide
// each one's fate, enqueue what has work in publishing order, and let the caller drive the runner. Files whose
// wiki links name notes this very sync publishes first wait for those, and are planned again once they are
// live, so the first sync of a vault links its notes instead of updating them all on the next one.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { writeBack } from "../article/writeback.js";
import { identify } from "../plan/file-identity.js";
import { planFiles } from "../plan/plan.js";
import { WikiLinks } from "../plan/wikilinks.js";
import type { PlatformModule } from "../platform.js";
import type { Store, Task } from "../store/types.js";
import { displayFile } from "../ui/format.js";
import { ageOf, gitCommitTimes } from "./age.js";
import { decide, type SyncRow } from "./decide.js";
import { type Discovered, discover } from "./discover.js";

export interface SyncSettings {
  cwd: string;
  home: string;
  env: NodeJS.ProcessEnv;
  store: Store;
  platform: PlatformModule;
  account: string;
  /** `--at`: every file runs then, whatever its date says. */
  at: number | null;
  writeBack: boolean;
  maxAttempts: number;
  /** Notices that belong to no file (the credential store in use, …). */
  warn: (message: string) => void;
  signal?: AbortSignal;
}

export interface SyncPlan {
  rows: SyncRow[];
  /** `file:line: …` warnings of each file, by its display name. */
  warnings: Map<string, string[]>;
  /** Files (absolute) held back until the notes their wiki links name are published: the notes' names. */
  deferred: Map<string, string[]>;
  /** The database's clock when the plan was made. */
  now: number;
}

export interface SyncHooks {
  dryRun: boolean;
  /** Drive the runner (false: `--no-wait`). */
  wait: boolean;
  /** Shown before anything is written (round 1), and when deferred files are planned again (round > 1). */
  onPlan: (plan: SyncPlan, round: number) => void;
  /** Runs these tasks now (in the foreground) and returns the runner's exit code. */
  drive: (ids: number[]) => Promise<number>;
  /** A line worth saying (write-back of an unchanged file, a rescheduled task). */
  note: (message: string) => void;
}

export interface SyncOutcome {
  /** Every file's final row (a deferred file that never got its turn stays `new`). */
  rows: SyncRow[];
  warnings: Map<string, string[]>;
  deferred: Map<string, string[]>;
  /** The tasks this sync queued or resumed, as the database has them at the end. */
  tasks: Task[];
  /** The runner's exit code, when it ran. */
  driveCode: number | null;
}

/** More rounds than this means notes that keep waiting for each other: the rest goes on the next sync. */
const MAX_ROUNDS = 8;

export async function runSync(
  dirs: readonly string[],
  s: SyncSettings,
  hooks: SyncHooks,
): Promise<SyncOutcome> {
  const found = await discover(dirs, s.cwd);
  const git = new Map<string, number>();
  for (const [root, top] of found.gitRoots)
    if (top !== null) for (const [f, at] of await gitCommitTimes(root, top)) git.set(f, at);

  const first = await planSync(found, found.files, s, git, new Map());
  hooks.onPlan(first, 1);
  const outcome: SyncOutcome = {
    rows: first.rows,
    warnings: first.warnings,
    deferred: first.deferred,
    tasks: [],
    driveCode: null,
  };
  if (hooks.dryRun) return outcome;

  const ours = new Map<number, Task>();
  let plan = first;
  for (let round = 1; ; round++) {
    for (const t of await enqueue(plan, s, hooks)) ours.set(t.id, t);
    if (round === 1) await healWriteBack(plan.rows, s, hooks);
    if (!hooks.wait) break;
    const now = await s.store.tasks.now();
    const due = [...ours.values()].filter(
      (t) => (t.status === "queued" && t.runAt <= now + 1000) || t.status === "running",
    );
    if (due.length > 0) outcome.driveCode = worst(outcome.driveCode, await hooks.drive(due.map((t) => t.id)));
    for (const id of ours.keys()) {
      const t = await s.store.tasks.get(id);
      if (t) ours.set(id, t);
    }
    if (plan.deferred.size === 0 || round >= MAX_ROUNDS) break;
    // The notes they wait for may be live now: plan those files again with the new addresses. Notes this
    // sync queued that pacing still holds back are waited for on the next sync.
    const unpublished = new Map<string, string>();
    for (const t of ours.values())
      if ((t.status === "queued" || t.status === "running") && t.identity.startsWith("path:"))
        unpublished.set(t.file, displayFile(t.file, s.cwd));
    const again = await planSync(found, [...plan.deferred.keys()], s, git, unpublished);
    hooks.onPlan(again, round + 1);
    const progressed = again.rows.some(
      (r) => (r.status === "new" || r.status === "changed") && !again.deferred.has(r.file),
    );
    outcome.rows = [...outcome.rows.filter((r) => !plan.deferred.has(r.file)), ...again.rows];
    for (const [k, v] of again.warnings) outcome.warnings.set(k, v);
    outcome.deferred = again.deferred;
    plan = again;
    if (!progressed) break;
  }
  outcome.tasks = [...ours.values()].sort((a, b) => a.id - b.id);
  return outcome;
}

/**
 * Plans `files`: all that was found, or on later rounds the deferred ones (then `deleted` is not judged
 * again, and `unpublished` names the notes already queued for their first publish, by real path).
 */
async function planSync(
  found: Discovered,
  files: readonly string[],
  s: SyncSettings,
  git: ReadonlyMap<string, number>,
  unpublished: ReadonlyMap<string, string>,
): Promise<SyncPlan> {
  const whole = files === found.files;
  const { store, account } = s;
  const platform = s.platform.name;
  const now = await store.tasks.now();
  const records = await store.tasks.articles(platform, account);
  const links = await WikiLinks.build(
    found.files.map((file) => ({ file, real: realOf(file), root: rootOf(file, found.roots) })),
    records,
    s.cwd,
  );
  const displays = files.map((f) => displayFile(f, s.cwd));
  const warnings = new Map<string, string[]>();
  const plan = await planFiles(files, {
    cwd: s.cwd,
    home: s.home,
    env: s.env,
    warn: (m) => {
      // Longest match: "a/b.md:" must not be taken for "b.md:".
      const owner = displays.filter((d) => m.startsWith(`${d}:`)).sort((a, b) => b.length - a.length)[0];
      if (owner === undefined) s.warn(m);
      else warnings.set(owner, [...(warnings.get(owner) ?? []), m]);
    },
    store,
    platform: s.platform,
    account,
    mode: "publish",
    forceNew: false,
    force: false,
    writeBack: s.writeBack,
    maxAttempts: s.maxAttempts,
    render: {},
    runAt: (_i, a) => s.at ?? (a.date !== undefined && a.date > now ? a.date : null),
    wikiLinks: (file) => links.resolverFor(file),
    ...(s.signal ? { signal: s.signal } : {}),
  });
  const active = [
    ...(await store.tasks.list({ status: "queued", account })),
    ...(await store.tasks.list({ status: "running", account })),
  ].filter((t) => t.platform === platform);
  const rows = decide({
    plan,
    fileOf: (display) => resolve(s.cwd, display),
    ageOf: (file, p) => ageOf(file, p.article.date, git),
    records,
    active,
    roots: whole ? found.roots : [],
    exists: existsSync,
    display: (file) => displayFile(file, s.cwd),
  });
  return { rows, warnings, deferred: deferrals(rows, links, unpublished), now };
}

/**
 * Files to hold back this round: their wiki links name notes that this sync publishes for the first time.
 * When every file with work waits for another of them (notes that link each other), none waits: they go out
 * with plain text where the link will be, and the next sync links them.
 */
function deferrals(
  rows: readonly SyncRow[],
  links: WikiLinks,
  unpublished: ReadonlyMap<string, string>,
): Map<string, string[]> {
  const firstTime = new Map(unpublished);
  for (const r of rows)
    if (r.task && r.article === null && (r.status === "new" || r.status === "queued"))
      firstTime.set(r.task.file, r.display);
  const out = new Map<string, string[]>();
  const work = rows.filter((r) => r.status === "new" || r.status === "changed");
  for (const r of work) {
    const waits = [...links.waitsFor(r.file)].filter((n) => n !== r.task!.file && firstTime.has(n));
    if (waits.length > 0)
      out.set(
        r.file,
        waits.map((n) => firstTime.get(n)!),
      );
  }
  const onlyEachOther = [...out.keys()].every((f) =>
    [...links.waitsFor(f)].every((n) => !unpublished.has(n)),
  );
  return out.size === work.length && onlyEachOther ? new Map() : out;
}

/** Enqueues the files with work (not the deferred ones), in order; updates rows to what the store decided. */
async function enqueue(plan: SyncPlan, s: SyncSettings, hooks: SyncHooks): Promise<Task[]> {
  const ours: Task[] = [];
  const todo = plan.rows.filter(
    (r) => (r.status === "new" || r.status === "changed") && !plan.deferred.has(r.file),
  );
  const outcomes = await s.store.tasks.enqueue(
    todo.map((r) => r.task!),
    { atomic: false },
  );
  for (const [i, o] of outcomes.entries()) {
    const row = todo[i]!;
    if (o.kind === "queued") {
      row.existing = o.task;
      ours.push(o.task);
    } else if (o.kind === "unchanged") {
      // Another process published it between the plan and now.
      row.status = "unchanged";
      row.article = { id: o.articleId, url: o.url };
    } else {
      row.status = "queued";
      const t = await s.store.tasks.get(o.id);
      if (t) row.existing = t;
    }
  }
  for (const row of plan.rows) {
    if (row.status !== "queued" || !row.existing) continue;
    ours.push(await reschedule(row, row.existing, s, hooks));
  }
  return ours;
}

/**
 * A queued task whose file now names another time (its front-matter date changed, or `--at`) follows the
 * file. A file with no time leaves its task's schedule alone: it may come from `topn publish --at`.
 */
async function reschedule(row: SyncRow, t: Task, s: SyncSettings, hooks: SyncHooks): Promise<Task> {
  const wanted = row.task?.runAt ?? null;
  if (t.status !== "queued" || wanted === null || Math.abs(wanted - t.runAt) < 60_000) return t;
  const moved = await s.store.tasks.reschedule(t.id, wanted);
  hooks.note(
    `${row.display}: task ${t.id} rescheduled for ${new Date(wanted).toISOString()} (as its date or --at says)`,
  );
  return moved;
}

/**
 * An unchanged file that does not name its article (published with --no-write-back, or topn stopped between
 * the publish and the write-back) gets the line now, so it keeps its article wherever it goes.
 */
async function healWriteBack(rows: readonly SyncRow[], s: SyncSettings, hooks: SyncHooks): Promise<void> {
  const key = s.platform.frontMatterKey;
  if (!s.writeBack || !key) return;
  for (const r of rows) {
    if (r.status !== "unchanged" || !r.task || r.task.articleId || !r.article?.url) continue;
    const result = await writeBack(
      r.task.file,
      { key, url: r.article.url, articleId: r.article.id },
      r.task.contentHash,
    );
    if (result.kind === "written") hooks.note(`recorded "${key}: ${r.article.url}" in ${r.display}`);
  }
}

/** The exit code that says the most: a failure over a pending retry over success. */
function worst(a: number | null, b: number): number {
  if (a === null) return b;
  const weight = (c: number) => (c === 0 ? 0 : c === 75 ? 1 : c === 1 ? 2 : 3);
  return weight(b) > weight(a) ? b : a;
}

function realOf(file: string): string {
  try {
    return identify(file).real;
  } catch {
    return file;
  }
}

function rootOf(file: string, roots: readonly string[]): string {
  return roots.filter((r) => file.startsWith(r)).sort((a, b) => b.length - a.length)[0] ?? roots[0]!;
}
