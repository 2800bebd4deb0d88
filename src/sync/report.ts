// What a sync says: the plan as a table (or, for logs, one plain line per file), one summary line at the end,
// and the exit code. A sync with nothing to do says only its summary, so cron mails stay empty-ish.

import chalk from "chalk";
import { EXIT } from "../errors.js";
import type { AccountHold, Task } from "../store/types.js";
import { fitColumns, formatTime, iso, taskJson } from "../ui/format.js";
import { type HoldView, holdOf } from "../ui/holds.js";
import { renderTable } from "../ui/table.js";
import { countRows, STATUS_ORDER, type SyncRow, type SyncStatus } from "./decide.js";
import type { SyncOutcome, SyncPlan } from "./sync.js";

export interface ReportOptions {
  /** A terminal: a table with colours. Otherwise plain lines (the caller stamps them with the time). */
  tty: boolean;
  /** Show every file, the unchanged ones too (`--dry-run`). */
  full: boolean;
}

const COLOUR: Record<SyncStatus, (s: string) => string> = {
  new: chalk.green,
  changed: chalk.cyan,
  queued: chalk.blue,
  unchanged: chalk.gray,
  draft: chalk.gray,
  invalid: chalk.red,
  deleted: chalk.yellow,
};

/** Whether the plan has anything for the person to read before the summary. */
export function hasWork(plan: Pick<SyncPlan, "rows">): boolean {
  return plan.rows.some((r) => r.status === "new" || r.status === "changed");
}

/** The plan, one row per file that is not unchanged (all of them with `full`), and a line of counts. */
export function planLines(plan: SyncPlan, opts: ReportOptions): string[] {
  const rows = plan.rows.filter((r) => opts.full || r.status !== "unchanged");
  const cells = rows.map((r) => [
    opts.tty ? COLOUR[r.status](r.status) : r.status,
    r.status === "invalid" ? `${r.display}:${problemLine(r)}` : r.display,
    r.title === null ? "" : opts.tty ? fitColumns(r.title, 30) : `"${r.title}"`,
    whatHappens(r, plan),
  ]);
  const counts = countLine(countRows(plan.rows));
  if (!opts.tty) return [...cells.map((c) => c.filter((x) => x !== "").join("  ")), `plan: ${counts}`];
  return [
    ...renderTable(["STATUS", "FILE", "TITLE", "WHAT HAPPENS"], cells).split("\n"),
    "",
    `plan: ${counts}`,
  ];
}

function problemLine(r: SyncRow): string {
  const m = /^.*?:(\d+):/.exec(r.problem?.message ?? "");
  return m ? m[1]! : "1";
}

function whatHappens(r: SyncRow, plan: Pick<SyncPlan, "deferred" | "now">): string {
  const url = r.article?.url ?? (r.article ? `article ${r.article.id}` : "");
  const runAt = r.task?.runAt ?? null;
  const when = runAt !== null && runAt > plan.now + 1000 ? `scheduled for ${formatTime(runAt)}` : "now";
  switch (r.status) {
    case "new": {
      const waits = plan.deferred.get(r.file);
      return waits ? `after ${waits.join(", ")} (its wiki links name them)` : `publish ${when}`;
    }
    case "changed":
      return `update ${url} ${when}`;
    case "queued": {
      const t = r.existing;
      if (!t) return "already queued";
      const scheduled = t.status === "queued" && t.runAt > plan.now + 1000;
      return `task ${t.id} ${scheduled ? `scheduled for ${formatTime(t.runAt)}` : `already ${t.status}`}`;
    }
    case "unchanged":
      return url;
    case "draft":
      return `skipped: ${r.draft?.key ?? "draft"}: ${r.draft?.key === "published" ? "false" : "true"} (line ${r.draft?.line ?? 1})`;
    case "invalid":
      return (r.problem?.message ?? "").replace(/^.*?:\d+: |^[^:]*: /, "");
    case "deleted":
      return `file gone; ${url} stays on Zhihu (topn never unpublishes)`;
  }
}

export function countLine(counts: Record<SyncStatus, number>): string {
  const parts = STATUS_ORDER.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length > 0 ? parts.join(", ") : "no Markdown files";
}

/** What happened to the tasks of this sync, and why the ones still queued wait. */
export interface TaskView {
  task: Task;
  row: SyncRow | undefined;
  hold: HoldView | null;
}

export function taskViews(
  outcome: SyncOutcome,
  holds: readonly AccountHold[],
  now: number,
  usesSessions: boolean,
): TaskView[] {
  const byTask = new Map<number, SyncRow>();
  for (const r of outcome.rows) if (r.existing) byTask.set(r.existing.id, r);
  return outcome.tasks.map((task) => ({
    task,
    row: byTask.get(task.id),
    hold: holdOf(
      task,
      holds.find((h) => h.platform === task.platform && h.account === task.account),
      { usesSessions, now },
    ),
  }));
}

/** One line: what was published, what waits and until when, and what was left alone. */
export function summaryLine(outcome: SyncOutcome, views: readonly TaskView[], now: number): string {
  if (outcome.rows.length === 0) return "sync: no Markdown files (after .gitignore and .topnignore)";
  const parts: string[] = [];
  const add = (n: number, what: string) => n > 0 && parts.push(`${n} ${what}`);
  const isNew = (v: TaskView) => v.task.identity.startsWith("path:") || v.row?.status === "new";
  const done = views.filter((v) => v.task.status === "succeeded");
  add(done.filter(isNew).length, "published");
  add(done.filter((v) => !isNew(v)).length, "updated");
  add(views.filter((v) => v.task.status === "failed").length, "failed");
  const scheduled = views.filter((v) => v.task.status === "queued" && v.task.runAt > now + 1000);
  if (scheduled.length > 0) {
    const first = Math.min(...scheduled.map((v) => v.task.runAt));
    parts.push(`${scheduled.length} scheduled (first at ${formatTime(first)})`);
  }
  const waiting = views.filter(
    (v) => (v.task.status === "queued" && v.task.runAt <= now + 1000) || v.task.status === "running",
  );
  if (waiting.length > 0) {
    const next = waiting.map((v) => v.hold?.until ?? null).filter((u): u is number => u !== null);
    const why = waiting
      .find((v) => v.hold)
      ?.hold?.line.replace(/^held: /, "")
      .replace(/;.*$/, "");
    parts.push(
      `${waiting.length} queued${next.length > 0 ? ` (next at ${formatTime(Math.min(...next))}${why ? `: ${why}` : ""})` : why ? ` (${why})` : ""}`,
    );
  }
  const deferred = outcome.rows.filter((r) => r.status === "new" && outcome.deferred.has(r.file));
  add(deferred.length, "waiting for the notes they link to");
  const counts = countRows(outcome.rows);
  add(counts.unchanged, "unchanged");
  add(counts.draft, counts.draft === 1 ? "draft" : "drafts");
  add(counts.invalid, "invalid");
  add(counts.deleted, "deleted");
  // Nothing was queued or run by this sync: tasks of earlier ones may still wait (scheduled, paced).
  const quiet = !hasWork(outcome) && views.every((v) => v.task.status === "queued");
  if (quiet) return `sync: nothing to do${parts.length > 0 ? ` — ${parts.join(", ")}` : ""}`;
  return `sync: ${parts.join(", ")}`;
}

/**
 * 0: everything is in sync or queued (a retry waiting for its time included); 1: a task failed, a file is
 * invalid, or a task waits for a person (paused account, no session); 2: nothing could run (every file invalid).
 * An interrupted or unrecorded run keeps its own code.
 */
export function syncExit(outcome: SyncOutcome, views: readonly TaskView[]): number {
  const code = outcome.driveCode;
  if (code === EXIT.interrupted || code === EXIT.unrecorded || code === EXIT.internal) return code;
  const counts = countRows(outcome.rows);
  const rest = outcome.rows.length - counts.invalid - counts.deleted;
  if (counts.invalid > 0 && rest === 0) return EXIT.usage;
  const stuck = views.some((v) => v.task.status === "queued" && v.hold !== null && v.hold.until === null);
  if (
    code === EXIT.taskFailed ||
    counts.invalid > 0 ||
    stuck ||
    views.some((v) => v.task.status === "failed")
  )
    return EXIT.taskFailed;
  return EXIT.ok;
}

/** `--json`: every file with its status, the tasks, the counts and the exit code. */
export function syncJson(
  outcome: SyncOutcome,
  views: readonly TaskView[],
  now: number,
  exit: number,
  dryRun: boolean,
) {
  const byId = new Map(views.map((v) => [v.task.id, v]));
  return {
    dry_run: dryRun,
    files: outcome.rows.map((r) => {
      const view = r.existing ? byId.get(r.existing.id) : undefined;
      return {
        file: r.file,
        status: r.status,
        title: r.title,
        article_id: r.article?.id ?? null,
        url: r.article?.url ?? view?.task.url ?? null,
        task: r.existing?.id ?? null,
        run_at: iso(r.existing?.runAt ?? r.task?.runAt ?? null),
        waits_for: outcome.deferred.get(r.file) ?? [],
        problem: r.problem ? { message: r.problem.message, fix: r.problem.hint ?? null } : null,
        warnings: outcome.warnings.get(r.display) ?? [],
      };
    }),
    counts: countRows(outcome.rows),
    tasks: views.map((v) => taskJson(v.task, now, v.hold)),
    exit,
  };
}
