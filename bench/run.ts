// npm run bench: every speed and memory goal of topn, measured and printed as one table.
// `npm run bench -- core` or `-- publish` runs one group.
import { type Row, runnerOverhead, startup, tasksOnBigDatabase } from "./core.js";
import { peakMemory } from "./memory.js";
import { postgresBenchmarks } from "./postgres.js";
import { publishBenchmarks } from "./publish.js";

const groups: Record<string, () => Promise<Row[]>> = {
  core: async () => [await runnerOverhead(), await tasksOnBigDatabase(), ...(await startup())],
  publish: () => publishBenchmarks(),
  memory: async () => [await peakMemory()],
  postgres: () => postgresBenchmarks(),
};

const wanted = process.argv.slice(2);
const rows: Row[] = [];
for (const [name, fn] of Object.entries(groups)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stderr.write(`running ${name} benchmarks…\n`);
  rows.push(...(await fn()));
}

const w1 = Math.max(...rows.map((r) => r.what.length), 4);
const w2 = Math.max(...rows.map((r) => r.value.length), 5);
const w3 = Math.max(...rows.map((r) => r.target.length), 6);
const line = (a: string, b: string, c: string, d: string) =>
  `| ${a.padEnd(w1)} | ${b.padEnd(w2)} | ${c.padEnd(w3)} | ${d.padEnd(4)} |`;
console.log(line("what", "value", "target", "met"));
console.log(`|${"-".repeat(w1 + 2)}|${"-".repeat(w2 + 2)}|${"-".repeat(w3 + 2)}|------|`);
for (const r of rows) console.log(line(r.what, r.value, r.target, r.target ? (r.ok ? "yes" : "NO") : ""));
