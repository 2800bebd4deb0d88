// The half of `retry` that does not depend on the engine: which of the asked tasks may go back to the queue.
// Each engine reads the rows and the newer task of each identity inside its own transaction and hands them
// here, so both refuse and skip the same tasks with the same words.

import { type RetryResult, type TaskStatus, TransitionRefused } from "./types.js";

/** What the choice needs of a task row (both engines' rows have it). */
export interface RetryRow {
  id: number;
  platform: string;
  account: string;
  identity: string;
  status: TaskStatus;
}

export class RetryChoice<T extends RetryRow> {
  readonly skipped: RetryResult["skipped"] = [];
  private readonly allowed: T[] = [];

  /** skipSuperseded: `retry --failed` skips what an explicit retry refuses. */
  constructor(private readonly skipSuperseded: boolean) {}

  /** Refuses a task that does not exist or is running, queued or succeeded: only failed or cancelled ones go back. */
  static check<T extends RetryRow>(id: number, t: T | undefined): asserts t is T {
    if (!t) throw new TransitionRefused(id, "missing", `task ${id} does not exist`);
    if (t.status === "running") throw new TransitionRefused(id, t.status, `task ${id} is running`);
    if (t.status === "queued") throw new TransitionRefused(id, t.status, `task ${id} is already queued`);
    if (t.status === "succeeded") throw new TransitionRefused(id, t.status, `task ${id} already succeeded`);
  }

  /** A checked task and the newer task of its identity, if any: superseded ones are refused or skipped. */
  consider(t: T, newer: { id: number; status: string } | undefined): void {
    if (!newer) {
      this.allowed.push(t);
      return;
    }
    const what =
      newer.status === "succeeded"
        ? "already published this file's article"
        : `is ${newer.status} for the same article`;
    this.skip(t.id, "superseded", `task ${t.id} is superseded: the newer task ${newer.id} ${what}`);
  }

  /** The tasks to put back, by id: of two asked for one article only the newest (never two of one identity). */
  chosen(): T[] {
    const keep = new Map<string, T>();
    for (const t of this.allowed) {
      const key = `${t.platform}\u0000${t.account}\u0000${t.identity}`;
      const other = keep.get(key);
      if (!other) {
        keep.set(key, t);
        continue;
      }
      const [older, newer] = other.id < t.id ? [other, t] : [t, other];
      this.skip(
        older.id,
        "duplicate",
        `task ${older.id} is an older attempt at the same article as task ${newer.id}`,
      );
      keep.set(key, newer);
    }
    return [...keep.values()].sort((a, b) => a.id - b.id);
  }

  private skip(id: number, status: "superseded" | "duplicate", reason: string): void {
    if (!this.skipSuperseded) throw new TransitionRefused(id, status, reason);
    this.skipped.push({ id, reason });
  }
}
