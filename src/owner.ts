import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

// A lease owner names the runner process: host, pid and a random tag (pids are reused).
// On the same host, a lease whose pid no longer exists can be recovered at once instead of
// waiting for it to expire; a live pid (even a reused one) just means waiting for the expiry.
export function newOwnerId(pid = process.pid): string {
  return `${hostname()}:${pid}:${randomBytes(3).toString("hex")}`;
}

export function isOwnerDead(owner: string): boolean {
  const [host, pidText] = owner.split(":");
  if (host !== hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}
