// Processes as Linux's /proc shows them: a process and everything it started (Chromium's zygote, renderers…).
import { readdirSync, readFileSync } from "node:fs";

/** Parent pid → child pids, read once. */
function children(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(name));
      kids.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  return kids;
}

/** `root` and all its descendants, parents before children. */
export function processTree(root: number): number[] {
  const kids = children();
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(kids.get(pid) ?? []));
  }
  return out;
}
