// What the core benchmarks need of a topn build. This checkout is one subject; an older checkout measured for
// --compare (bench/before-async-store.ts) or another store engine (PostgreSQL) can be another, and every row
// is then measured by the same code.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Platform } from "../src/platform.js";
import { Runner } from "../src/runner/runner.js";
import { openConnection, openSqliteStore } from "../src/store/sqlite/open.js";
import { BIN, ROOT } from "../test/helpers/run.js";

export interface NoopTask {
  account: string;
  file: string;
  title: string;
}

export interface DrainStats {
  succeeded: number;
  /** Claim transactions attempted (each takes the write lock, whether it finds a task or not). */
  claimAttempts: number;
}

export interface Subject {
  /** A commit or a label, written into the JSON. */
  name: string;
  /** The folder whose bin/topn is measured, and that executable. */
  root: string;
  bin: string;
  /** A fresh database in `home` holding these tasks, queued and due, for the platform "noop". */
  seed(home: string, tasks: readonly NoopTask[]): Promise<void>;
  /**
   * A runner over `home` (default poll interval unless given) whose platform succeeds after `delayMs`, until
   * nothing is left to claim.
   */
  drain(home: string, opts: { concurrency: number; pollMs?: number; delayMs: number }): Promise<DrainStats>;
  /** `n` tasks in realistic proportions written straight into a fresh database: the fast way to a fixture. */
  bigDatabase(home: string, n: number): Promise<void>;
}

/**
 * A platform that publishes nothing: what is left is the runner and the store. It yields to the event loop
 * once, as any real publish does (a run of publishes that never yield would starve every timer, the runner's
 * heartbeats and the benchmark's commit probe alike).
 */
export function noopPlatform(delayMs: number): Platform {
  return {
    name: "noop",
    publish: async (t) => {
      await new Promise((r) => (delayMs > 0 ? setTimeout(r, delayMs) : setImmediate(r)));
      return {
        url: `https://x/p/${t.id}`,
        articleId: String(t.id),
        state: "published",
        contentHash: t.contentHash,
        digest: t.contentHash,
      };
    },
    close: async () => {},
  };
}

/** The statuses of a large database, in the proportions a long-used one has. */
export const BIG_STATUSES = ["succeeded", "succeeded", "succeeded", "failed", "cancelled", "queued"] as const;

export function bigRow(i: number) {
  const status = BIG_STATUSES[i % BIG_STATUSES.length]!;
  const failed = status === "failed";
  return {
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
  };
}

/** The commit checked out in `root` ("+changes" when the tree differs from it). */
export function describeCheckout(root: string): string {
  const git = (...args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout.trim();
  const commit = git("rev-parse", "--short", "HEAD") || "unknown";
  return git("status", "--porcelain", "--untracked-files=no") ? `${commit}+changes` : commit;
}

export const thisCheckout: Subject = {
  name: describeCheckout(ROOT),
  root: ROOT,
  bin: BIN,
  async seed(home, tasks) {
    const store = openSqliteStore(home);
    try {
      await store.tasks.enqueue(
        tasks.map((t) => ({
          platform: "noop",
          ...t,
          contentHash: "h",
          digest: "d",
          runAt: 0,
          maxAttempts: 3,
        })),
      );
    } finally {
      await store.close();
    }
  },
  async drain(home, opts) {
    const store = openSqliteStore(home);
    try {
      const platform = noopPlatform(opts.delayMs);
      const runner = new Runner({
        tasks: store.tasks,
        home,
        platform: async () => platform,
        concurrency: opts.concurrency,
        ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }),
      });
      const summary = await runner.run({ once: true });
      return { succeeded: summary.succeeded.length, claimAttempts: runner.stats.claimAttempts };
    } finally {
      await store.close();
    }
  },
  async bigDatabase(home, n) {
    await openSqliteStore(home).close();
    const db = openConnection(join(home, "topn.db"));
    db.pragma("synchronous = OFF");
    const insert = db.prepare(
      `INSERT INTO tasks (platform, account, file, identity, content_hash, title, status, run_at, attempts,
         max_attempts, error_kind, error_step, error_message, url, created_at, started_at, finished_at, updated_at)
       VALUES ('zhihu', @account, @file, 'path:' || @file, 'h', @title, @status, @t, @attempts, 5, @kind, @step,
         @msg, @url, @t, @t, @t, @t)`,
    );
    db.transaction(() => {
      for (let i = 0; i < n; i++) insert.run(bigRow(i));
    })();
    db.close();
  },
};
