// Browser launch benchmarks: what presenting the installed browser (src/browser/identity-cache.ts) costs.
// A launch whose identity is remembered is one Chromium start; one that must probe first (a new install or
// an upgrade) starts a plain browser, asks it, and starts again.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchBrowser } from "../src/browser/launch.js";
import { median } from "./core.js";
import type { Row } from "./table.js";

async function timedLaunch(env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const browser = await launchBrowser({ headless: true, env });
  const ms = performance.now() - t0;
  await browser.close();
  return ms;
}

export async function browserBenchmarks(runs = 5): Promise<Row[]> {
  const caches: string[] = [];
  const freshCache = () => {
    const dir = mkdtempSync(join(tmpdir(), "topn-bench-cache-"));
    caches.push(dir);
    return { ...process.env, XDG_CACHE_HOME: dir };
  };
  try {
    const remembered = freshCache();
    await timedLaunch(remembered); // probes once, and loads puppeteer
    const warm: number[] = [];
    const probing: number[] = [];
    for (let i = 0; i < runs; i++) {
      warm.push(await timedLaunch(remembered));
      probing.push(await timedLaunch(freshCache()));
    }
    const launch = median(warm);
    const probe = median(probing);
    return [
      {
        key: "browser.launch",
        what: `headless launch, identity remembered (median of ${runs})`,
        value: launch,
        unit: "ms",
        target: "",
        ok: null,
        better: "lower",
      },
      {
        key: "browser.launch.probe",
        what: `headless launch that probes first: a new install or an upgrade (median of ${runs})`,
        value: probe / launch,
        unit: "×",
        text: `${Math.round(probe).toLocaleString("en-US")} ms (${(probe / launch).toFixed(2)}×)`,
        target: "once per installed version",
        ok: null,
        better: "lower",
      },
    ];
  } finally {
    for (const dir of caches) rmSync(dir, { recursive: true, force: true });
  }
}
