// The checks `topn doctor` runs, one function each. A check never throws for what it finds: a problem is a
// result with its fix. Only a bug in topn escapes.

import { statfs } from "node:fs/promises";
import { join } from "node:path";
import { openCredentialStore } from "../credentials/index.js";
import { firstLine, UsageError } from "../errors.js";
import type { Store, Task } from "../store/types.js";
import { formatDuration } from "../ui/duration.js";

export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Below this, SQLite's journal, artifacts and Chrome's temporary profile can run out of room mid-task. */
export const MIN_FREE_BYTES = 200 * 1024 * 1024;
/** A task running longer than this is stuck more likely than slow (a 10 MB article takes well under a minute). */
export const LONG_RUNNING_MS = 10 * 60_000;

const problem = (check: string, e: unknown, fix: string): CheckResult => ({
  check,
  ok: false,
  detail: e instanceof UsageError ? e.message : firstLine(e),
  fix: e instanceof UsageError && e.hint ? e.hint : fix,
});

export async function checkDisk(home: string): Promise<CheckResult> {
  try {
    const s = await statfs(home);
    const free = Number(s.bavail) * Number(s.bsize);
    const mb = Math.floor(free / (1024 * 1024));
    if (free < MIN_FREE_BYTES)
      return {
        check: "disk",
        ok: false,
        detail: `${mb} MB free in ${home}`,
        fix: "free some space (topn prune --older-than 30d removes old tasks and their artifacts)",
      };
    return {
      check: "disk",
      ok: true,
      detail: `${mb >= 10_240 ? `${Math.floor(mb / 1024)} GB` : `${mb} MB`} free in ${home}`,
    };
  } catch (e) {
    return problem("disk", e, "check TOPN_HOME");
  }
}

export async function checkDatabase(
  open: () => Promise<Store>,
): Promise<{ result: CheckResult; store: Store | null }> {
  const fix =
    "stop every topn, keep a copy of topn.db, then rebuild it: sqlite3 topn.db .recover | sqlite3 recovered.db, and put recovered.db in its place";
  let store: Store;
  try {
    store = await open();
  } catch (e) {
    return { result: problem("database", e, fix), store: null };
  }
  try {
    const { schema, latest, problems } = await store.check();
    if (problems.length > 0)
      return {
        result: {
          check: "database",
          ok: false,
          detail: `${store.location}: the integrity check failed: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ""}`,
          fix,
        },
        store,
      };
    return {
      result: {
        check: "database",
        ok: true,
        detail: `${store.location}: schema ${schema} of ${latest}, integrity ok`,
      },
      store,
    };
  } catch (e) {
    // SQLITE_CORRUPT and friends are thrown by the check itself rather than listed.
    return {
      result: {
        check: "database",
        ok: false,
        detail: `${store.location}: the integrity check failed: ${firstLine(e)}`,
        fix,
      },
      store,
    };
  }
}

export async function checkCredentials(home: string, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const notes: string[] = [];
  try {
    const store = await openCredentialStore({ home, env, warn: (m) => notes.push(m) });
    if (store.kind === "keychain") return { check: "sessions", ok: true, detail: "the OS keychain answers" };
    const dir = join(home, "credentials");
    const why =
      env["TOPN_CREDENTIAL_STORE"] === "file" ? "TOPN_CREDENTIAL_STORE=file" : (notes[0] ?? "no OS keychain");
    return {
      check: "sessions",
      ok: true,
      detail: `${why.replace(/; keeping sessions in files.*$/, "")}: sessions are kept in files only you can read under ${dir}`,
    };
  } catch (e) {
    return problem("sessions", e, "set TOPN_CREDENTIAL_STORE=file to keep sessions in files");
  }
}

export async function checkBrowser(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const { findBrowser } = await import("../browser/find.js");
  let path: string;
  try {
    path = findBrowser(env);
  } catch (e) {
    return problem("browser", e, "install Chrome or Chromium, or set TOPN_BROWSER");
  }
  const { launchBrowser } = await import("../browser/launch.js");
  try {
    const browser = await launchBrowser({ headless: true, env });
    try {
      return { check: "browser", ok: true, detail: `${path} (${await browser.version()}) launches` };
    } finally {
      await browser.close().catch(() => {});
    }
  } catch (e) {
    return problem(
      "browser",
      `${path} does not start: ${firstLine(e)}`,
      `run it by hand to see why: ${path} --headless=new --dump-dom about:blank`,
    );
  }
}

/** Running tasks whose lease has expired: their runner is gone or frozen; the next runner recovers them. */
export function checkLeases(running: readonly Task[], now: number): CheckResult[] {
  const expired = running.filter((t) => t.leaseExpiresAt !== null && t.leaseExpiresAt < now);
  if (expired.length === 0) return [{ check: "leases", ok: true, detail: "no expired lease" }];
  return expired.map((t) => ({
    check: "leases",
    ok: false,
    detail: `task ${t.id}'s lease expired ${formatDuration(now - t.leaseExpiresAt!)} ago (runner ${t.leaseOwner ?? "unknown"})`,
    fix: "topn run --once recovers it (and any other one a stopped runner left)",
  }));
}

export function checkLongRunning(running: readonly Task[], now: number): CheckResult[] {
  const long = running.filter((t) => t.startedAt !== null && now - t.startedAt > LONG_RUNNING_MS);
  if (long.length === 0)
    return [
      { check: "running", ok: true, detail: `no task running for over ${formatDuration(LONG_RUNNING_MS)}` },
    ];
  return long.map((t) => ({
    check: "running",
    ok: false,
    detail: `task ${t.id} has been running for ${formatDuration(now - t.startedAt!)} (runner ${t.leaseOwner ?? "unknown"})`,
    fix: `see where it is: topn show ${t.id}; if its runner hangs, stop that process: the task goes back to the queue`,
  }));
}
