// Core benchmarks (issue 2): runner overhead, `topn tasks` on a large database, start-up time.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Platform } from "../src/platform.js";
import { Runner } from "../src/runner/runner.js";
import { openConnection, openSqliteStore } from "../src/store/sqlite/open.js";
import { BIN, ROOT } from "../test/helpers/run.js";

export interface Row {
  what: string;
  value: string;
  target: string;
  ok: boolean;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function temp(): string {
  return mkdtempSync(join(tmpdir(), "topn-bench-"));
}

/** Claim → no-op publish → durable outcome, for many tasks across accounts. */
export async function runnerOverhead(tasks = 5000, accounts = 50): Promise<Row> {
  const home = temp();
  try {
    const store = openSqliteStore(home);
    await store.tasks.enqueue(
      Array.from({ length: tasks }, (_, i) => ({
        platform: "noop",
        account: `acct-${i % accounts}`,
        file: `/bench/${i}.md`,
        contentHash: "h",
        digest: "d",
        title: `T${i}`,
        runAt: 0,
        maxAttempts: 3,
      })),
    );
    const noop: Platform = {
      name: "noop",
      publish: async (t) => ({
        url: `https://x/p/${t.id}`,
        articleId: String(t.id),
        state: "published",
        contentHash: t.contentHash,
        digest: t.contentHash,
      }),
      close: async () => {},
    };
    const runner = new Runner({
      tasks: store.tasks,
      home,
      platform: async () => noop,
      concurrency: 8,
      pollMs: 5,
    });
    const t0 = performance.now();
    const summary = await runner.run({ once: true });
    const secs = (performance.now() - t0) / 1000;
    await store.close();
    if (summary.succeeded.length !== tasks)
      throw new Error(`only ${summary.succeeded.length} of ${tasks} succeeded`);
    const rate = tasks / secs;
    return {
      what: `runner overhead, no-op platform (${tasks} tasks, ${accounts} accounts, synchronous=FULL)`,
      value: `${Math.round(rate).toLocaleString("en")} tasks/s`,
      target: "≥ 1,000 tasks/s",
      ok: rate >= 1000,
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function timeProcess(args: string[], env: NodeJS.ProcessEnv, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, {
      env: { ...process.env, ...env },
      cwd: ROOT,
      stdio: "pipe",
    });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return median(times);
}

/** A database of `n` tasks in realistic proportions, written directly (the fast way to build a fixture). */
export async function bigDatabase(home: string, n: number): Promise<void> {
  await openSqliteStore(home).close();
  const db = openConnection(join(home, "topn.db"));
  db.pragma("synchronous = OFF");
  const insert = db.prepare(
    `INSERT INTO tasks (platform, account, file, identity, content_hash, title, status, run_at, attempts, max_attempts,
       error_kind, error_step, error_message, url, created_at, started_at, finished_at, updated_at)
     VALUES ('zhihu', @account, @file, 'path:' || @file, 'h', @title, @status, @t, @attempts, 5, @kind, @step, @msg,
       @url, @t, @t, @t, @t)`,
  );
  const statuses = ["succeeded", "succeeded", "succeeded", "failed", "cancelled", "queued"] as const;
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const status = statuses[i % statuses.length]!;
      const failed = status === "failed";
      insert.run({
        account: `acct-${i % 20}`,
        file: `/posts/${i}.md`,
        title: `文章 ${i}: a title of ordinary length`,
        status,
        t: 1_700_000_000_000 + i * 1000,
        attempts: failed ? 5 : 1,
        kind: failed ? "transient" : null,
        step: failed ? "publish" : null,
        msg: failed ? "HTTP 502 from www.zhihu.com" : null,
        url: status === "succeeded" ? `https://zhuanlan.zhihu.com/p/19${String(i).padStart(17, "0")}` : null,
      });
    }
  })();
  db.close();
}

export async function tasksOnBigDatabase(n = 100_000): Promise<Row> {
  const home = temp();
  try {
    await bigDatabase(home, n);
    const ms = timeProcess([BIN, "tasks", "--status", "failed"], { TOPN_HOME: home }, 11);
    return {
      what: `topn tasks --status failed, ${n.toLocaleString("en")}-task database (whole process, median of 11)`,
      value: `${ms.toFixed(0)} ms`,
      target: "< 150 ms",
      ok: ms < 150,
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export async function startup(): Promise<Row[]> {
  const home = temp();
  try {
    await openSqliteStore(home).close();
    const runs = 15;
    const bare = timeProcess(["-e", "0"], {}, runs);
    const help = timeProcess([BIN, "--help"], {}, runs);
    const tasks = timeProcess([BIN, "tasks"], { TOPN_HOME: home }, runs);
    return [
      { what: "node -e 0 (baseline, median of 15)", value: `${bare.toFixed(0)} ms`, target: "", ok: true },
      {
        what: "topn --help start-up",
        value: `${help.toFixed(0)} ms (${(help / bare).toFixed(2)}×)`,
        target: "≤ 2.5× node -e 0",
        ok: help <= 2.5 * bare,
      },
      {
        what: "topn tasks start-up (empty database)",
        value: `${tasks.toFixed(0)} ms (${(tasks / bare).toFixed(2)}×)`,
        target: "≤ 2.5× node -e 0",
        ok: tasks <= 2.5 * bare,
      },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
