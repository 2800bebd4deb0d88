// npm run soak [-- --quick] [--seed N] [--keep]: issue 9's soak. Articles over five accounts published by real
// `topn run` processes (real Chromium, real SQLite) against the Zhihu simulator while faults of every kind
// the simulator has are injected, runners are killed and frozen at random moments, a second runner overlaps
// part of the run and one session is revoked and imported again. Then it checks that every promise held and
// exits non-zero on any miss. Bounded: --quick ≤ 2 minutes (CI), the full run ≤ 10 minutes.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openSqliteStore } from "../src/store/sqlite/open.js";
import type { Task } from "../src/store/types.js";
import { ROOT } from "../test/helpers/run.js";
import { writeArticles } from "./soak/articles.js";
import { Chaos } from "./soak/chaos.js";
import { runTopn } from "./soak/cli.js";
import { SoakFaults } from "./soak/faults.js";
import { Person } from "./soak/person.js";
import { Dice, randomSeed } from "./soak/random.js";
import { report, writeReport } from "./soak/report.js";
import { type EventCounts, type RunnerExit, RunnerSlot } from "./soak/runners.js";
import { SimProcess } from "./soak/sim.js";
import { judge } from "./soak/verdict.js";

// The drain after chaos needs its share of the budget: a busy CI machine took 85 s for a quick run that an
// idle one finished in 44 s, most of the difference after chaos had ended.
const PROFILES = {
  quick: { articles: 30, refused: 1, chaosMs: 40_000, deadlineMs: 108_000, gapMs: [700, 2000] },
  full: { articles: 100, refused: 2, chaosMs: 360_000, deadlineMs: 570_000, gapMs: [400, 1500] },
} as const;
/** Past its deadline the soak still gets this long to stop runners and judge before it gives up. */
const STOP_MS = 12_000;
const ACCOUNTS = ["soak-1", "soak-2", "soak-3", "soak-4", "soak-5"];
const LEASE_MS = 3000;
/** Share of API calls failing at random (500, reset, reset-after) besides the targeted faults. */
const FAILURE_RATE = 0.09;
/**
 * Chaos stops when this share of tasks is finished (or its time is up); the rest publish against a healthy
 * Zhihu, so a slow machine still ends within its budget instead of running out of time mid-retry.
 */
const CHAOS_UNTIL = 0.85;
/** Generous: a task may meet many faults and kills; running out of attempts is not what the soak tests. */
const MAX_ATTEMPTS = 30;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    seed: { type: "string" },
    keep: { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const mode = values.quick ? "quick" : "full";
const profile = PROFILES[mode];
const seed = values.seed === undefined ? randomSeed() : Number(values.seed);
if (!Number.isInteger(seed)) {
  console.error(`--seed takes an integer, not ${values.seed}`);
  process.exit(2);
}
const replay = `npm run soak --${values.quick ? " --quick" : ""} --seed ${seed}`;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const say = (line: string) => console.log(`[${elapsed().padStart(5)}] ${line}`);

const home = mkdtempSync(join(tmpdir(), "topn-soak-"));
const logDir = join(home, "logs");
mkdirSync(logDir);
console.log(`soak (${mode}): seed ${seed}; ${profile.articles} articles over ${ACCOUNTS.length} accounts`);
console.log(`replay: ${replay}; work folder ${home}`);

const sim = await SimProcess.start(ACCOUNTS);
const env: NodeJS.ProcessEnv = {
  TOPN_HOME: home,
  TOPN_ZHIHU_RESOLVE: sim.resolve,
  TOPN_HEADLESS: "1",
  // Never the real keychain.
  TOPN_CREDENTIAL_STORE: "file",
  // No pacing: the soak is about faults, not about sparing accounts.
  TOPN_GAP: "0",
  TOPN_CAP: "0",
  // A short lease, so freezes outlast it; quick retries, so the run fits its budget.
  TOPN_LEASE_MS: String(LEASE_MS),
  TOPN_RETRY_BASE_MS: "300",
  TOPN_RETRY_CAP_MS: "3000",
};
const store = openSqliteStore(home, { busyTimeoutMs: 2000 });
const dice = new Dice(seed);
const faults = new SoakFaults(sim, seed, FAILURE_RATE);
const note = (line: string) => appendFileSync(join(logDir, "chaos.log"), `${Date.now()} ${line}\n`);
const person = new Person(store, sim, faults, env, note);
const events: EventCounts = {};
const exits: RunnerExit[] = [];
const runner = (name: string) =>
  new RunnerSlot(name, { env, concurrency: ACCOUNTS.length, logDir, events, exits });
const first = runner("A");
const second = runner("B");
const chaos = new Chaos(dice, {
  first,
  second,
  accounts: ACCOUNTS,
  leaseMs: LEASE_MS,
  faults,
  person,
  sim,
  gapMs: profile.gapMs,
  note,
});

// However the soak ends, nothing it started outlives it.
let cleaned = false;
async function cleanUp(keep: boolean): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await Promise.all([first.kill(), second.kill()]);
  await sim.close();
  await store.close();
  if (!keep) rmSync(home, { recursive: true, force: true });
}
const hardStop = setTimeout(() => {
  console.error(`soak: still running after ${elapsed()}: giving up (seed ${seed})`);
  void cleanUp(true).finally(() => process.exit(1));
}, profile.deadlineMs + STOP_MS);
hardStop.unref();

const FINAL = new Set(["succeeded", "failed", "cancelled"]);
async function progress(): Promise<{ tasks: Task[]; finished: number }> {
  const tasks = await store.tasks.list({ limit: -1 });
  return { tasks, finished: tasks.filter((t) => FINAL.has(t.status)).length / Math.max(1, tasks.length) };
}

let code = 1;
try {
  await Promise.all(
    ACCOUNTS.map(async (account) => {
      if (!(await person.login(account, sim.cookies.get(account)!)))
        throw new Error(`topn login zhihu --account ${account} failed`);
    }),
  );
  const articles = writeArticles(join(home, "docs"), {
    count: profile.articles,
    accounts: ACCOUNTS,
    refused: profile.refused,
    seed,
  });
  await Promise.all(
    ACCOUNTS.map(async (account) => {
      const files = articles.filter((a) => a.account === account).map((a) => a.file);
      const args = ["publish", ...files, "--account", account, "--no-wait"];
      const r = await runTopn([...args, "--max-attempts", String(MAX_ATTEMPTS)], env);
      if (r.code !== 0) throw new Error(`topn publish for ${account} exited ${r.code}: ${r.stderr}`);
    }),
  );
  say(`${articles.length} tasks enqueued; faults on; runner A starts`);
  await faults.start();
  first.start();

  let watching = true;
  const personLoop = (async () => {
    while (watching) {
      await person.look().catch((e: unknown) => say(`person: ${(e as Error).message}`));
      await new Promise((r) => setTimeout(r, 400));
    }
  })();
  let lastSaid = 0;
  const status = (tasks: Task[]) => {
    const by = (s: string) => tasks.filter((t) => t.status === s).length;
    return `${by("succeeded")} succeeded, ${by("failed")} failed, ${by("running")} running, ${by("queued")} queued`;
  };

  // Chaos lasts as long from the first runner's start, whatever the set-up took.
  const chaosEnd = Date.now() + profile.chaosMs;
  for (;;) {
    const { tasks, finished } = await progress();
    if (finished >= CHAOS_UNTIL || Date.now() > chaosEnd) break;
    await chaos.progress(finished);
    if (Date.now() - lastSaid > 10_000) {
      lastSaid = Date.now();
      say(status(tasks));
    }
    await chaos.strike();
    const until = Date.now() + chaos.nextGap();
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      if ((await progress()).finished >= CHAOS_UNTIL) break;
    }
  }
  say("chaos ends; faults off; waiting for the queue to drain");
  await chaos.settle();
  const faultsUntil = (await sim.state()).lastSeq;
  await faults.stop();
  const drainEnd = started + profile.deadlineMs;
  for (;;) {
    const { tasks, finished } = await progress();
    if (finished >= 1 || Date.now() > drainEnd) break;
    // The second runner's stop or the revoke may still be due when chaos ended early.
    await chaos.progress(finished);
    if (Date.now() - lastSaid > 10_000) {
      lastSaid = Date.now();
      say(status(tasks));
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  say("stopping the runners (SIGTERM)");
  watching = false;
  await personLoop;
  const stuckBeforeStop = (await progress()).tasks.filter((t) => t.status === "running").length;
  await Promise.all([first.terminate(), second.terminate()]);

  const verdict = judge({
    articles,
    tasks: await store.tasks.list({ limit: -1 }),
    accounts: await store.accounts.list("zhihu"),
    sim: await sim.state(),
    requests: await sim.requests(),
    exits,
    stacks: [...first.stacks, ...second.stacks],
    faultsUntil,
  });
  const result = report({
    mode,
    seed,
    replay,
    durationMs: Date.now() - started,
    articles: articles.length,
    accounts: ACCOUNTS.length,
    leaseMs: LEASE_MS,
    failureRate: FAILURE_RATE,
    verdict,
    chaos: chaos.stats,
    person,
    events,
    stuckBeforeStop,
  });
  const out = values.out ?? join(ROOT, `bench/out/soak-${mode}.json`);
  writeReport(out, result);
  console.log(`(written to ${out})`);
  code = verdict.checks.every((c) => c.ok) ? 0 : 1;
  if (code !== 0) console.log(`\nMISSED. Replay: ${replay}; logs kept in ${logDir}`);
} catch (e) {
  console.error(`soak: ${(e as Error).stack ?? e}`);
  console.error(`replay: ${replay}; logs kept in ${logDir}`);
  code = 1;
} finally {
  clearTimeout(hardStop);
  await cleanUp(values.keep || code !== 0);
}
process.exit(code);
