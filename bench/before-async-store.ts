// The core benchmarks of topn as it was before the store went async (commit 367b212, issue 9), measured by
// this checkout's benchmark code so the two runs can be compared row by row:
//
//   git worktree add /tmp/topn-old 367b212 && (cd /tmp/topn-old && npm ci && npm run build)
//   node --import tsx bench/before-async-store.ts /tmp/topn-old          # writes bench/out/before.json
//   npm run bench -- core --compare bench/out/before.json
//
// Only the old tree's store and runner are loaded (by path, so nothing here type-checks against them); the
// measurements, the commit counter and the fixtures' shape are this checkout's.
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ROOT } from "../test/helpers/run.js";
import { coreBenchmarks } from "./core.js";
import { bigRow, describeCheckout, type NoopTask, noopPlatform, type Subject } from "./subject.js";
import { benchFile, table, writeBench } from "./table.js";

// The old API, as far as it is used here.
interface OldTaskStore {
  enqueue(tasks: readonly Record<string, unknown>[]): number[];
  claim(...args: unknown[]): unknown;
}
interface OldStore {
  tasks: OldTaskStore;
  close(): void;
}
interface OldDb {
  openStore(home: string): OldStore;
  openConnection(path: string): import("better-sqlite3").Database;
}
interface OldRunner {
  run(mode: { once?: boolean }): Promise<{ succeeded: number[] }>;
}
type OldRunnerClass = new (opts: Record<string, unknown>) => OldRunner;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: "string", default: join(ROOT, "bench/out/before.json") } },
});
if (positionals.length !== 1) {
  console.error("usage: node --import tsx bench/before-async-store.ts OLD_TREE [--out FILE]");
  process.exit(2);
}
const tree = resolve(positionals[0]!);
const load = (rel: string) => import(pathToFileURL(join(tree, rel)).href);
const db = (await load("src/store/db.ts")) as OldDb;
const { Runner } = (await load("src/runner/runner.ts")) as { Runner: OldRunnerClass };

const old: Subject = {
  name: describeCheckout(tree),
  root: tree,
  bin: join(tree, "bin/topn"),
  async seed(home, tasks: readonly NoopTask[]) {
    const store = db.openStore(home);
    try {
      store.tasks.enqueue(
        tasks.map((t) => ({ platform: "noop", ...t, contentHash: "h", runAt: 0, maxAttempts: 3 })),
      );
    } finally {
      store.close();
    }
  },
  async drain(home, opts) {
    const store = db.openStore(home);
    try {
      // The old runner counted nothing: count its claim calls at the store.
      let claimAttempts = 0;
      const claim = store.tasks.claim.bind(store.tasks);
      store.tasks.claim = (...args: unknown[]) => {
        claimAttempts++;
        return claim(...args);
      };
      const platform = noopPlatform(opts.delayMs);
      const runner = new Runner({
        store: store.tasks,
        home,
        platform: async () => platform,
        concurrency: opts.concurrency,
        ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }),
      });
      const summary = await runner.run({ once: true });
      return { succeeded: summary.succeeded.length, claimAttempts };
    } finally {
      store.close();
    }
  },
  async bigDatabase(home, n) {
    db.openStore(home).close();
    const conn = db.openConnection(join(home, "topn.db"));
    conn.pragma("synchronous = OFF");
    // The old schema: no identity column yet.
    const insert = conn.prepare(
      `INSERT INTO tasks (platform, account, file, content_hash, title, status, run_at, attempts, max_attempts,
         error_kind, error_step, error_message, url, created_at, started_at, finished_at, updated_at)
       VALUES ('zhihu', @account, @file, 'h', @title, @status, @t, @attempts, 5, @kind, @step, @msg, @url,
         @t, @t, @t, @t)`,
    );
    conn.transaction(() => {
      for (let i = 0; i < n; i++) insert.run(bigRow(i));
    })();
    conn.close();
  },
};

process.stderr.write(`running core benchmarks on ${tree} (${old.name})…\n`);
const rows = await coreBenchmarks(old);
writeBench(values.out, benchFile(old.name, rows));
console.log(table(rows));
console.log(`\n(written to ${values.out})`);
