import { openSqliteStore, type SqliteOptions } from "../../src/store/sqlite/open.js";
import type { NewTask, Store } from "../../src/store/types.js";
import { FAKE_PLATFORM, tempDir, topn } from "./run.js";

/** A SQLite store in a fresh TOPN_HOME, closed and removed after the test. */
export function testStore(t: { after(fn: () => void | Promise<void>): void }, opts: SqliteOptions = {}) {
  const home = tempDir(t);
  const store = openSqliteStore(home, opts);
  t.after(() => store.close());
  return { home, store };
}

let files = 0;

/** A task as `topn publish` would enqueue it, with a fresh file path unless one is given. */
export function newTask(over: Partial<NewTask> = {}): NewTask {
  const file = over.file ?? `/posts/t${++files}.md`;
  return {
    platform: "fake",
    account: "a",
    file,
    contentHash: `h-${file}`,
    digest: `d-${file}`,
    title: "T",
    runAt: null,
    maxAttempts: 3,
    ...over,
  };
}

/** Enqueue and return the ids (every task must be queued). */
export async function enqueueIds(store: Store, tasks: NewTask[]): Promise<number[]> {
  const out = await store.tasks.enqueue(tasks);
  return out.map((o) => {
    if (o.kind !== "queued") throw new Error(`expected queued, got ${o.kind}`);
    return o.task.id;
  });
}

/**
 * A TOPN_HOME with the fake platform's accounts logged in and a folder for articles: `run` is `topn` there,
 * on the fake platform, without pacing.
 */
export async function fakeHome<E extends Record<string, string>>(
  t: { after(fn: () => void | Promise<void>): void },
  opts: { accounts?: string[]; folder?: string; env?: (home: string) => E } = {},
) {
  const { home, store } = testStore(t);
  const dir = tempDir(t, opts.folder ?? "topn-posts-");
  for (const name of opts.accounts ?? ["main"])
    await store.accounts.login({
      platform: "fake",
      name,
      displayName: name,
      uid: null,
      urlToken: null,
      sessionExpiresAt: null,
    });
  const env = {
    TOPN_HOME: home,
    TOPN_EXTRA_PLATFORM: FAKE_PLATFORM,
    TOPN_POLL_MS: "20",
    TOPN_GAP: "0",
    TOPN_CAP: "0",
    ...(opts.env?.(home) as E),
  };
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    topn(args, { env: { ...env, ...extra }, cwd: dir, tsx: true });
  return { home, dir, store, env, run };
}
