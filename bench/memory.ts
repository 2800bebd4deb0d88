// Peak memory of a real `topn run` publishing for several accounts at once: PSS (proportional set size,
// so shared pages are not counted twice) of topn plus every Chromium process under it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processTree } from "../test/helpers/proc.js";
import { collect, simEnv, spawnTopn, topn } from "../test/helpers/run.js";
import { startSimulator } from "../test/sim/index.js";
import type { Row } from "./table.js";

/** PSS in kB of a process and all its descendants (Linux). */
export function treePssKb(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
      total += Number(m?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return total;
}

export async function peakMemory(accounts = 5, perAccount = 4): Promise<Row> {
  const home = mkdtempSync(join(tmpdir(), "topn-bench-mem-"));
  const sim = await startSimulator({ controlPort: false });
  try {
    const env = simEnv(sim, home);
    for (let a = 0; a < accounts; a++) {
      const acct = sim.createAccount(`bench${a}`);
      const login = await topn(["login", "zhihu", "--account", acct.name, "--cookies", "-"], {
        env,
        input: acct.cookieHeader,
      });
      if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
      const files: string[] = [];
      for (let i = 0; i < perAccount; i++) {
        const f = join(home, `a${a}-${i}.md`);
        writeFileSync(f, `---\ntitle: 内存测试 ${a}-${i}\ntopics: [Markdown]\n---\n\nBody ${a} ${i}.\n`);
        files.push(f);
      }
      const q = await topn(["publish", ...files, "--account", acct.name, "--no-wait"], { env });
      if (q.code !== 0) throw new Error(`enqueue failed: ${q.stderr}`);
    }
    const child = spawnTopn(["run", "--once", "--concurrency", String(accounts)], { env });
    const done = collect(child);
    let peak = 0;
    const timer = setInterval(() => {
      if (child.pid) peak = Math.max(peak, treePssKb(child.pid));
    }, 50);
    const r = await done;
    clearInterval(timer);
    if (r.code !== 0) throw new Error(`run failed (${r.code}): ${r.stdout}${r.stderr}`);
    const mb = peak / 1024;
    return {
      key: "memory.peak",
      what: `peak PSS, topn + all Chromium processes, ${accounts} accounts publishing at once`,
      value: mb,
      unit: "MB",
      target: "≤ 1 GB",
      ok: mb <= 1024,
      better: "lower",
    };
  } finally {
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
}
