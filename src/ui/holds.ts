// Why a queued task is not running: its account is paused, pacing holds it back, or no machine holds a
// session for its account. Said the same way in `tasks`, `show` and after a foreground publish.

import type { AccountHold, Task } from "../store/types.js";
import { formatTime } from "./format.js";

export interface HoldView {
  /** "held: account paused — …; fix: …" */
  line: string;
  /** The same without the reason's details, for a table cell: "held: account paused, session expired; fix: …". */
  short?: string;
  /** When it will run by itself (null: not until a person acts). */
  until: number | null;
}

/** What stopped an account, in a few words (the reason itself is in `topn show`). */
const PAUSE_LABEL: Record<string, string> = {
  session_expired: "account paused, session expired",
  needs_verification: "account paused, verification needed",
  phone_binding: "account paused, phone binding needed",
  rate_limited: "account paused, rate limited",
};

export function holdOf(
  task: Pick<Task, "platform" | "account" | "status" | "runAt" | "mode">,
  hold: AccountHold | undefined,
  opts: { usesSessions: boolean; now: number },
): HoldView | null {
  if (task.status !== "queued" || !hold) return null;
  if (hold.pause) {
    const until = hold.pause.until;
    const when = until === null ? "" : ` until ${formatTime(until)}`;
    return {
      line: `held: account paused${when} — ${hold.pause.reason}; fix: ${hold.pause.fix}`,
      short: `held: ${PAUSE_LABEL[hold.pause.kind] ?? hold.pause.kind.replace(/_/g, " ")}${when}; fix: ${hold.pause.fix}`,
      until,
    };
  }
  if (opts.usesSessions && hold.hosts.length === 0) {
    const line = `held: no machine holds a session for account ${task.account}; fix: topn login ${task.platform} --account ${task.account}`;
    return { line, short: line, until: null };
  }
  if (task.mode === "draft" || task.runAt > opts.now) return null;
  if (hold.capUntil !== null) {
    const line = `held: the account's daily cap is reached; runs at ${formatTime(hold.capUntil)}`;
    return { line, short: line, until: hold.capUntil };
  }
  if (hold.gapUntil !== null) {
    const line = `held: pacing (the account published recently); runs at ${formatTime(hold.gapUntil)}`;
    return { line, short: line, until: hold.gapUntil };
  }
  return null;
}
