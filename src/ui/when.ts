import { UsageError } from "../errors.js";

/**
 * Parse --at: "2026-12-01 09:00" (local time), an ISO 8601 time, or a phrase like "tomorrow 9am".
 * A time in the past is refused rather than silently published now.
 */
export async function parseWhen(text: string, now = new Date()): Promise<number> {
  const plain = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  let ms: number;
  if (plain) {
    const [, y, mo, d, h = "0", mi = "0", s = "0"] = plain;
    const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    if (
      date.getMonth() !== Number(mo) - 1 ||
      date.getDate() !== Number(d) ||
      Number(h) > 23 ||
      Number(mi) > 59
    ) {
      throw new UsageError(`--at "${text}" is not a real date and time`, 'write it like "2026-12-01 09:00"');
    }
    ms = date.getTime();
  } else if (!Number.isNaN(Date.parse(text)) && /\d{4}-\d{2}-\d{2}T/.test(text)) {
    ms = Date.parse(text);
  } else {
    // chrono-node is only loaded for phrases.
    const chrono = await import("chrono-node");
    const parsed = chrono.parseDate(text, now, { forwardDate: true });
    if (!parsed)
      throw new UsageError(
        `--at "${text}" is not a time topn understands`,
        'write it like "2026-12-01 09:00"',
      );
    ms = parsed.getTime();
  }
  if (ms < now.getTime() - 60_000) {
    throw new UsageError(
      `--at "${text}" is in the past`,
      "give a future time, or leave --at out to publish now",
    );
  }
  return ms;
}
