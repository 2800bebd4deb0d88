// A Zhihu world for tests: the simulator in-process, a TOPN_HOME with a real SQLite store, sessions of
// simulated accounts in the file credential store, and the environment that points topn at all of it.
// `env` also works for a real topn process (process-level tests): it holds everything topn reads.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { articleDigest } from "../../src/article/digest.js";
import { prepareArticle } from "../../src/article/index.js";
import { BrowserPool } from "../../src/browser/pool.js";
import { openCredentialStore } from "../../src/credentials/index.js";
import type { Platform } from "../../src/platform.js";
import { Runner, type RunnerEvent, type RunSummary } from "../../src/runner/runner.js";
import { openConnection, openSqliteStore } from "../../src/store/sqlite/open.js";
import { type TaskRow, toTask } from "../../src/store/sqlite/tasks.js";
import type { NewTask, Store, Task } from "../../src/store/types.js";
import { ZhihuPlatform, type ZhihuTuning } from "../../src/zhihu/platform.js";
import { type AccountInfo, type Simulator, type SimulatorOptions, startSimulator } from "../sim/index.js";
import { simEnv, tempDir } from "./run.js";

export interface ZhihuWorld {
  sim: Simulator;
  home: string;
  /** Where articles are written (inside home). */
  docs: string;
  env: NodeJS.ProcessEnv;
  store: Store;
  /** One warm browser for the whole test; platforms made by `platform()` share it unless told otherwise. */
  pool: BrowserPool;
  accounts: Map<string, AccountInfo>;
  /** Creates (or logs in afresh) a simulated account and saves its session as `topn login` would. */
  addAccount(name: string): Promise<AccountInfo>;
  /** Writes `docs/<rel>` (and any extra files next to it, e.g. images); returns its absolute path. */
  writeArticle(rel: string, markdown: string, files?: Record<string, Buffer>): string;
  /** Enqueues the file as `topn publish` would (title and hash from prepareArticle). */
  enqueue(file: string, account: string, extra?: Partial<NewTask>): Promise<number>;
  /** A ZhihuPlatform on the shared pool (pass `{ pool: undefined }` for one with its own browser). */
  platform(tuning?: ZhihuTuning): ZhihuPlatform;
  /** Runs the given tasks to their end with the real Runner (fast back-off) and `platform`. */
  run(ids: number[], opts?: RunWith): Promise<RunSummary>;
  /** The task as the database has it now (a synchronous read, for assertions). */
  task(id: number): Task;
}

export interface RunWith {
  platform?: Platform;
  concurrency?: number;
  onEvent?: (e: RunnerEvent) => void;
}

/** Everything is closed and removed after the test, also on failure. */
export async function zhihuWorld(
  t: { after(fn: () => void | Promise<void>): void },
  opts: { accounts?: string[]; sim?: SimulatorOptions } = {},
): Promise<ZhihuWorld> {
  const home = tempDir(t, "topn-zhihu-");
  const docs = join(home, "docs");
  mkdirSync(docs);
  const sim = await startSimulator({ controlPort: false, ...opts.sim });
  t.after(() => sim.close());
  const env: NodeJS.ProcessEnv = {
    ...simEnv(sim, home),
    ...(process.env.TOPN_BROWSER ? { TOPN_BROWSER: process.env.TOPN_BROWSER } : {}),
  };
  const store = openSqliteStore(home);
  t.after(() => store.close());
  const reader = openConnection(join(home, "topn.db"));
  t.after(() => void reader.close());
  const credentials = await openCredentialStore({ home, env, warn: () => {} });
  const accounts = new Map<string, AccountInfo>();
  const platforms: ZhihuPlatform[] = [];
  const pool = new BrowserPool({ env });
  t.after(async () => {
    await Promise.all(platforms.map((p) => p.close()));
    await pool.close();
  });

  const world: ZhihuWorld = {
    sim,
    home,
    docs,
    env,
    store,
    pool,
    accounts,
    async addAccount(name) {
      const info = sim.createAccount(name);
      await credentials.set("zhihu", name, { cookies: info.cookies, savedAt: new Date().toISOString() });
      await store.accounts.login({
        platform: "zhihu",
        name,
        displayName: info.name,
        uid: info.uid,
        urlToken: info.urlToken,
        sessionExpiresAt: null,
      });
      accounts.set(name, info);
      return info;
    },
    writeArticle(rel, markdown, files = {}) {
      const file = join(docs, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, markdown);
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dirname(file), name), bytes);
      return file;
    },
    async enqueue(file, account, extra = {}) {
      const a = await prepareArticle(file);
      const [out] = await store.tasks.enqueue([
        {
          platform: "zhihu",
          account,
          file,
          contentHash: a.contentHash,
          digest: articleDigest(a),
          title: a.title,
          runAt: null,
          maxAttempts: 8,
          ...extra,
        },
      ]);
      if (out?.kind !== "queued") throw new Error(`${file}: not queued (${out?.kind})`);
      return out.task.id;
    },
    platform(tuning = { pool }) {
      const p = new ZhihuPlatform({ home, env, warn: () => {} }, tuning);
      platforms.push(p);
      return p;
    },
    async run(ids, w = {}) {
      const platform = w.platform ?? world.platform();
      const runner = new Runner({
        tasks: store.tasks,
        home,
        platform: async () => platform,
        concurrency: w.concurrency ?? 3,
        pollMs: 10,
        leaseMs: 30_000,
        retry: { baseMs: 5, capMs: 20 },
        ...(w.onEvent ? { onEvent: w.onEvent } : {}),
      });
      return runner.run({ only: ids });
    },
    task(id) {
      const row = reader.prepare<[number], TaskRow>("SELECT * FROM tasks WHERE id = ?").get(id);
      const task = row ? toTask(row) : undefined;
      if (!task) throw new Error(`no task ${id}`);
      return task;
    },
  };
  for (const name of opts.accounts ?? ["work"]) await world.addAccount(name);
  return world;
}
