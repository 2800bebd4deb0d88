// The benchmark table: rows with a stable key and a number, printed for people, written as JSON for the
// next run's --compare.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";

export interface Row {
  /** Stable name: --compare matches rows of two runs by it. */
  key: string;
  what: string;
  value: number;
  unit: string;
  /** How the value is shown when the number and its unit are not enough ("293 ms (1.55×)"). */
  text?: string;
  target: string;
  /** null: no target, the row is context for another. */
  ok: boolean | null;
  /** Which way is an improvement (null: neither, e.g. a machine's own speed). */
  better: "higher" | "lower" | null;
}

export interface BenchFile {
  /** Which code was measured: a commit, or a label. */
  subject: string;
  at: string;
  machine: { cpus: number; model: string; node: string };
  rows: Row[];
}

const digits = (n: number) => (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);

export function show(r: Row): string {
  if (r.text) return r.text;
  const n = r.value.toLocaleString("en", { maximumFractionDigits: digits(r.value) });
  return r.unit === "×" ? `${n}×` : `${n} ${r.unit}`;
}

/** A Markdown table, columns padded to their widest cell (the bench's and the soak's printed tables). */
export function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

export function table(rows: readonly Row[]): string {
  return markdownTable(
    ["what", "value", "target", "met"],
    rows.map((r) => [r.what, show(r), r.target, r.ok === null ? "" : r.ok ? "yes" : "NO"]),
  );
}

/** Each row of `now` next to the row with the same key in `old`, with the change and whether it is better. */
export function comparison(old: BenchFile, now: BenchFile): string {
  const before = new Map(old.rows.map((r) => [r.key, r]));
  const body = now.rows.map((r) => {
    const o = before.get(r.key);
    if (!o) return [r.what, "—", show(r), "", ""];
    const change = o.value === 0 ? 0 : (r.value - o.value) / Math.abs(o.value);
    const pct = `${change >= 0 ? "+" : ""}${(change * 100).toFixed(0)}%`;
    // Within 5% is noise on a shared machine; say so instead of calling it a win or a loss.
    const verdict =
      r.better === null || Math.abs(change) < 0.05
        ? ""
        : change > 0 === (r.better === "higher")
          ? "better"
          : "worse";
    return [r.what, show(o), show(r), pct, verdict];
  });
  const missing = old.rows.filter((o) => !now.rows.some((r) => r.key === o.key));
  for (const o of missing) body.push([o.what, show(o), "—", "", ""]);
  return [
    `old: ${old.subject} (${old.at}); new: ${now.subject} (${now.at})`,
    markdownTable(["what", "old", "new", "change", ""], body),
  ].join("\n");
}

export function benchFile(subject: string, rows: Row[]): BenchFile {
  const cpu = cpus();
  return {
    subject,
    at: new Date().toISOString(),
    machine: { cpus: cpu.length, model: cpu[0]?.model ?? "unknown", node: process.version },
    rows,
  };
}

export function writeBench(path: string, file: BenchFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
}

export function readBench(path: string): BenchFile {
  let data: Partial<BenchFile>;
  try {
    data = JSON.parse(readFileSync(path, "utf8")) as Partial<BenchFile>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code === "ENOENT" ? `${path}: no such file` : `${path}: ${err.message}`);
  }
  if (!Array.isArray(data?.rows)) throw new Error(`${path}: not a benchmark file (no rows)`);
  return data as BenchFile;
}
