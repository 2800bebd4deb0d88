// Why a queued task is not running: its account is paused, pacing holds it back, or no machine holds a
// session for its account. Said the same way in `tasks`, `show` and after a foreground publish.

import type { AccountHold, Task } from "../store/types.js";
import { formatTime } from "./format.js";

export interface HoldView {
  /** "held: account paused — …; fix: …" */
  line: string;
  /** When it will run by itself (null: not until a person acts). */
  until: number | null;
}

export function holdOf(
  task: Pick<Task, "platform" | "account" | "status" | "runAt" | "mode">,
  hold: AccountHold | undefined,
  opts: { usesSessions: boolean; now: number },
): HoldView | null {
  if (task.status !== "queued" || !hold) return null;
  if (hold.pause) {
    const until = hold.pause.until;
    const when = until === null ? "" : ` until ${formatTime(until)}`;
    return { line: `held: account paused${when} — ${hold.pause.reason}; fix: ${hold.pause.fix}`, until };
  }
  if (opts.usesSessions && hold.hosts.length === 0) {
    return {
      line: `held: no machine holds a session for account ${task.account}; fix: topn login ${task.platform} --account ${task.account}`,
      until: null,
    };
  }
  if (task.mode === "draft" || task.runAt > opts.now) return null;
  if (hold.capUntil !== null) {
    return {
      line: `held: the account's daily cap is reached; runs at ${formatTime(hold.capUntil)}`,
      until: hold.capUntil,
    };
  }
  if (hold.gapUntil !== null) {
    return {
      line: `held: pacing (the account published recently); runs at ${formatTime(hold.gapUntil)}`,
      until: hold.gapUntil,
    };
  }
  return null;
}
