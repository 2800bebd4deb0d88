import { openSqliteStore, type SqliteOptions } from "../../src/store/sqlite/open.js";
import type { NewTask, Store } from "../../src/store/types.js";
import { tempDir } from "./run.js";

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
