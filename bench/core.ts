// Core benchmarks (issues 2 and 9): the runner against this machine's durable-commit rate, claims and commits
// per task on a busy account, `topn tasks` on a large database, start-up time.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countCommits, sampledWhile } from "./commits.js";
import type { Subject } from "./subject.js";
import type { Row } from "./table.js";

export type { Row } from "./table.js";

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function inTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "topn-bench-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tasksFor = (n: number, accounts: number) =>
  Array.from({ length: n }, (_, i) => ({
    account: `acct-${i % accounts}`,
    file: `/bench/${i}.md`,
    title: `T${i}`,
  }));

/**
 * Claim → no-op publish → durable outcome for many tasks across accounts, next to the rate at which this
 * machine makes small durable commits in the same folder, sampled in bursts during the run. The ratio is the
 * figure: absolute rates follow the disk and whatever else the machine is doing at the time.
 */
export async function runnerThroughput(subject: Subject, tasks = 5000, accounts = 50): Promise<Row[]> {
  return inTemp(async (home) => {
    await subject.seed(home, tasksFor(tasks, accounts));
    const sampled = await sampledWhile(home, () =>
      countCommits(() => subject.drain(home, { concurrency: 8, pollMs: 5, delayMs: 0 })),
    );
    const counted = sampled.result;
    const { succeeded } = counted.result;
    if (succeeded !== tasks) throw new Error(`${subject.name}: only ${succeeded} of ${tasks} succeeded`);
    const machine = sampled.commitRate;
    const rate = tasks / (sampled.elapsedMs / 1000);
    const perTask = counted.commits / tasks;
    return [
      {
        key: "machine.commits",
        what: "this machine: durable commits/s (SQLite WAL, synchronous=FULL; sampled during the run below)",
        value: machine,
        unit: "commits/s",
        target: "",
        ok: null,
        better: null,
      },
      {
        key: "runner.tasks",
        what: `runner, no-op platform (${tasks} tasks, ${accounts} accounts, concurrency 8)`,
        value: rate,
        unit: "tasks/s",
        // The disk sets this figure; the ratio below is the goal.
        target: "",
        ok: null,
        better: "higher",
      },
      {
        key: "runner.commitsPerTask",
        what: "  commits per task (write transactions that changed rows)",
        value: perTask,
        unit: "commits",
        target: "",
        ok: null,
        better: "lower",
      },
      {
        // A task needs a claim and an outcome, so 1 / commits-per-task is the ceiling; the rest is overhead.
        key: "runner.ratio",
        what: "  runner tasks/s ÷ machine commits/s",
        value: rate / machine,
        unit: "×",
        text: `${(rate / machine).toFixed(2)}× (ceiling at ${perTask.toFixed(1)} commits/task: ${(1 / perTask).toFixed(2)}×)`,
        // Half the ceiling: the runner's own work costs no more than its commits.
        target: "≥ 0.25×",
        ok: rate / machine >= 0.25,
        better: "higher",
      },
    ];
  });
}

/**
 * One account, several due tasks that each take `delayMs`: while one runs, the others wait for the account.
 * Every claim attempt takes the write lock; a runner that polls while it waits pays many per task.
 */
export async function busyAccount(subject: Subject, tasks = 3, delayMs = 1000): Promise<Row[]> {
  return inTemp(async (home) => {
    await subject.seed(home, tasksFor(tasks, 1));
    const counted = await countCommits(() => subject.drain(home, { concurrency: 2, delayMs }));
    const { succeeded, claimAttempts } = counted.result;
    if (succeeded !== tasks) throw new Error(`${subject.name}: only ${succeeded} of ${tasks} succeeded`);
    const where = `one account, ${tasks} tasks of ${delayMs / 1000} s, concurrency 2`;
    return [
      {
        key: "busy.claimsPerTask",
        what: `claim attempts per finished task (${where})`,
        value: claimAttempts / tasks,
        unit: "claims",
        target: "≤ 2",
        ok: claimAttempts / tasks <= 2,
        better: "lower",
      },
      {
        key: "busy.writeLocksPerTask",
        what: "  write-lock transactions per task (changed rows or not)",
        value: counted.writeLocks / tasks,
        unit: "locks",
        target: "",
        ok: null,
        better: "lower",
      },
      {
        key: "busy.commitsPerTask",
        what: "  commits per task (write transactions that changed rows)",
        value: counted.commits / tasks,
        unit: "commits",
        target: "",
        ok: null,
        better: "lower",
      },
    ];
  });
}

/**
 * Median wall time of each command, run in turns (a, b, c, a, b, c…) so a burst of load elsewhere on the
 * machine falls on all of them alike and their ratios stay meaningful.
 */
function timeInTurns(root: string, commands: { args: string[]; env?: NodeJS.ProcessEnv }[], runs: number) {
  const times = commands.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    commands.forEach(({ args, env }, c) => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, args, {
        env: { ...process.env, ...env },
        cwd: root,
        stdio: "pipe",
      });
      times[c]!.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    });
  }
  return times.map(median);
}

export async function tasksOnBigDatabase(subject: Subject, n = 100_000): Promise<Row[]> {
  return inTemp(async (home) => {
    await subject.bigDatabase(home, n);
    const runs = 11;
    const [bare, ms] = timeInTurns(
      subject.root,
      [
        { args: ["-e", "0"] },
        { args: [subject.bin, "tasks", "--status", "failed"], env: { TOPN_HOME: home } },
      ],
      runs,
    ) as [number, number];
    return [
      {
        key: "tasks.big",
        what: `topn tasks --status failed, ${n.toLocaleString("en")}-task database (whole process, median of ${runs})`,
        value: ms,
        unit: "ms",
        text: `${ms.toFixed(0)} ms (${(ms / bare).toFixed(2)}× node -e 0)`,
        // Relative, like start-up: the absolute time follows the machine (node -e 0 alone takes ~100 ms on some).
        target: "≤ 2.5× node -e 0",
        ok: ms / bare <= 2.5,
        better: "lower",
      },
    ];
  });
}

export async function startup(subject: Subject): Promise<Row[]> {
  return inTemp(async (home) => {
    await subject.seed(home, []);
    const runs = 15;
    const [bare, help, tasks] = timeInTurns(
      subject.root,
      [
        { args: ["-e", "0"] },
        { args: [subject.bin, "--help"] },
        { args: [subject.bin, "tasks"], env: { TOPN_HOME: home } },
      ],
      runs,
    ) as [number, number, number];
    const relative = (key: string, what: string, ms: number): Row => ({
      key,
      what,
      value: ms / bare,
      unit: "×",
      text: `${ms.toFixed(0)} ms (${(ms / bare).toFixed(2)}×)`,
      target: "≤ 2.5× node -e 0",
      ok: ms <= 2.5 * bare,
      better: "lower",
    });
    return [
      {
        key: "node.start",
        what: `node -e 0 (baseline, median of ${runs})`,
        value: bare,
        unit: "ms",
        target: "",
        ok: null,
        better: null,
      },
      relative("start.help", "topn --help start-up", help),
      relative("start.tasks", "topn tasks start-up (empty database)", tasks),
    ];
  });
}

/** Every core row for one subject, in table order. */
export async function coreBenchmarks(subject: Subject): Promise<Row[]> {
  return [
    ...(await runnerThroughput(subject)),
    ...(await busyAccount(subject)),
    ...(await tasksOnBigDatabase(subject)),
    ...(await startup(subject)),
  ];
}
