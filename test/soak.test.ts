// The quick soak (scripts/soak.ts --quick) as CI runs it: a real process that starts the simulator, real
// `topn run` processes with Chromium and SQLite, injects faults, kills and freezes runners, then checks every
// promise of issue 9. A new seed each run (TOPN_SOAK_SEED fixes one); a failure prints the seed to replay.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { SoakReport } from "../scripts/soak/report.js";
import { collect, ROOT, tempDir } from "./helpers/run.js";

test("soak --quick: under faults, kills and freezes every article is published once or refused for good", {
  timeout: 180_000,
}, async (t) => {
  const out = join(tempDir(t), "soak.json");
  const seed = process.env["TOPN_SOAK_SEED"] ?? String(Math.floor(Math.random() * 1_000_000));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "scripts/soak.ts", "--quick", "--seed", seed, "--out", out],
    { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] },
  );
  const r = await collect(child);
  const said = `seed ${seed} (replay: npm run soak -- --quick --seed ${seed})\n${r.stdout}${r.stderr}`;
  assert.equal(r.code, 0, said);
  const report = JSON.parse(readFileSync(out, "utf8")) as SoakReport;
  assert.ok(report.passed, said);
  for (const check of report.checks) assert.ok(check.ok, `${check.what}: ${check.value}\n${said}`);
  // It really was a soak: faults of the random kinds, a kill or a freeze, the revoked session imported again.
  for (const kind of ["500", "reset", "reset-after"])
    assert.ok((report.faults[kind] ?? 0) > 0, `no ${kind} was injected\n${said}`);
  const kills = Object.values(report.chaos.kills).reduce((a, b) => a + b, 0);
  assert.ok(
    kills + report.chaos.pauses + report.chaos.freezes > 0,
    `no runner was killed or frozen\n${said}`,
  );
  assert.ok(report.chaos.revoked, said);
  assert.equal(report.person.reimports.length, 1, said);
});
