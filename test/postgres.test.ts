// What only the PostgreSQL engine has to get right: migrating once when many machines start together,
// refusing a newer schema untouched, one-line errors that never show the password, losing a race on a
// unique index quietly, retrying what a restart or a lock timeout interrupts, and the database's clock.
// The behaviour both engines share is tested by store.test.ts, runner.test.ts and processes.test.ts.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { UsageError } from "../src/errors.js";
import { isTransientPgError } from "../src/store/postgres/errors.js";
import { MIGRATIONS, SCHEMA_VERSION } from "../src/store/postgres/migrations.js";
import { openPostgresStore } from "../src/store/postgres/open.js";
import { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from "../src/store/sqlite/migrations.js";
import type { NewTask, Store } from "../src/store/types.js";
import { engines, freshSchema } from "./helpers/engines.js";
import { adminQuery, startCluster, withDatabase } from "./helpers/pg.js";
import { FAKE_PLATFORM, tempDir, topn, waitFor } from "./helpers/run.js";

const postgres = (await engines()).find((e) => e.name === "postgres")!;
const skip = postgres.skip;
const PASSWORD = "s3cret-Pw0rd";

const task = (over: Partial<NewTask> = {}): NewTask => ({
  platform: "fake",
  account: "a",
  file: "/tmp/a.md",
  contentHash: "h",
  digest: "d",
  title: "T",
  runAt: null,
  maxAttempts: 3,
  ...over,
});
const pacing = { gapMs: 0, dailyCap: 0 };

/** A connection of the test's own, to play "another machine in the middle of a transaction". */
async function session(t: { after(fn: () => unknown): void }, url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.after(() => c.end());
  return c;
}

/** Resolves once some backend of `url`'s database waits for a lock (the race is set up, not slept for). */
function waitingOnLock(url: string) {
  return waitFor("a statement waiting for a lock", async () => {
    const r = await adminQuery(
      url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
    );
    return (r.rows[0] as { n: number }).n > 0;
  });
}

function assertUsage(e: unknown, message: RegExp, hint?: RegExp): true {
  assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
  assert.match(e.message, message);
  if (hint) assert.match(e.hint ?? "", hint);
  assert.doesNotMatch(`${e.message} ${e.hint ?? ""}`, new RegExp(PASSWORD), "the password is never shown");
  assert.doesNotMatch(e.message, /\n/, "one line");
  return true;
}

const tables = async (url: string) =>
  (
    await adminQuery(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
    )
  ).rows.map((r) => (r as { table_name: string }).table_name);

test("a new database gets the schema SQLite has: the same tables, the partial unique indexes, a version", {
  skip,
}, async (t) => {
  const { url } = await freshSchema();
  const store = await openPostgresStore(url);
  t.after(() => store.close());
  assert.equal(SCHEMA_VERSION, SQLITE_SCHEMA_VERSION, "one number names one schema in both engines");
  assert.deepEqual(await store.check(), { schema: SCHEMA_VERSION, latest: SCHEMA_VERSION, problems: [] });
  assert.deepEqual(await tables(url), [
    "accounts",
    "articles",
    "hosts",
    "publishes",
    "schema_migrations",
    "task_events",
    "tasks",
  ]);
  const idx = await adminQuery(
    url,
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
  );
  const def = (name: string) =>
    (idx.rows as { indexname: string; indexdef: string }[]).find((r) => r.indexname === name)?.indexdef;
  assert.match(
    def("tasks_one_running_per_account") ?? "",
    /UNIQUE .*\(platform, account\) WHERE \(status = 'running'/,
  );
  assert.match(
    def("tasks_one_active_per_identity") ?? "",
    /UNIQUE .*\(platform, account, identity\) WHERE \(status = ANY \(ARRAY\['queued'::text, 'running'::text\]\)\)/,
  );
  assert.equal(store.kind, "postgres");
});

test("several machines opening an empty database at once migrate it once", { skip }, async (t) => {
  const { url } = await freshSchema();
  const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore(url, { poolSize: 1 })));
  t.after(() => Promise.all(stores.map((s) => s.close())));
  const rows = (await adminQuery(url, "SELECT version FROM schema_migrations ORDER BY version")).rows;
  assert.deepEqual(
    rows.map((r) => (r as { version: number }).version),
    MIGRATIONS.map((m) => m.version),
  );
  // Every one of them works on the same tables.
  await stores[0]!.tasks.enqueue([task()]);
  assert.equal((await stores[5]!.tasks.list()).length, 1);
});

test("a database from a newer topn is refused, and nothing is created or changed", { skip }, async () => {
  const { url } = await freshSchema();
  await adminQuery(
    url,
    "CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)",
  );
  await adminQuery(url, "INSERT INTO schema_migrations VALUES ($1, 1)", [SCHEMA_VERSION + 1]);
  const urlWithPassword = url.replace("postgres://postgres@", `postgres://postgres:${PASSWORD}@`);
  await assert.rejects(openPostgresStore(urlWithPassword), (e) =>
    assertUsage(
      e,
      /written by a newer topn \(schema 4; this topn knows up to 3\); it was left untouched/,
      /upgrade topn/,
    ),
  );
  assert.deepEqual(await tables(url), ["schema_migrations"]);
});

test("a malformed URL is a one-line usage error that never shows the password", async () => {
  for (const [url, why] of [
    [`postgres://me:${PASSWORD}@db.example:port/topn`, /is not a URL/],
    [`mysql://me:${PASSWORD}@db.example/topn`, /not a PostgreSQL URL \(it starts with mysql:\)/],
    [`me:${PASSWORD}@db.example/topn`, /not a PostgreSQL URL|not a URL/],
    ["postgres//nothing", /not a URL/],
  ] as const) {
    await assert.rejects(openPostgresStore(url), (e) =>
      assertUsage(e, why, /postgres:\/\/USER:PASSWORD@HOST/),
    );
  }
});

test("a refused connection names the host and port and says what to do", async () => {
  const server = await import("node:net").then(
    (net) =>
      new Promise<number>((resolve) => {
        const s = net.createServer();
        s.listen(0, "127.0.0.1", () => {
          const port = (s.address() as { port: number }).port;
          s.close(() => resolve(port));
        });
      }),
  );
  await assert.rejects(openPostgresStore(`postgres://me:${PASSWORD}@127.0.0.1:${server}/topn`), (e) =>
    assertUsage(
      e,
      new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${server}: connection refused`),
      /start PostgreSQL/,
    ),
  );
});

test("a database that does not exist is named, with the command that creates it", { skip }, async () => {
  const { databaseUrl } = await freshSchema();
  const url = withDatabase(databaseUrl, "no_such_db").replace(
    "postgres://postgres@",
    `postgres://postgres:${PASSWORD}@`,
  );
  await assert.rejects(openPostgresStore(url), (e) =>
    assertUsage(e, /database "no_such_db" does not exist on 127\.0\.0\.1:\d+/, /createdb no_such_db/),
  );
});

test("a user who may not create tables is told the grant, and nothing is created", { skip }, async (t) => {
  const { databaseUrl, schema, url } = await freshSchema();
  const role = `topn_ro_${schema}`;
  await adminQuery(databaseUrl, `CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
  await adminQuery(databaseUrl, `GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
  t.after(() => adminQuery(databaseUrl, `DROP OWNED BY ${role}; DROP ROLE ${role}`));
  const asRole = url.replace("postgres://postgres@", `postgres://${role}:${PASSWORD}@`);
  await assert.rejects(openPostgresStore(asRole), (e) =>
    assertUsage(
      e,
      new RegExp(
        `user "${role}" may not use topn's tables in database "\\w+" on [\\d.:]+: permission denied`,
      ),
      /GRANT CREATE/,
    ),
  );
  assert.deepEqual(await tables(url), [], "the failed migration left nothing behind");

  // Tables made by the owner, but this user may only read them: refused at open, not at the first claim.
  const owner = await openPostgresStore(url);
  await owner.close();
  await adminQuery(databaseUrl, `GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
  await assert.rejects(openPostgresStore(asRole), (e) =>
    assertUsage(
      e,
      /permission denied for tasks, task_events, accounts, articles, publishes, hosts \(INSERT, UPDATE, DELETE\)$/,
      /GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES/,
    ),
  );
});

test("a wrong password is an authentication error, not a stack trace", { skip }, async () => {
  const url = await startCluster({ password: PASSWORD });
  assert.ok(url, "PostgreSQL binaries are installed (engines() found them or a URL)");
  const wrong = url.replace(encodeURIComponent(PASSWORD), "not-it");
  await assert.rejects(openPostgresStore(wrong), (e) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /refused user "postgres": password authentication failed/);
    assert.match(e.hint ?? "", /check the user and password/);
    assert.doesNotMatch(e.message, /not-it/);
    return true;
  });
  const store = await openPostgresStore(url);
  assert.equal(
    store.location,
    url.replace(`:${encodeURIComponent(PASSWORD)}@`, "@"),
    "location has no password",
  );
  await store.close();
});

test("transient errors: codes and connection losses are retried, the rest are not", () => {
  for (const code of ["40001", "40P01", "55P03", "57P01", "08006", "ECONNRESET"]) {
    assert.equal(isTransientPgError(Object.assign(new Error("x"), { code })), true, code);
  }
  assert.equal(isTransientPgError(new Error("Connection terminated unexpectedly")), true);
  assert.equal(isTransientPgError(new Error("timeout exceeded when trying to connect")), true, "a full pool");
  const stale = Object.assign(new Error("cached plan must not change result type"), { code: "0A000" });
  assert.equal(isTransientPgError(stale), true, "a statement prepared before a migration");
  for (const code of ["23505", "42501", "42P01", "22P02", "0A000", undefined]) {
    assert.equal(isTransientPgError(Object.assign(new Error("x"), { code })), false, String(code));
  }
});

async function open(
  t: { after(fn: () => unknown): void },
  opts: Parameters<typeof openPostgresStore>[1] = {},
) {
  const { url, databaseUrl } = await freshSchema();
  const store = await openPostgresStore(url, opts);
  t.after(() => store.close());
  return { store, url, databaseUrl };
}

async function claimOne(store: Store, token: string) {
  return store.tasks.claim({ owner: "m:1:x", token, leaseMs: 60_000, pacing });
}

test("a claim that loses the one-running-per-account race to another machine tries the next account", {
  skip,
}, async (t) => {
  const { store, url } = await open(t);
  const [a1, a2, b1] = (
    await store.tasks.enqueue([
      task({ file: "/a1.md" }),
      task({ file: "/a2.md" }),
      task({ account: "b", file: "/b1.md" }),
    ])
  ).map((o) => (o.kind === "queued" ? o.task.id : 0));
  // Another machine is claiming a1 right now: its transaction has not committed yet.
  const other = await session(t, url);
  await other.query("BEGIN");
  await other.query(
    "UPDATE tasks SET status = 'running', lease_owner = 'm:2:y', lease_token = 'theirs', lease_expires_at = 0 WHERE id = $1",
    [a1],
  );
  // This claim skips the locked a1, picks a2 and waits on the unique index for the other transaction.
  const claiming = claimOne(store, "mine");
  await waitingOnLock(url);
  await other.query("COMMIT");
  const claimed = await claiming;
  assert.equal(claimed?.id, b1, "it lost account a and took account b instead of throwing");
  assert.equal((await store.tasks.get(a2!))!.status, "queued");
  assert.equal(await claimOne(store, "again"), undefined, "account a runs elsewhere, b here: nothing left");
});

test("enqueueing an article another machine is enqueueing at the same moment reports it active", {
  skip,
}, async (t) => {
  const { store, url } = await open(t);
  const other = await session(t, url);
  await other.query("BEGIN");
  await other.query(
    `INSERT INTO tasks (platform, account, file, identity, content_hash, title, status, run_at, created_at, updated_at)
     VALUES ('fake', 'a', '/tmp/a.md', 'path:/tmp/a.md', 'h', 'T', 'queued', 0, 0, 0)`,
  );
  const enqueueing = store.tasks.enqueue([task()]);
  await waitingOnLock(url);
  await other.query("COMMIT");
  await assert.rejects(enqueueing, (e: unknown) => {
    assert.equal((e as Error).constructor.name, "EnqueueConflict");
    return true;
  });
  assert.deepEqual(
    (await store.tasks.enqueue([task()], { atomic: false })).map((o) => o.kind),
    ["active"],
  );
});

test("a lock held past lock_timeout is retried, not thrown to the runner", { skip }, async (t) => {
  const retried: unknown[] = [];
  const { store, url } = await open(t, { lockTimeoutMs: 50, onRetry: (e) => retried.push(e) });
  await store.tasks.enqueue([task()]);
  const claimed = (await claimOne(store, "tok"))!;
  const other = await session(t, url);
  await other.query("BEGIN");
  await other.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [claimed.id]);
  const beating = store.tasks.heartbeat({ id: claimed.id, token: "tok" }, 60_000);
  await waitFor("a lock timeout to be retried", () => retried.length > 0);
  await other.query("COMMIT");
  assert.equal(await beating, true);
  assert.equal((retried[0] as { code?: string }).code, "55P03");
});

test("a connection killed in the middle of a statement (a restart, a failover) is retried", {
  skip,
}, async (t) => {
  const retried: unknown[] = [];
  const { store, url, databaseUrl } = await open(t, { onRetry: (e) => retried.push(e) });
  await store.tasks.enqueue([task()]);
  const claimed = (await claimOne(store, "tok"))!;
  // Park the store's heartbeat on a row lock, so that its connection is busy when the server kills it.
  const other = await session(t, url);
  await other.query("BEGIN");
  await other.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [claimed.id]);
  const beating = store.tasks.heartbeat({ id: claimed.id, token: "tok" }, 60_000);
  await waitingOnLock(url);
  await adminQuery(
    databaseUrl,
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE application_name = 'topn' AND datname = current_database() AND wait_event_type = 'Lock'`,
  );
  await waitFor("the killed statement to be retried", () => retried.length > 0);
  await other.query("COMMIT");
  assert.equal(await beating, true, "the heartbeat went through on a new connection");
  assert.ok(isTransientPgError(retried[0]), String(retried[0]));
});

test("a column added under a running store (a newer topn migrating the shared database) breaks none of its statements", {
  skip,
}, async (t) => {
  const retried: unknown[] = [];
  const { store, url } = await open(t, { onRetry: (e) => retried.push(e) });
  const [first] = await store.tasks.enqueue([task(), task({ account: "b", file: "/b.md" })]);
  const id = first?.kind === "queued" ? first.task.id : -1;
  // Each statement is prepared once per connection; these run on the pool's connections before the change.
  await Promise.all([store.tasks.get(id), store.tasks.get(id), claimOne(store, "first")]);
  await adminQuery(url, "ALTER TABLE tasks ADD COLUMN from_a_newer_topn text");

  assert.equal((await store.tasks.get(id))?.id, id, "a read");
  assert.ok(await claimOne(store, "second"), "a write transaction");
  const stale = retried.filter((e) => (e as { code?: string }).code === "0A000");
  assert.ok(stale.length > 0, "the change was seen and retried on a fresh connection");
});

test("leases, due times and pacing use the database's clock, not this machine's", { skip }, async (t) => {
  const { store } = await open(t);
  const real = Date.now;
  t.after(() => {
    Date.now = real;
  });
  Date.now = () => real() + 3_600_000;
  await store.tasks.enqueue([task()]);
  const dbNow = await store.tasks.now();
  assert.ok(Math.abs(dbNow - real()) < 5_000, "now() is the server's clock");
  const claimed = (await claimOne(store, "tok"))!;
  assert.ok(claimed, "a task due by the database's clock is claimed whatever this machine thinks");
  assert.ok(
    Math.abs(claimed.leaseExpiresAt! - (dbNow + 60_000)) < 5_000,
    "the lease runs from the database's now",
  );
  Date.now = () => real() - 3_600_000;
  assert.deepEqual(
    await store.tasks.recover({ deadOwners: [], keep: [] }),
    [],
    "a clock an hour behind expires nothing",
  );
});

test("TOPN_DATABASE_URL and --database-url switch every command to PostgreSQL; TOPN_HOME gets no database", {
  skip,
}, async (t) => {
  const { url } = await freshSchema();
  const home = tempDir(t);
  writeFileSync(join(home, "a.md"), "# Hello\n\nbody\n");
  const env = { TOPN_HOME: home, TOPN_EXTRA_PLATFORM: FAKE_PLATFORM, TOPN_CREDENTIAL_STORE: "file" };
  const viaEnv = { env: { ...env, TOPN_DATABASE_URL: url }, cwd: home, tsx: true };
  const viaFlag = (args: string[]) => topn(["--database-url", url, ...args], { env, cwd: home, tsx: true });
  // The fake platform has no login; its account is known to the shared database.
  const store = await openPostgresStore(url);
  t.after(() => store.close());
  await store.accounts.login({
    platform: "fake",
    name: "a",
    displayName: null,
    uid: null,
    urlToken: null,
    sessionExpiresAt: null,
  });

  const published = await topn(["publish", "a.md", "--platform", "fake", "--no-wait"], viaEnv);
  assert.equal(published.code, 0, published.stderr);
  assert.equal((await store.tasks.get(1))?.status, "queued");
  assert.match((await viaFlag(["tasks"])).stdout, /1\s+queued\s+a\s+Hello/);
  assert.equal((await viaFlag(["cancel", "1"])).code, 0);
  assert.equal((await store.tasks.get(1))?.status, "cancelled");
  assert.equal((await topn(["retry", "1"], viaEnv)).code, 0);
  const ran = await topn(["run", "--once"], viaEnv);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal((await store.tasks.get(1))?.status, "succeeded");
  assert.match((await viaFlag(["show", "1"])).stdout, /published: https:\/\/fake\.example\/p\/draft-1/);
  assert.match((await topn(["accounts"], viaEnv)).stdout, /fake:a/);
  assert.equal(existsSync(join(home, "topn.db")), false, "no SQLite file: every command used PostgreSQL");
});

test("a database URL that cannot work: exit 2, one line with the fix, no password, nothing created", async (t) => {
  const home = tempDir(t);
  const r = await topn(["tasks"], {
    env: { TOPN_HOME: home, TOPN_DATABASE_URL: `postgres://me:${PASSWORD}@127.0.0.1:1/topn` },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    "topn: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused; start PostgreSQL there, or fix the host and port in the database URL\n",
  );
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD));
  assert.equal(existsSync(join(home, "topn.db")), false);
});
