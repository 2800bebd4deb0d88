import { relative } from "node:path";
import chalk from "chalk";
import type { Task, TaskEvent } from "../store/types.js";
import type { HoldView } from "./holds.js";

/** `queued` with a future run_at is shown as `scheduled`. */
export function displayStatus(t: Pick<Task, "status" | "runAt">, now = Date.now()): string {
  return t.status === "queued" && t.runAt > now ? "scheduled" : t.status;
}

const COLOURS: Record<string, (s: string) => string> = {
  queued: chalk.cyan,
  scheduled: chalk.blue,
  running: chalk.yellow,
  succeeded: chalk.green,
  failed: chalk.red,
  cancelled: chalk.gray,
};

export function colourStatus(status: string): string {
  return (COLOURS[status] ?? ((s: string) => s))(status);
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Local time, minute precision: what a person typed in --at. */
export function formatTime(ms: number | null): string {
  if (ms === null) return "";
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function displayFile(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel.startsWith("..") || rel === "" ? file : rel;
}

export function errorLine(t: Pick<Task, "errorKind" | "errorStep" | "errorMessage">): string | null {
  if (!t.errorMessage) return null;
  return `${t.errorKind ?? "error"} at ${t.errorStep ?? "?"}: ${t.errorMessage}`;
}

/** The stable JSON shape of a task (tasks --json, show --json, publish --json). */
export function taskJson(t: Task, now = Date.now(), hold: HoldView | null = null) {
  return {
    id: t.id,
    status: t.status,
    scheduled: displayStatus(t, now) === "scheduled",
    platform: t.platform,
    account: t.account,
    file: t.file,
    title: t.title,
    attempts: t.attempts,
    max_attempts: t.maxAttempts,
    run_at: iso(t.runAt),
    created_at: iso(t.createdAt),
    started_at: iso(t.startedAt),
    finished_at: iso(t.finishedAt),
    url: t.url,
    article_id: t.draftId,
    checkpoint: t.checkpoint,
    mode: t.mode,
    held: hold ? { reason: hold.line.replace(/^held: /, ""), until: iso(hold.until) } : null,
    error: t.errorMessage ? { kind: t.errorKind, step: t.errorStep, message: t.errorMessage } : null,
  };
}

export function eventJson(e: TaskEvent) {
  return { at: iso(e.at), status: e.status, attempt: e.attempt, message: e.message };
}

// East Asian wide and fullwidth ranges (CJK, kana, hangul, fullwidth forms, emoji): two terminal columns.
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
// ANSI colour sequences (ESC [ … m) take no columns.
const ANSI = /\x1b\[[0-9;]*m/g;

const charWidth = (ch: string): number => (WIDE.test(ch) ? 2 : 1);

/** Terminal columns a string takes: wide CJK characters count two, colour codes none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text.replace(ANSI, "")) width += charWidth(ch);
  return width;
}

/** Cut text to `max` terminal columns with an ellipsis. */
export function fitColumns(text: string, max: number): string {
  let width = 0;
  let out = "";
  for (const ch of text) {
    const w = charWidth(ch);
    if (width + w > max - 1) return `${out}…`;
    width += w;
    out += ch;
  }
  return text;
}
