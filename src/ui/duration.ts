import { UsageError } from "../errors.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "5m", "2h", "1d", "1h30m", or a bare number of seconds → ms. `what` names it in the error. */
export function parseDuration(text: string, what: string): number {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== t) {
    throw new UsageError(`${what} "${text}" is not a duration`, "write it like 90s, 5m, 2h, 1d or 1h30m");
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0));
}

/** 300000 → "5m", 5400000 → "1h30m", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  let rest = Math.round(ms / 1000);
  const out: string[] = [];
  for (const [unit, secs] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= secs) {
      out.push(`${Math.floor(rest / secs)}${unit}`);
      rest %= secs;
    }
  }
  return out.join("");
}
