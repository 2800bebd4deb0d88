// "Same tests, both engines": a suite loops over engines() and runs each test against SQLite and, when a
// PostgreSQL is available (helpers/pg.ts), against PostgreSQL too: one fresh database per test file, one
// fresh schema per test inside it (ids start at 1, nothing leaks between tests). When it is not available
// the PostgreSQL variants are skipped with the reason in the test output.
import { after, type TestContext, test } from "node:test";
import pg from "pg";
import { openPostgresStore } from "../../src/store/postgres/open.js";
import { openConnection, openSqliteStore } from "../../src/store/sqlite/open.js";
import type { Store } from "../../src/store/types.js";
import { adminQuery, createDatabase, pgAdmin, withDatabase } from "./pg.js";
import { tempDir } from "./run.js";

export type EngineName = "sqlite" | "postgres";

export interface Opened {
  store: Store;
  /** A fresh TOPN_HOME (artifacts, credentials; the SQLite file too for sqlite). */
  home: string;
  /** What a topn process needs to use the same store: TOPN_HOME, and TOPN_DATABASE_URL for postgres. */
  env: Record<string, string>;
  /** The PostgreSQL URL of this test's schema (postgres only). */
  url?: string;
  /** One statement on a connection of its own, past the store (to show what the database itself refuses). */
  raw(sql: string): Promise<void>;
  /**
   * Another process takes the lock every write needs (SQLite's write lock; PostgreSQL: the tasks table in
   * EXCLUSIVE mode, which lets reads through) and keeps it until the returned function is called.
   */
  blockWrites(): Promise<() => Promise<void>>;
}

export interface OpenOptions {
  /** A test clock for every time the database compares. */
  clock?: () => number;
}

export interface Engine {
  name: EngineName;
  /** Why this engine's tests are skipped; undefined when they run. Pass as `{ skip }` to test/describe. */
  skip: string | undefined;
  /** A fresh, empty store for one test, closed (and its home removed) after it. */
  open(t: { after(fn: () => unknown): void }, opts?: OpenOptions): Promise<Opened>;
  /** Another store on the same data (a second process, a second machine). */
  reopen(t: { after(fn: () => unknown): void }, opened: Opened, opts?: OpenOptions): Promise<Store>;
}

const sqlite: Engine = {
  name: "sqlite",
  skip: undefined,
  async open(t, opts = {}) {
    const home = tempDir(t);
    const store = openSqliteStore(home, opts.clock ? { clock: opts.clock } : {});
    t.after(() => store.close());
    const raw = async (sql: string) => {
      const db = openConnection(store.location);
      try {
        db.prepare(sql).run();
      } finally {
        db.close();
      }
    };
    const blockWrites = async () => {
      const db = openConnection(store.location);
      db.exec("BEGIN IMMEDIATE");
      return async () => {
        db.exec("ROLLBACK");
        db.close();
      };
    };
    return { store, home, env: { TOPN_HOME: home }, raw, blockWrites };
  },
  async reopen(t, opened, opts = {}) {
    const store = openSqliteStore(opened.home, opts.clock ? { clock: opts.clock } : {});
    t.after(() => store.close());
    return store;
  },
};

let fileDatabase: Promise<{ url: string }> | undefined;
let schemas = 0;

/** This test file's database, created on first use and dropped when the file's tests are done. */
function database(adminUrl: string): Promise<{ url: string }> {
  if (!fileDatabase) {
    fileDatabase = createDatabase(adminUrl).then((db) => {
      after(() => db.drop());
      return db;
    });
  }
  return fileDatabase;
}

/** A URL whose connections create and find topn's tables in `schema` of the database in `url`. */
export function schemaUrl(url: string, schema: string): string {
  const u = new URL(url);
  return withDatabase(url, u.pathname.slice(1), { options: `-c search_path=${schema}` });
}

/**
 * An empty schema of its own in this file's database, and the URL that uses it (for tests that look at
 * what opening does to an empty or doctored database). Needs a PostgreSQL: check engines() first.
 */
export async function freshSchema(): Promise<{ url: string; schema: string; databaseUrl: string }> {
  const admin = await pgAdmin();
  if (!admin.url) throw new Error(admin.skip);
  const db = await database(admin.url);
  const schema = `t${++schemas}`;
  await adminQuery(db.url, `CREATE SCHEMA ${schema}`);
  return { url: schemaUrl(db.url, schema), schema, databaseUrl: db.url };
}

function postgres(): Engine {
  return {
    name: "postgres",
    skip: undefined,
    async open(t, opts = {}) {
      const home = tempDir(t);
      const { url } = await freshSchema();
      const store = await openPostgresStore(url, opts.clock ? { clock: opts.clock } : {});
      t.after(() => store.close());
      const raw = async (sql: string) => void (await adminQuery(url, sql));
      const blockWrites = async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query("BEGIN");
        await c.query("LOCK TABLE tasks IN EXCLUSIVE MODE");
        return async () => {
          await c.query("ROLLBACK");
          await c.end();
        };
      };
      return { store, home, url, env: { TOPN_HOME: home, TOPN_DATABASE_URL: url }, raw, blockWrites };
    },
    async reopen(t, opened, opts = {}) {
      const store = await openPostgresStore(opened.url!, opts.clock ? { clock: opts.clock } : {});
      t.after(() => store.close());
      return store;
    },
  };
}

/**
 * One test per engine, named "sqlite: …" and "postgres: …" (skipped, with the reason, when there is no
 * PostgreSQL). `fn` gets the engine to open its store with.
 */
export function bothEngines(
  all: readonly Engine[],
  name: string,
  fn: (t: TestContext, engine: Engine) => Promise<void>,
  opts: { timeout?: number } = {},
): void {
  for (const engine of all)
    test(`${engine.name}: ${name}`, { skip: engine.skip, ...opts }, (t) => fn(t, engine));
}

/** SQLite, then PostgreSQL (or its skip reason). Call once at the top of a test file. */
export async function engines(): Promise<Engine[]> {
  const admin = await pgAdmin();
  if (admin.url) return [sqlite, postgres()];
  const skipped: Engine = {
    name: "postgres",
    skip: admin.skip,
    open: () => Promise.reject(new Error(admin.skip)),
    reopen: () => Promise.reject(new Error(admin.skip)),
  };
  return [sqlite, skipped];
}
