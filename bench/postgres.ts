// PostgreSQL figures (issue 10): claims/s of the store, and end-to-end tasks/s of 1 and 3 real `topn run`
// processes sharing one database, on a no-op platform with a per-task latency. The server is
// TOPN_BENCH_PG_URL (or TOPN_TEST_PG_URL), else a throwaway cluster with durable commits (fsync on).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openPostgresStore } from "../src/store/postgres/open.js";
import type { NewTask, Store } from "../src/store/types.js";
import { createDatabase, pgAdmin } from "../test/helpers/pg.js";
import { collect, spawnTopn } from "../test/helpers/run.js";
import type { Row } from "./table.js";

const NOOP_PLATFORM = new URL("./noop-platform.ts", import.meta.url).pathname;

const tasks = (n: number, accounts: number): NewTask[] =>
  Array.from({ length: n }, (_, i) => ({
    platform: "noop",
    account: `acct-${i % accounts}`,
    file: `/bench/${i}.md`,
    contentHash: "h",
    digest: "d",
    title: `T${i}`,
    runAt: null,
    maxAttempts: 3,
  }));

async function withDatabase<T>(adminUrl: string, fn: (url: string, store: Store) => Promise<T>): Promise<T> {
  const db = await createDatabase(adminUrl, "topn_bench");
  try {
    const store = await openPostgresStore(db.url);
    try {
      return await fn(db.url, store);
    } finally {
      await store.close();
    }
  } finally {
    await db.drop();
  }
}

/**
 * What this server does with nothing of topn in the way: one-row update commits/s by `workers` connections.
 * Machines (and their load) differ; a figure next to this one says how much of it topn uses.
 */
async function commitRate(adminUrl: string, workers = 4, ms = 2000): Promise<number> {
  const db = await createDatabase(adminUrl, "topn_bench");
  const clients = Array.from({ length: workers }, () => new pg.Client({ connectionString: db.url }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    await clients[0]!.query(
      "CREATE TABLE t (id int PRIMARY KEY, n bigint); INSERT INTO t SELECT g, 0 FROM generate_series(0, 99) g",
    );
    let commits = 0;
    const end = performance.now() + ms;
    await Promise.all(
      clients.map(async (c, w) => {
        for (let i = 0; performance.now() < end; i++) {
          await c.query("UPDATE t SET n = n + 1 WHERE id = $1", [(w * 25 + i) % 100]);
          commits++;
        }
      }),
    );
    return commits / (ms / 1000);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
    await db.drop();
  }
}

/** `workers` claim loops (each its own connection, as separate machines would be): claim → succeed. */
async function claimRate(adminUrl: string, raw: number, n = 2000, accounts = 200, workers = 4): Promise<Row> {
  return withDatabase(adminUrl, async (url, store) => {
    await store.tasks.enqueue(tasks(n, accounts));
    const clients = await Promise.all(
      Array.from({ length: workers }, () => openPostgresStore(url, { poolSize: 1 })),
    );
    const pacing = { gapMs: 0, dailyCap: 0 };
    let claims = 0;
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c, w) => {
        for (let i = 0; ; i++) {
          const token = `w${w}-${i}`;
          const t = await c.tasks.claim({ owner: `bench:${w}:x`, token, leaseMs: 60_000, pacing });
          if (!t) return;
          claims++;
          const done = {
            url: "u",
            articleId: String(t.id),
            state: "published",
            contentHash: "h",
            digest: "d",
          } as const;
          await c.tasks.succeed({ id: t.id, token }, done);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    await Promise.all(clients.map((c) => c.close()));
    if (claims !== n) throw new Error(`${claims} claims for ${n} tasks`);
    const rate = claims / secs;
    return {
      key: "pg.claims",
      what: `PostgreSQL claims, claim + succeed by ${workers} connections (${n} tasks, ${accounts} accounts)`,
      value: rate,
      unit: "claims/s",
      // Two commits per task (the claim, the outcome).
      text: `${Math.round(rate).toLocaleString("en")} claims/s (${Math.round((200 * rate) / raw)}% of the raw commit rate)`,
      target: "≥ 25% of the raw commit rate",
      ok: (2 * rate) / raw >= 0.25,
      better: "higher",
    };
  });
}

interface EndToEnd {
  rate: number;
  p50: number;
  p95: number;
}

/** `runners` real `topn run --once` processes; tasks/s from the database's first claim to its last outcome. */
async function endToEnd(adminUrl: string, runners: number, n: number, latencyMs: number): Promise<EndToEnd> {
  return withDatabase(adminUrl, async (url, store) => {
    await store.tasks.enqueue(tasks(n, 24));
    const env = {
      TOPN_DATABASE_URL: url,
      TOPN_EXTRA_PLATFORM: NOOP_PLATFORM,
      NOOP_LATENCY_MS: String(latencyMs),
      TOPN_GAP: "0",
      TOPN_CAP: "0",
      TOPN_WRITE_BACK: "0",
    };
    const results = await Promise.all(
      Array.from({ length: runners }, async (_, i) => {
        // Each runner is a machine of its own: its own TOPN_HOME.
        const home = mkdtempSync(join(tmpdir(), `topn-bench-${i}-`));
        try {
          return await collect(
            spawnTopn(["run", "--once", "--concurrency", "4"], {
              tsx: true,
              env: { ...env, TOPN_HOME: home },
            }),
          );
        } finally {
          rmSync(home, { recursive: true, force: true });
        }
      }),
    );
    for (const r of results) if (r.code !== 0) throw new Error(`topn run exited ${r.code}: ${r.stderr}`);
    const all = await store.tasks.list();
    const done = all.filter((t) => t.status === "succeeded" && t.attempts === 1);
    if (done.length !== n) throw new Error(`${done.length} of ${n} tasks succeeded at the first attempt`);
    const first = Math.min(...done.map((t) => t.startedAt!));
    const last = Math.max(...done.map((t) => t.finishedAt!));
    const per = done.map((t) => t.finishedAt! - t.startedAt!).sort((a, b) => a - b);
    return {
      rate: n / ((last - first) / 1000),
      p50: per[Math.floor(per.length / 2)]!,
      p95: per[Math.floor(per.length * 0.95)]!,
    };
  });
}

export async function postgresBenchmarks(): Promise<Row[]> {
  const admin = await pgAdmin({
    env: {
      ...process.env,
      TOPN_TEST_PG_URL: process.env["TOPN_BENCH_PG_URL"] ?? process.env["TOPN_TEST_PG_URL"],
    },
    durable: true,
  });
  if (admin.url === undefined)
    return [
      {
        key: "pg.skipped",
        what: "PostgreSQL benchmarks",
        value: 0,
        unit: "",
        text: admin.skip,
        target: "",
        ok: null,
        better: null,
      },
    ];
  const latencyMs = 100;
  const n = 240;
  const one = await endToEnd(admin.url, 1, n, latencyMs);
  const three = await endToEnd(admin.url, 3, n, latencyMs);
  const row = (k: number, r: EndToEnd) =>
    `${r.rate.toFixed(1)} tasks/s (per task p50 ${r.p50} ms, p95 ${r.p95} ms; ideal ${(k * 4 * 1000) / latencyMs})`;
  const raw = await commitRate(admin.url);
  return [
    {
      key: "pg.commits",
      what: "PostgreSQL raw commit rate of this server (one-row updates, 4 connections)",
      value: raw,
      unit: "commits/s",
      target: "",
      ok: null,
      better: null,
    },
    await claimRate(admin.url, raw),
    {
      key: "pg.oneRunner",
      what: `PostgreSQL end to end, 1 topn run (--concurrency 4), ${n} tasks × ${latencyMs} ms, 24 accounts`,
      value: one.rate,
      unit: "tasks/s",
      text: row(1, one),
      target: "",
      ok: null,
      better: "higher",
    },
    {
      key: "pg.threeRunners",
      what: `PostgreSQL end to end, 3 topn run processes, same work`,
      value: three.rate / one.rate,
      unit: "×",
      text: `${row(3, three)}; ${(three.rate / one.rate).toFixed(2)}× one runner`,
      target: "3 runners ≥ 2× one",
      ok: three.rate >= 2 * one.rate,
      better: "higher",
    },
  ];
}
