// Publishing benchmarks (issue 4): per-article time with a warm browser, and how well accounts run side by
// side, against the Zhihu simulator with real Chromium, the real store and the real Runner.
import { makePng } from "../test/fixtures/article/images.js";
import { type ZhihuWorld, zhihuWorld } from "../test/helpers/zhihu.js";
import { median } from "./core.js";
import type { Row } from "./table.js";

/** Runs `fn` with a Zhihu world, then tears it down (the cleanup a test's `t.after` would do). */
async function withWorld<T>(accounts: string[], fn: (w: ZhihuWorld) => Promise<T>): Promise<T> {
  const cleanups: Array<() => void | Promise<void>> = [];
  try {
    const w = await zhihuWorld({ after: (f) => cleanups.push(f) }, { accounts });
    return await fn(w);
  } finally {
    for (const f of cleanups.reverse()) await f();
  }
}

let seq = 0;
function articleFile(w: ZhihuWorld, label: string): string {
  seq++;
  return w.writeArticle(
    `bench/${seq}.md`,
    `---\ntitle: "${label} ${seq}"\ntopics: [编程, 写作]\n---\n\nA paragraph with $x^2$.\n\n![figure](p${seq}.png)\n\n` +
      "```ts\nconst x = 1;\n```\n",
    { [`p${seq}.png`]: makePng(64, 32 + (seq % 200), (x, y) => [(x + seq) % 256, y % 256, seq % 256]) },
  );
}

async function publishAll(w: ZhihuWorld, perAccount: number, accounts: string[]): Promise<number> {
  const ids: number[] = [];
  for (let i = 0; i < perAccount; i++) {
    for (const account of accounts) ids.push(await w.enqueue(articleFile(w, account), account));
  }
  const t0 = performance.now();
  const summary = await w.run(ids, { concurrency: accounts.length });
  const ms = performance.now() - t0;
  if (summary.succeeded.length !== ids.length) {
    throw new Error(`only ${summary.succeeded.length} of ${ids.length} articles were published`);
  }
  return ms;
}

/** One article (an image, math, code, two topics) from claim to succeeded, browser and context warm. */
export async function warmPublish(articles = 10): Promise<Row> {
  return withWorld(["bench"], async (w) => {
    await publishAll(w, 1, ["bench"]); // launch, context, page: paid once per process
    const times: number[] = [];
    for (let i = 0; i < articles; i++) times.push(await publishAll(w, 1, ["bench"]));
    const ms = median(times);
    return {
      key: "publish.warm",
      what: `publish one article with an image, warm browser (median of ${articles}, simulator)`,
      value: ms,
      unit: "ms",
      target: "≤ 1 s",
      ok: ms <= 1000,
      better: "lower",
    };
  });
}

/**
 * 5 accounts × 10 articles against 1 account × 10: accounts run side by side. `latencyMs` is added to every
 * simulated API call as a stand-in for the network: with none, the simulator, Chromium and topn share this
 * machine's CPUs and the comparison measures the CPU count, not topn (~165 ms CPU per article here).
 */
export async function accountsInParallel(perAccount = 10, accounts = 5, latencyMs = 30): Promise<Row[]> {
  const faults = latencyMs > 0 ? { latencyMs: { "*": latencyMs } } : {};
  const one = await withWorld(["solo"], async (w) => {
    w.sim.faults.set(faults);
    await publishAll(w, 1, ["solo"]);
    return publishAll(w, perAccount, ["solo"]);
  });
  const names = Array.from({ length: accounts }, (_, i) => `acct${i}`);
  const many = await withWorld(names, async (w) => {
    w.sim.faults.set(faults);
    await publishAll(w, 1, names);
    return publishAll(w, perAccount, names);
  });
  const ratio = many / one;
  const net = latencyMs > 0 ? `${latencyMs} ms per call` : "no added latency, CPU-bound";
  const key = latencyMs > 0 ? `parallel.${latencyMs}ms` : "parallel.cpu";
  return [
    {
      key: `${key}.one`,
      what: `1 account × ${perAccount} articles, warm browser (wall, ${net})`,
      value: one / 1000,
      unit: "s",
      target: "",
      ok: null,
      better: "lower",
    },
    {
      key: `${key}.ratio`,
      what: `${accounts} accounts × ${perAccount} articles, concurrency ${accounts} (wall, ${net})`,
      value: ratio,
      unit: "×",
      text: `${(many / 1000).toFixed(2)} s (${ratio.toFixed(2)}×)`,
      target: latencyMs > 0 ? "≤ 1.5× one account" : "",
      ok: latencyMs > 0 ? ratio <= 1.5 : null,
      better: "lower",
    },
  ];
}

export async function publishBenchmarks(): Promise<Row[]> {
  return [await warmPublish(), ...(await accountsInParallel()), ...(await accountsInParallel(10, 5, 0))];
}
