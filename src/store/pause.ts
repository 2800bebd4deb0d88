import type { AccountPause, PauseState } from "./types.js";

/** An account row's pause columns, as both engines store them, read with the database's now. */
export interface PauseColumns {
  paused_kind: string | null;
  paused_reason: string | null;
  paused_fix: string | null;
  paused_at: number | null;
  paused_until: number | null;
  /** The database's now, read with the row. */
  now: number;
}

/** The pause an account row holds now: a timed pause that has run out is no pause. */
export function pauseOf(r: PauseColumns): PauseState | null {
  if (r.paused_kind === null || (r.paused_until !== null && r.paused_until <= r.now)) return null;
  return {
    kind: r.paused_kind,
    reason: r.paused_reason ?? r.paused_kind,
    fix: r.paused_fix ?? "",
    at: r.paused_at ?? 0,
    until: r.paused_until,
  };
}

/** The parameters of an engine's PAUSE_ACCOUNT statement. */
export function pauseParams(platform: string, name: string, pause: AccountPause) {
  // A timed pause (rate limit, verification) doubles with each strike; a pause for good does not count one.
  return {
    platform,
    name,
    kind: pause.kind,
    reason: pause.reason,
    fix: pause.fix,
    forMs: pause.forMs,
    backoff: pause.forMs === null ? 0 : 1,
  };
}
