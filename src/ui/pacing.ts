// `topn accounts --set NAME gap=5m cap=20`: an account's own pacing, read from KEY=VALUE words. `default`
// gives a setting back to the defaults (config.yaml, TOPN_GAP/TOPN_CAP, else 60 s and 10 a day).

import { UsageError } from "../errors.js";
import { formatDuration, parseDuration } from "./duration.js";

export interface PacingSettings {
  /** ms; null: back to the default; absent: unchanged. */
  gapMs?: number | null;
  dailyCap?: number | null;
}

const HINT = "write gap=5m (least time between two publishes) and/or cap=20 (most a day); default resets one";

export function parsePacingSettings(words: readonly string[]): PacingSettings {
  if (words.length === 0) throw new UsageError("--set needs settings after the account", HINT);
  const out: PacingSettings = {};
  for (const word of words) {
    const eq = word.indexOf("=");
    const key = eq > 0 ? word.slice(0, eq).trim().toLowerCase() : "";
    const value = eq > 0 ? word.slice(eq + 1).trim() : "";
    if ((key !== "gap" && key !== "cap") || value === "")
      throw new UsageError(`"${word}" is not a pacing setting`, HINT);
    const reset = value.toLowerCase() === "default";
    if (key === "gap") out.gapMs = reset ? null : parseDuration(value, "gap");
    else {
      if (!reset && !/^\d+$/.test(value))
        throw new UsageError(`cap "${value}" is not a whole number`, "cap=0 means no daily cap");
      out.dailyCap = reset ? null : Number(value);
    }
  }
  return out;
}

/** "60s, 10 a day"; "no gap, no cap". */
export function formatPacing(gapMs: number, dailyCap: number): string {
  const gap = gapMs > 0 ? formatDuration(gapMs) : "no gap";
  const cap = dailyCap > 0 ? `${dailyCap} a day` : "no cap";
  return `${gap}, ${cap}`;
}
