// JSON from Zhihu with its ids intact. Article ids are ~19-digit integers above 2^53; some answers carry
// them as bare numbers (the publish result, js-initialData). JSON.parse would round them, so integers too
// long to be exact become strings before parsing. Numbers of 16+ digits in Zhihu's answers are ids or
// timestamps in ms*1000; neither is arithmetic, so a string loses nothing.
//
// The quoting is one pass over the characters, with no regular expression and no recursion: a regex over
// the whole text (strings as `"(?:[^"\\]|\\.)*"`) overflowed the stack on a 12 MB article, and the task
// of an article Zhihu had published was recorded as failed.

/** Integers with at least this many digits are kept as strings. */
const LONG_DIGITS = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const E_LOWER = 0x65;
const E_UPPER = 0x45;

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

/** JSON.parse, with every integer of 16 or more digits kept as its exact digits (a string). */
export function parseJson(text: string): unknown {
  return JSON.parse(quoteLongIntegers(text));
}

/**
 * `text` with every integer literal of 16+ digits outside strings wrapped in quotes. Anything that is not
 * JSON stays not JSON (JSON.parse reports it); the text is never rebuilt when it holds no long integer.
 */
export function quoteLongIntegers(text: string): string {
  const n = text.length;
  let parts: string[] | null = null;
  let copied = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      continue;
    }
    if (c !== MINUS && !isDigit(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === MINUS) i++;
    const digitsFrom = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    const digits = i - digitsFrom;
    const next = i < n ? text.charCodeAt(i) : -1;
    // A fraction or an exponent makes it a real number: JSON.parse's reading is the right one.
    if (next === DOT || next === E_LOWER || next === E_UPPER) {
      i = skipNumberTail(text, i);
      continue;
    }
    if (digits >= LONG_DIGITS) {
      parts ??= [];
      parts.push(text.slice(copied, start), '"', text.slice(start, i), '"');
      copied = i;
    }
  }
  if (parts === null) return text;
  parts.push(text.slice(copied));
  return parts.join("");
}

/** The index just past the string literal opening at `open` (or the end of the text if it never closes). */
function endOfString(text: string, open: number): number {
  let i = open + 1;
  for (;;) {
    const close = text.indexOf('"', i);
    if (close === -1) return text.length;
    // The quote is escaped when an odd number of backslashes precede it.
    let slashes = 0;
    for (let j = close - 1; j > open && text.charCodeAt(j) === BACKSLASH; j--) slashes++;
    if (slashes % 2 === 0) return close + 1;
    i = close + 1;
  }
}

/** Past the fraction and exponent of a number whose integer part ends at `i`. */
function skipNumberTail(text: string, i: number): number {
  const n = text.length;
  if (text.charCodeAt(i) === DOT) {
    i++;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  const e = i < n ? text.charCodeAt(i) : -1;
  if (e === E_LOWER || e === E_UPPER) {
    i++;
    const sign = i < n ? text.charCodeAt(i) : -1;
    if (sign === MINUS || sign === 0x2b) i++;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  return i;
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
