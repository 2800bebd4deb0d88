// A real PostgreSQL for the tests and the bench: TOPN_TEST_PG_URL (an admin URL: may create databases), or
// else a throwaway cluster started here from the installed binaries (as the `postgres` user when run as
// root: the server refuses root), or else a reason to skip. Nothing is mocked.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export type Admin = { url: string; skip?: undefined } | { url?: undefined; skip: string };

let admin: Promise<Admin> | undefined;

/**
 * The admin URL for this process (one cluster per test file at most, stopped when the process exits).
 * `TOPN_TEST_PG_URL=skip` skips the PostgreSQL variants on purpose.
 */
export function pgAdmin(opts: { env?: NodeJS.ProcessEnv; durable?: boolean } = {}): Promise<Admin> {
  admin ??= resolveAdmin(opts.env ?? process.env, opts.durable ?? false);
  return admin;
}

async function resolveAdmin(env: NodeJS.ProcessEnv, durable: boolean): Promise<Admin> {
  const given = env["TOPN_TEST_PG_URL"];
  if (given === "skip") return { skip: "PostgreSQL variants skipped: TOPN_TEST_PG_URL=skip" };
  if (given) return { url: given };
  const bin = findBinaries();
  if (!bin) {
    return {
      skip: "PostgreSQL variants skipped: no initdb found; install PostgreSQL or set TOPN_TEST_PG_URL to an admin URL",
    };
  }
  return { url: await throwawayCluster(bin, { durable }) };
}

/**
 * A cluster of its own (e.g. one that asks for a password), or undefined when PostgreSQL is not installed
 * here. Stopped when the process exits.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<string | undefined> {
  const bin = findBinaries();
  return bin ? throwawayCluster(bin, opts) : undefined;
}

export interface ClusterOptions {
  durable?: boolean;
  /** Password authentication (scram-sha-256) for TCP connections, with this password for `postgres`. */
  password?: string;
}

/** The folder holding initdb/pg_ctl: PATH first, then Debian's versioned folders (newest first). */
function findBinaries(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin/initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * initdb + pg_ctl start on a free port, trust auth, socket in the cluster's folder; stopped (and removed)
 * when this process exits, however the tests ended. Unless `durable` (the bench: figures must mean what a
 * real server does), fsync is off: a throwaway cluster needs no durability, and tests share the cores.
 */
async function throwawayCluster(bin: string, opts: ClusterOptions): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "topn-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]) =>
    asRoot ? (["runuser", ["-u", "postgres", "--", cmd, ...args]] as const) : ([cmd, args] as const);
  if (asRoot) chownSync(dir, uid("postgres"), gid("postgres"));
  const run = (cmd: string, args: string[]) => {
    const [c, a] = as(join(bin, cmd), args);
    execFileSync(c, [...a], { stdio: "pipe" });
  };
  const auth = ["-A", "trust"];
  if (opts.password !== undefined) {
    const pwfile = join(dir, "pw");
    writeFileSync(pwfile, opts.password);
    if (asRoot) chownSync(pwfile, uid("postgres"), gid("postgres"));
    auth.splice(0, 2, "--auth-local=trust", "--auth-host=scram-sha-256", `--pwfile=${pwfile}`);
  }
  run("initdb", ["-D", data, ...auth, "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const fast = opts.durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  const serverOpts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200${fast}`;
  run("pg_ctl", ["-D", data, "-o", serverOpts, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  process.on("exit", () => {
    const [c, a] = as(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
    spawnSync(c, [...a], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  });
  const password = opts.password === undefined ? "" : `:${encodeURIComponent(opts.password)}`;
  return `postgres://postgres${password}@127.0.0.1:${port}/postgres`;
}

const uid = (user: string) => Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
const gid = (user: string) => Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());

/** `url` with another database name (and optional query parameters). */
export function withDatabase(url: string, database: string, params: Record<string, string> = {}): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.href;
}

export async function adminQuery(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, values);
  } finally {
    await c.end();
  }
}

/** A new, empty database; dropped (even with connections left by killed processes) by `drop()`. */
export async function createDatabase(
  adminUrl: string,
  prefix = "topn_test",
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString("hex")}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: async () => {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
