// npm run bench [-- GROUP...] [--compare OLD.json] [--out FILE]: every speed and memory goal of topn, measured
// and printed as one table, and written as JSON (bench/out/latest.json) for a later --compare.
// A group is a name and a function returning rows; another store engine adds its own group here
// (e.g. `postgres: () => postgresBenchmarks()` from bench/postgres.ts) and --compare covers it too.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../test/helpers/run.js";
import { browserBenchmarks } from "./browser.js";
import { coreBenchmarks } from "./core.js";
import { peakMemory } from "./memory.js";
import { postgresBenchmarks } from "./postgres.js";
import { publishBenchmarks } from "./publish.js";
import { thisCheckout } from "./subject.js";
import { benchFile, comparison, readBench, type Row, table, writeBench } from "./table.js";

const groups: Record<string, () => Promise<Row[]>> = {
  core: () => coreBenchmarks(thisCheckout),
  publish: () => publishBenchmarks(),
  memory: async () => [await peakMemory()],
  postgres: () => postgresBenchmarks(),
  browser: () => browserBenchmarks(),
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    compare: { type: "string" },
    out: { type: "string", default: join(ROOT, "bench/out/latest.json") },
  },
});
const unknown = positionals.filter((p) => !(p in groups));
if (unknown.length > 0) {
  console.error(`unknown group ${unknown.join(", ")}; groups: ${Object.keys(groups).join(", ")}`);
  process.exit(2);
}
// Read first: a bad --compare file should not cost a whole run.
let old: ReturnType<typeof readBench> | null = null;
try {
  if (values.compare) old = readBench(values.compare);
} catch (e) {
  console.error(`--compare: ${(e as Error).message}`);
  process.exit(2);
}

const rows: Row[] = [];
for (const [name, fn] of Object.entries(groups)) {
  if (positionals.length > 0 && !positionals.includes(name)) continue;
  process.stderr.write(`running ${name} benchmarks…\n`);
  rows.push(...(await fn()));
}

const file = benchFile(thisCheckout.name, rows);
writeBench(values.out, file);
console.log(table(rows));
console.log(`\n(written to ${values.out})`);
if (old) console.log(`\n${comparison(old, file)}`);
