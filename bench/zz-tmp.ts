import { publishBenchmarks } from "/work/main/bench/publish.ts";
const rows = await publishBenchmarks();
console.log(rows);
