import pg from "pg";
import { UsageError } from "../../errors.js";
import type { Store } from "../types.js";
import { PgAccountStore } from "./accounts.js";
import { Db } from "./db.js";
import { openProblem } from "./errors.js";
import { migrate, NewerDatabaseError, SCHEMA_VERSION, schemaVersion } from "./migrations.js";
import { PgTaskStore } from "./tasks.js";
import { parseDatabaseUrl, redactUrls } from "./url.js";

export interface PostgresOptions {
  /** A clock for tests (pacing, leases): every time the database compares comes from it. */
  clock?: () => number;
  /** Connections this process may hold (a runner's jobs each write now and then; a command needs one). */
  poolSize?: number;
  /** How long a statement waits for a row lock before it is retried (tests shorten it). */
  lockTimeoutMs?: number;
  /** Told about each transient error the store retries. */
  onRetry?: (e: unknown) => void;
  /** Where PGHOST/PGPORT/PGUSER/PGDATABASE come from when the URL leaves them out (messages name them). */
  env?: NodeJS.ProcessEnv;
}

const INT8 = 20;

// Times and ids are bigint columns; every value topn stores fits a double exactly (ms since the epoch).
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 && format !== "binary"
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Open (and on first use, create or upgrade) the shared queue in PostgreSQL. Every problem a person can fix
 * (the URL, the server, the login, the database, permissions, a newer schema) is a one-line UsageError, and
 * nothing was changed.
 */
export async function openPostgresStore(url: string, opts: PostgresOptions = {}): Promise<Store> {
  const target = parseDatabaseUrl(url, opts.env);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 4,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    application_name: "topn",
    // A claim waiting behind a lock longer than this is retried (55P03) instead of hanging the runner; a
    // process stopped (SIGSTOP) inside a transaction loses it instead of blocking every machine.
    lock_timeout: opts.lockTimeoutMs ?? 5_000,
    idle_in_transaction_session_timeout: 30_000,
    types,
  });
  // An idle connection that breaks (server restart) is dropped by the pool and replaced on the next
  // query; if the server is really gone, that query fails and says so. Without a listener it would crash.
  pool.on("error", () => undefined);

  try {
    const client = await pool.connect();
    try {
      await migrate(client);
      await checkPrivileges(client);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end();
    if (e instanceof NewerDatabaseError) {
      throw new UsageError(
        `${target.display} was written by a newer topn (schema ${e.found}; this topn knows up to ${e.known}); it was left untouched`,
        "upgrade topn (npm install -g topn@latest) or point TOPN_DATABASE_URL elsewhere",
      );
    }
    const problem = openProblem(e, target);
    if (problem) throw problem;
    // Not a problem of the person's making: keep the error, but never with a password in it.
    if (e instanceof Error) e.message = redactUrls(e.message);
    throw e;
  }

  const db = new Db(pool, { clock: opts.clock, onRetry: opts.onRetry });
  return {
    kind: "postgres",
    location: target.display,
    tasks: new PgTaskStore(db),
    accounts: new PgAccountStore(db),
    async check() {
      return db.read(async (c) => {
        const schema = await schemaVersion(c);
        const invalid = await c.query<{ name: string }>(
          `SELECT i.indexrelid::regclass::text AS name FROM pg_index i
           JOIN pg_class t ON t.oid = i.indrelid
           WHERE NOT i.indisvalid AND t.relnamespace = current_schema()::regnamespace`,
          [],
        );
        const problems = invalid.rows.map((r) => `index ${r.name} is invalid (REINDEX it)`);
        return { schema, latest: SCHEMA_VERSION, problems };
      });
    },
    close: () => db.close(),
  };
}

/**
 * A database topn can read but not write (a read-only role, revoked grants) would fail at the first
 * claim, mid-run; say so at open instead. One query, on tables that exist once migrate has run; each
 * privilege asked on its own (given a list, has_table_privilege answers "any of them").
 */
async function checkPrivileges(c: pg.PoolClient): Promise<void> {
  const r = await c.query<{ missing: string | null }>(
    `WITH lacking AS (
       SELECT t, min(tn) AS tn, string_agg(p, ', ' ORDER BY pn) AS privileges
       FROM unnest(ARRAY['tasks', 'task_events', 'accounts', 'articles', 'publishes', 'hosts']) WITH ORDINALITY AS x(t, tn),
            unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) WITH ORDINALITY AS y(p, pn)
       WHERE NOT has_table_privilege(t, p) GROUP BY t
     ), grouped AS (
       SELECT string_agg(t, ', ' ORDER BY tn) || ' (' || privileges || ')' AS line, min(tn) AS tn
       FROM lacking GROUP BY privileges
     )
     SELECT string_agg(line, '; ' ORDER BY tn) AS missing FROM grouped`,
  );
  const missing = r.rows[0]?.missing;
  if (missing) {
    throw Object.assign(new Error(`permission denied for ${missing}`), { code: "42501" });
  }
}
