// JSON from Zhihu with its ids intact. Article ids are ~19-digit integers above 2^53; some answers carry
// them as bare numbers (the publish result, js-initialData). JSON.parse would round them, so integers too
// long to be exact become strings before parsing. Numbers of 16+ digits in Zhihu's answers are ids or
// timestamps in ms*1000; neither is arithmetic, so a string loses nothing.

const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d{16,}(?![\d.eE])/g;

/** JSON.parse, with every integer of 16 or more digits kept as its exact digits (a string). */
export function parseJson(text: string): unknown {
  return JSON.parse(text.replace(TOKENS, (m) => (m.startsWith('"') ? m : `"${m}"`)));
}

/** An id field as its exact digits, whether Zhihu sent it as a string or a (safely parsed) number. */
export function idOf(value: unknown): string | null {
  if (typeof value === "string" && /^\d+$/.test(value)) return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value);
  return null;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
