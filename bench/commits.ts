// Durable commits: how many this machine can make (the ceiling for any queue on it), and how many topn makes.
import { join } from "node:path";
import Database from "better-sqlite3";

/**
 * Small write transactions on a SQLite file with the pragmas topn uses (WAL, synchronous=FULL): each is a
 * commit that waits for the disk, which is what a claim or an outcome costs. Not counted by countCommits.
 */
class CommitProbe {
  private readonly db: Database.Database;
  private readonly commit: () => unknown;
  private n = 0;
  private ms = 0;

  constructor(dir: string) {
    this.db = new Database(join(dir, "commit-rate.db"));
    ignored.add(this.db);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, note TEXT)");
    const insert = this.db.prepare("INSERT INTO t (at, note) VALUES (?, 'a row about as big as an event')");
    this.commit = this.db.transaction(() => insert.run(Date.now())).immediate;
    for (let i = 0; i < 20; i++) this.commit(); // the WAL file exists and is warm
  }

  /** Commit for `ms`; at least one commit. */
  burst(ms: number): void {
    const t0 = performance.now();
    do {
      this.commit();
      this.n++;
    } while (performance.now() - t0 < ms);
    this.ms += performance.now() - t0;
  }

  get rate(): number {
    return this.n / (this.ms / 1000);
  }

  get busyMs(): number {
    return this.ms;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Runs `fn` while sampling the durable-commit rate in short bursts (every `everyMs`, `burstMs` long, and once
 * before and after), so the rate is measured in the same moments as `fn`, under the same load from whatever
 * else the machine runs. A burst blocks the event loop, so `elapsedMs` leaves the bursts out.
 */
export async function sampledWhile<T>(
  dir: string,
  fn: () => Promise<T>,
  { everyMs = 250, burstMs = 25 } = {},
): Promise<{ result: T; commitRate: number; elapsedMs: number }> {
  const probe = new CommitProbe(dir);
  try {
    probe.burst(burstMs * 4);
    const start = probe.busyMs;
    const t0 = performance.now();
    const timer = setInterval(() => probe.burst(burstMs), everyMs);
    let result: T;
    try {
      result = await fn();
    } finally {
      clearInterval(timer);
    }
    const elapsedMs = performance.now() - t0 - (probe.busyMs - start);
    probe.burst(burstMs * 4);
    return { result, commitRate: probe.rate, elapsedMs };
  } finally {
    probe.close();
  }
}

export interface CommitCount {
  /** Write transactions that changed something: each waited for the disk. */
  commits: number;
  /** BEGIN IMMEDIATE/EXCLUSIVE transactions, changed or not: each held the write lock. */
  writeLocks: number;
}

const counting: CommitCount = { commits: 0, writeLocks: 0 };
let installed = false;
/** Connections of the benchmark itself (the commit probe), left out of the count. */
const ignored = new WeakSet<object>();

/**
 * Counts commits of every better-sqlite3 connection in this process, whichever topn (this checkout or an older
 * one) opened it. better-sqlite3 exposes no commit hook, so the statement methods are wrapped: a top-level
 * BEGIN notes total_changes(), its COMMIT compares; a writing statement outside a transaction is its own commit.
 */
function install(): void {
  if (installed) return;
  installed = true;
  const probe = new Database(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, unknown>;
  probe.close();
  const changes = new WeakMap<object, Database.Statement<[], { n: number }>>();
  const ours = new WeakSet<object>();
  const atBegin = new WeakMap<object, number>();
  const total = (db: Database.Database): number => {
    let st = changes.get(db);
    if (!st) {
      st = db.prepare<[], { n: number }>("SELECT total_changes() AS n");
      ours.add(st);
      changes.set(db, st);
    }
    return st.get()!.n;
  };
  for (const method of ["run", "get", "all", "iterate"] as const) {
    const original = proto[method] as (this: Database.Statement, ...args: unknown[]) => unknown;
    proto[method] = function (this: Database.Statement, ...args: unknown[]) {
      const db = this.database;
      if (ours.has(this) || ignored.has(db)) return original.apply(this, args);
      const sql = this.source.trim().toUpperCase();
      if (sql.startsWith("BEGIN")) {
        const result = original.apply(this, args);
        if (/IMMEDIATE|EXCLUSIVE/.test(sql)) counting.writeLocks++;
        atBegin.set(db, total(db));
        return result;
      }
      if (sql === "COMMIT") {
        const before = atBegin.get(db) ?? 0;
        const result = original.apply(this, args);
        if (total(db) > before) counting.commits++;
        return result;
      }
      if (this.reader || db.inTransaction) return original.apply(this, args);
      const before = total(db);
      const result = original.apply(this, args);
      if (total(db) > before) {
        counting.commits++;
        counting.writeLocks++;
      }
      return result;
    };
  }
}

/** Commits made by this process while `fn` runs. */
export async function countCommits<T>(fn: () => Promise<T>): Promise<{ result: T } & CommitCount> {
  install();
  const start = { ...counting };
  const result = await fn();
  return {
    result,
    commits: counting.commits - start.commits,
    writeLocks: counting.writeLocks - start.writeLocks,
  };
}
