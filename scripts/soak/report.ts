// The soak's printed summary and its JSON (the figures the README's Reliability section quotes).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { markdownTable } from "../../bench/table.js";
import type { ChaosStats } from "./chaos.js";
import { LATENCY_MS, RETRY_AFTER_SEC, REVIEW_MS } from "./faults.js";
import type { Person } from "./person.js";
import type { EventCounts } from "./runners.js";
import { summarise, type Verdict } from "./verdict.js";

export interface SoakReport {
  mode: string;
  seed: number;
  replay: string;
  durationMs: number;
  articles: number;
  accounts: number;
  passed: boolean;
  checks: Verdict["checks"];
  lost: string[];
  failed: Verdict["failed"];
  held: Verdict["held"];
  apiCalls: number;
  apiCallsUnderFaults: number;
  faults: Record<string, number>;
  faultShare: number;
  chaos: ChaosStats;
  person: { acted: Record<string, number>; reimports: { account: string; heldMs: number }[] };
  events: EventCounts;
  republished: number;
  overlaps: string[];
  runningWhenDrained: number;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function report(
  input: Pick<SoakReport, "mode" | "seed" | "replay" | "durationMs" | "articles" | "accounts"> & {
    leaseMs: number;
    failureRate: number;
    verdict: Verdict;
    chaos: ChaosStats;
    person: Person;
    events: EventCounts;
    stuckBeforeStop: number;
  },
): SoakReport {
  const { verdict: v, chaos: c } = input;
  const injected = Object.values(v.faults).reduce((a, b) => a + b, 0);
  const share = injected / Math.max(1, v.apiCallsUnderFaults);
  const kills = Object.entries(c.kills)
    .map(([r, n]) => `${r} ×${n}`)
    .join(", ");
  const second =
    c.secondRunner.startedAt === null
      ? "never started"
      : `${secs((c.secondRunner.stoppedAt ?? Date.now()) - c.secondRunner.startedAt)}`;
  const lines = [
    "",
    markdownTable(
      ["check", "value", "want", "ok"],
      v.checks.map((k) => [k.what, k.value, k.want, k.ok ? "yes" : "NO"]),
    ),
    "",
    `faults injected: ${injected} of the ${v.apiCallsUnderFaults} API calls made while faults were on (${(share * 100).toFixed(1)}%; ${v.apiCalls} calls in all): ${summarise(
      Object.entries(v.faults).flatMap(([k, n]) => Array<string>(n).fill(k)),
    )}; every call ${LATENCY_MS["*"]} ms slower (publish ${LATENCY_MS.publish} ms), articles in review ${secs(REVIEW_MS)}, Retry-After ${RETRY_AFTER_SEC} s`,
    `targeted: ${summarise(Object.entries(c.injected).flatMap(([k, n]) => Array<string>(n).fill(k)))}`,
    `runners: kill -9 ${kills || "none"}; SIGSTOP of topn ×${c.pauses}, of topn and its browser ×${c.freezes} (${c.pausesPastLease} past the ${secs(input.leaseMs)} lease, longest ${secs(c.longestPauseMs)}); second runner ran ${second}`,
    `session: ${c.revoked ? `${c.revoked.account} revoked, imported again after ${input.person.reimports.map((r) => secs(r.heldMs)).join(", ") || "— (never)"} held` : "not revoked (the run ended first)"}; person acted on: ${summarise(Object.entries(input.person.acted).flatMap(([k, n]) => Array<string>(n).fill(k)))}`,
    `runner events: ${summarise(Object.entries(input.events).flatMap(([k, n]) => Array<string>(n).fill(k)))}`,
    `articles published more than once (updates of the same article, not duplicates): ${v.republished}`,
    ...(v.lost.length > 0 ? ["lost:", ...v.lost.map((l) => `  ${l}`)] : []),
    ...(v.held.length > 0 ? ["held:", ...v.held.map((h) => `  task ${h.id}: ${h.reason}`)] : []),
    ...(v.overlaps.length > 0 ? ["calls in flight together:", ...v.overlaps.map((o) => `  ${o}`)] : []),
    `duration: ${secs(input.durationMs)}; seed ${input.seed} (replay: ${input.replay})`,
  ];
  console.log(lines.join("\n"));
  return {
    mode: input.mode,
    seed: input.seed,
    replay: input.replay,
    durationMs: input.durationMs,
    articles: input.articles,
    accounts: input.accounts,
    passed: v.checks.every((k) => k.ok),
    checks: v.checks,
    lost: v.lost,
    failed: v.failed,
    held: v.held,
    apiCalls: v.apiCalls,
    apiCallsUnderFaults: v.apiCallsUnderFaults,
    faults: v.faults,
    faultShare: share,
    chaos: c,
    person: { acted: input.person.acted, reimports: input.person.reimports },
    events: input.events,
    republished: v.republished,
    overlaps: v.overlaps,
    runningWhenDrained: input.stuckBeforeStop,
  };
}

export function writeReport(path: string, r: SoakReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
}
