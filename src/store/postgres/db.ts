// The connection pool and the two ways the stores use it: a read (one statement) and a short write
// transaction. Both are retried with back-off on transient errors, like SQLite's retryBusy; nothing is ever
// held open while a job works.

import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { isStalePlan, isTransientPgError } from "./errors.js";

/** A statement with named parameters (`@name`), compiled once to PostgreSQL's `$n`. */
export interface Statement {
  /** The prepared statement's name on each connection: parsed and planned once per connection, not per call. */
  readonly name: string;
  readonly text: string;
  readonly names: readonly string[];
}

export type Params = Record<string, unknown>;

/** What a statement runs on: the pool (a read) or the client of a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(query: pg.QueryConfig): Promise<pg.QueryResult<R>>;
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** The database's clock in ms since the epoch, as SQLite's store counts it (whole ms, truncated). */
const DB_NOW = "floor(extract(epoch from now()) * 1000)::bigint";

export interface DbOptions {
  /** A clock for tests (pacing, leases): every time the database compares comes from it. */
  clock?: (() => number) | undefined;
  /** Told about each transient error before it is retried (tests; diagnostics). */
  onRetry?: ((e: unknown) => void) | undefined;
}

/**
 * Back-off before each retry of a transient error: about 3 s in all, like SQLite's. Past that the error
 * reaches the runner, which keeps the queue and the outcomes going with its own, longer patience.
 */
const DELAYS = [25, 50, 100, 200, 400, 800, 1600];

export class Db {
  constructor(
    readonly pool: pg.Pool,
    private readonly opts: DbOptions = {},
  ) {}

  /**
   * Compile `@name` parameters and the word NOW (the database's clock, or the test clock as a parameter).
   * `@` followed by a letter is never a PostgreSQL operator in topn's SQL (`@>`/`<@` are not used).
   */
  sql(text: string): Statement {
    const names: string[] = [];
    const withNow = text.replace(/\bNOW\b/g, this.opts.clock ? "@__now::bigint" : DB_NOW);
    const compiled = withNow.replace(/@([A-Za-z_]\w*)/g, (_, name: string) => {
      let i = names.indexOf(name);
      if (i < 0) i = names.push(name) - 1;
      return `$${i + 1}`;
    });
    // Named by its text, so two stores (or two statements) with the same SQL share one name without clashing.
    return {
      name: `topn_${createHash("sha1").update(compiled).digest("hex").slice(0, 16)}`,
      text: compiled,
      names,
    };
  }

  /** Run one statement and return its rows. */
  async run<R extends pg.QueryResultRow>(on: Queryable, st: Statement, params: Params = {}): Promise<R[]> {
    return (await on.query<R>(this.query(st, params))).rows;
  }

  /** Run one statement and return how many rows it changed. */
  async count(on: Queryable, st: Statement, params: Params = {}): Promise<number> {
    return (await on.query(this.query(st, params))).rowCount ?? 0;
  }

  private query(st: Statement, params: Params): pg.QueryConfig {
    return { name: st.name, text: st.text, values: this.values(st, params) };
  }

  /** A missing parameter is a bug, not a NULL. */
  private values(st: Statement, params: Params): unknown[] {
    return st.names.map((n) => {
      if (n === "__now") return Math.floor(this.opts.clock!());
      if (!(n in params) || params[n] === undefined) throw new Error(`missing SQL parameter @${n}`);
      return params[n];
    });
  }

  /**
   * Statements outside a transaction: reads, and writes that are one statement (atomic on their own, one
   * round trip). Retried like `tx`; `attempt` is 0 the first time.
   */
  read<T>(
    fn: (q: Queryable, attempt: number) => Promise<T>,
    again: (e: unknown) => boolean = () => false,
  ): Promise<T> {
    let attempt = 0;
    // pool.query drops a client whose statement failed, so a stale prepared statement's connection is
    // not reused by the retry.
    return withRetry(() => fn(this.pool, attempt++), again, this.opts.onRetry);
  }

  /**
   * A short READ COMMITTED transaction, retried whole on a transient error, or when `again(e)` says a race
   * was lost (a unique index another transaction filled first): the next try sees the winner's commit.
   */
  tx<T>(fn: (c: pg.PoolClient) => Promise<T>, again: (e: unknown) => boolean = () => false): Promise<T> {
    return withRetry(
      async () => {
        const client = await this.pool.connect();
        let broken: Error | undefined;
        try {
          await client.query("BEGIN");
          const out = await fn(client);
          await client.query("COMMIT");
          return out;
        } catch (e) {
          broken = await rollback(client, e);
          if (isStalePlan(e)) broken ??= e as Error;
          throw e;
        } finally {
          // A connection whose ROLLBACK failed is in an unknown state, and one holding a stale prepared
          // statement can never run it again: the pool must not hand either out again.
          client.release(broken);
        }
      },
      again,
      this.opts.onRetry,
    );
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

async function rollback(client: pg.PoolClient, cause: unknown): Promise<Error | undefined> {
  try {
    await client.query("ROLLBACK");
    return undefined;
  } catch {
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}

/** Run `fn`, again after a growing, jittered pause while its error is transient (or `again` says so). */
export async function withRetry<T>(
  fn: () => Promise<T>,
  again: (e: unknown) => boolean = () => false,
  onRetry: (e: unknown) => void = () => undefined,
  delays: readonly number[] = DELAYS,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= delays.length || !(isTransientPgError(e) || again(e))) throw e;
      onRetry(e);
      const d = delays[i]!;
      await sleep(d / 2 + Math.random() * d);
    }
  }
}
