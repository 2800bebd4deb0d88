// The soak's end: what the database says of every task, what the simulator says was published and how, and
// whether each promise held. Every check that misses makes the soak exit non-zero.
import { realpathSync } from "node:fs";
import type { Account, Task } from "../../src/store/types.js";
import type { RequestRecord } from "../../test/sim/server.js";
import type { SoakArticle } from "./articles.js";
import type { RunnerExit } from "./runners.js";
import type { SimState } from "./sim.js";

/** Causes a person must fix in the article itself: the only ones a task may fail with. */
const PERMANENT = new Set(["rejected", "bad_input"]);
/** Pages and static files: the simulator injects faults into API calls only. */
const NOT_API = /^(page\.|preflight$|unknown$|image\.serve$|equation$)/;
const FAULT_NAMES: Record<string, string> = { fail500: "500" };

export interface Check {
  what: string;
  value: string;
  want: string;
  ok: boolean;
}

export interface Verdict {
  checks: Check[];
  published: number;
  duplicates: number;
  lost: string[];
  stuckRunning: number;
  failed: { id: number; kind: string | null; message: string | null }[];
  held: { id: number; reason: string }[];
  maxInFlight: number;
  apiCalls: number;
  /** API calls made while faults were on (the chaos phase). */
  apiCallsUnderFaults: number;
  faults: Record<string, number>;
  /** Articles published more than once (an update of the same article, not a duplicate). */
  republished: number;
  /** Calls of one account that were in flight together, for the person reading a miss. */
  overlaps: string[];
}

export function judge(input: {
  articles: readonly SoakArticle[];
  tasks: readonly Task[];
  accounts: readonly Account[];
  sim: SimState;
  requests: readonly RequestRecord[];
  exits: readonly RunnerExit[];
  stacks: readonly string[];
  /** The request log's last sequence number before the faults were switched off. */
  faultsUntil: number;
}): Verdict {
  const { articles, sim } = input;
  const ours = new Set(articles.map((a) => a.title));
  const latest = new Map<string, Task>();
  for (const t of input.tasks) {
    const prev = latest.get(t.file);
    if (!prev || prev.id < t.id) latest.set(t.file, t);
  }
  const paused = new Map(input.accounts.filter((a) => a.pause).map((a) => [a.name, a.pause!]));
  const live = sim.articles.filter((a) => a.state === "published" && ours.has(a.title));
  const lost: string[] = [];
  const failed: Verdict["failed"] = [];
  const held: Verdict["held"] = [];
  for (const a of articles) {
    const t = latest.get(realpathSync(a.file));
    const name = `"${a.title}"`;
    if (!t) {
      lost.push(`${name}: no task`);
      continue;
    }
    const onZhihu = live.filter((x) => x.title === a.title);
    if (t.status === "succeeded") {
      if (onZhihu.length === 0) lost.push(`${name}: task ${t.id} succeeded but Zhihu has no such article`);
      else if (!onZhihu.some((x) => x.id === t.draftId))
        lost.push(`${name}: task ${t.id} recorded article ${t.draftId}, Zhihu published ${onZhihu[0]!.id}`);
      if (a.refused) lost.push(`${name}: Zhihu should have refused it, task ${t.id} succeeded`);
      continue;
    }
    if (t.status === "failed") {
      failed.push({ id: t.id, kind: t.errorKind, message: t.errorMessage });
      if (onZhihu.length > 0) lost.push(`${name}: published, but task ${t.id} says failed (${t.errorKind})`);
      else if (!PERMANENT.has(t.errorKind ?? "")) lost.push(`${name}: task ${t.id} failed as ${t.errorKind}`);
      else if (!a.refused) lost.push(`${name}: task ${t.id} failed (${t.errorKind}) though Zhihu accepts it`);
      continue;
    }
    const pause = paused.get(t.account);
    if (t.status === "queued" && pause) {
      held.push({ id: t.id, reason: `${pause.kind}: ${pause.reason}` });
      continue;
    }
    lost.push(`${name}: task ${t.id} is ${t.status}${t.errorKind ? ` (last error ${t.errorKind})` : ""}`);
  }

  const duplicates = sim.duplicateTitles.filter((d) => ours.has(d.title));
  const inFlight = Object.entries(sim.maxInFlight).filter(([account]) =>
    articles.some((a) => a.account === account),
  );
  const maxInFlight = Math.max(0, ...inFlight.map(([, n]) => n));
  const api = input.requests.filter((r) => !NOT_API.test(r.endpoint));
  const faults: Record<string, number> = {};
  for (const r of api) {
    if (!r.fault) continue;
    const name = FAULT_NAMES[r.fault] ?? r.fault;
    faults[name] = (faults[name] ?? 0) + 1;
  }
  const stuck = input.tasks.filter((t) => t.status === "running").length;
  const ownExits = input.exits.filter(
    (e) => e.caused === null || (e.caused === "term" && e.code !== 0 && e.code !== 130),
  );
  const refused = articles.filter((a) => a.refused).length;
  const expected = articles.length - refused;
  const badFailures = failed.filter((f) => !PERMANENT.has(f.kind ?? ""));
  const checks: Check[] = [
    {
      what: "published",
      value: `${live.length} of ${expected}`,
      want: `all but the ${refused} Zhihu refuses`,
      ok: new Set(live.map((a) => a.title)).size === expected - held.length,
    },
    {
      what: "duplicates (one title published twice)",
      value: String(duplicates.length),
      want: "0",
      ok: duplicates.length === 0,
    },
    { what: "lost", value: String(lost.length), want: "0", ok: lost.length === 0 },
    { what: "stuck running", value: String(stuck), want: "0", ok: stuck === 0 },
    {
      what: "failed, each with a permanent cause",
      value: `${failed.length} (${summarise(failed.map((f) => f.kind ?? "?"))})`,
      want: `${refused} rejected`,
      ok: badFailures.length === 0 && failed.length === refused,
    },
    {
      what: "held with a reason (account paused at the end)",
      value: String(held.length),
      want: "",
      ok: true,
    },
    {
      what: "most requests one account had in flight",
      value: String(maxInFlight),
      want: "1",
      ok: maxInFlight === 1,
    },
    {
      what: "runner exits the soak did not cause",
      value: ownExits.length === 0 ? "0" : ownExits.map(describeExit).join(", "),
      want: "0",
      ok: ownExits.length === 0,
    },
    {
      what: "stack traces printed by topn",
      value: String(input.stacks.length),
      want: "0",
      ok: input.stacks.length === 0,
    },
  ];
  return {
    checks,
    published: live.length,
    duplicates: duplicates.length,
    lost,
    stuckRunning: stuck,
    failed,
    held,
    maxInFlight,
    apiCalls: api.length,
    apiCallsUnderFaults: api.filter((r) => r.seq <= input.faultsUntil).length,
    faults,
    republished: live.filter((a) => a.publishCount > 1).length,
    overlaps: overlapping(api),
  };
}

/** Pairs of calls of one account whose [arrival, end of answer] overlap, the first few. */
function overlapping(api: readonly RequestRecord[]): string[] {
  const out: string[] = [];
  const byAccount = new Map<string, RequestRecord[]>();
  for (const r of api) {
    if (r.account === null) continue;
    byAccount.set(r.account, [...(byAccount.get(r.account) ?? []), r]);
  }
  const show = (r: RequestRecord) =>
    `#${r.seq} ${r.endpoint} ${r.status}${r.fault ? ` (${r.fault})` : ""} ${new Date(r.start).toISOString().slice(11, 23)}+${r.at - r.start} ms`;
  for (const [account, calls] of byAccount) {
    calls.sort((a, b) => a.start - b.start);
    for (let i = 0; i < calls.length && out.length < 10; i++) {
      for (let j = i + 1; j < calls.length && calls[j]!.start < calls[i]!.at; j++)
        out.push(`${account}: ${show(calls[i]!)} and ${show(calls[j]!)}`);
    }
  }
  return out;
}

export function summarise(xs: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(", ") || "none";
}

function describeExit(e: RunnerExit): string {
  return `${e.runner} ${e.signal ?? `code ${e.code}`}${e.caused ? ` after ${e.caused}` : " by itself"}`;
}
