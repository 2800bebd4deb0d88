import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

// A lease owner names the runner process: machine, pid and a random tag (pids are reused).
// On the same machine, a lease whose pid no longer exists can be recovered at once instead of
// waiting for it to expire; a live pid (even a reused one) just means waiting for the expiry.
export function newOwnerId(pid = process.pid): string {
  return `${machineName()}:${pid}:${randomBytes(3).toString("hex")}`;
}

/**
 * This machine's name in the shared database: whose leases it may judge by pid, and which accounts' sessions
 * it holds. The host name, unless TOPN_MACHINE says otherwise (two machines with one host name, containers).
 */
export function machineName(env: NodeJS.ProcessEnv = process.env): string {
  return (env["TOPN_MACHINE"] || hostname()).replaceAll(":", "_");
}

export function isOwnerDead(owner: string): boolean {
  const [host, pidText] = owner.split(":");
  if (host !== machineName()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  return isProcessGone(pid);
}

/** Whether no process with this pid runs on this host. A zombie (exited, not yet reaped) is gone. */
export function isProcessGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
  // In a container whose init never reaps, a killed process lingers as a zombie and still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false; // no /proc (macOS, Windows): it answered, so it runs
  }
}
