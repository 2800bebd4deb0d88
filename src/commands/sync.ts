import { loadConfig } from "../config.js";
import type { Context } from "../context.js";
import { problemLine } from "../errors.js";
import { loadPlatform } from "../platforms.js";
import { countRows } from "../sync/decide.js";
import { hasWork, planLines, summaryLine, syncExit, syncJson, taskViews } from "../sync/report.js";
import { runSync, type SyncPlan } from "../sync/sync.js";
import { displayFile, formatTime } from "../ui/format.js";
import { parseWhen } from "../ui/when.js";
import { chooseAccount } from "./account-choice.js";
import { drive } from "./drive.js";

export interface SyncOptions {
  account?: string;
  platform: string;
  at?: string;
  dryRun?: boolean;
  wait: boolean;
  writeBack: boolean;
  concurrency: number;
  maxAttempts: number;
  json?: boolean;
}

/** Lines a log keeps: the time first, no colours (chalk already has none off a terminal). */
const stamped =
  (write: (line: string) => void) =>
  (line: string): void =>
    write(`${new Date().toISOString().replace(/\.\d{3}Z$/, "Z")} ${line}`);

/** Held-back tasks listed by name after a sync that had work; past this many, a count. */
const LIST_AT_MOST = 10;

export async function syncCommand(ctx: Context, dirs: string[], opts: SyncOptions): Promise<number> {
  const tty = Boolean(process.stdout.isTTY) && !opts.json;
  const out = opts.json ? () => {} : tty ? ctx.out : stamped(ctx.out);
  const err = tty || opts.json ? ctx.err : stamped(ctx.err);
  const at = opts.at ? await parseWhen(opts.at) : null;
  const module = await loadPlatform(opts.platform, ctx.env);
  if (!opts.dryRun) await module.preflight?.(ctx.env);
  const store = await ctx.store();
  const account = await chooseAccount(store, module.name, opts.account);
  const config = loadConfig(ctx.home(), ctx.env);
  const driveCtx: Context = { ...ctx, out, err };

  const showPlan = (plan: SyncPlan, round: number) => {
    for (const r of plan.rows) {
      if (r.status === "invalid" && r.problem) err(problemLine(r.problem));
      if ((r.status === "new" || r.status === "changed") && !plan.deferred.has(r.file))
        for (const w of plan.warnings.get(r.display) ?? []) err(`topn: warning: ${w}`);
    }
    if (round > 1) {
      const ready = plan.rows.filter((r) => r.status === "new" && !plan.deferred.has(r.file));
      if (ready.length > 0)
        out(`the notes they link to are published; now: ${ready.map((r) => r.display).join(", ")}`);
      return;
    }
    if (!opts.dryRun && !hasWork(plan)) return;
    for (const line of planLines(plan, { tty, full: Boolean(opts.dryRun) })) out(line);
    const work = countRows(plan.rows);
    const { gapMs, dailyCap } = config.pacing;
    if (!opts.dryRun && work.new + work.changed > 1 && (gapMs > 0 || dailyCap > 0)) {
      const pace = [
        gapMs > 0 ? `one publish every ${Math.round(gapMs / 1000)} s` : "",
        dailyCap > 0 ? `at most ${dailyCap} per 24 h` : "",
      ].filter((p) => p !== "");
      out(
        `pacing for account ${account}: ${pace.join(", ")}; what it holds back stays queued for the next sync (or a running \`topn run\`)`,
      );
    }
  };

  const outcome = await runSync(
    dirs,
    {
      cwd: ctx.cwd,
      home: ctx.home(),
      env: ctx.env,
      store,
      platform: module,
      account,
      at,
      writeBack: opts.writeBack && config.writeBack,
      maxAttempts: opts.maxAttempts,
      warn: (m) => err(`topn: warning: ${m}`),
    },
    {
      dryRun: Boolean(opts.dryRun),
      wait: opts.wait,
      onPlan: showPlan,
      drive: async (ids) =>
        (
          await drive(driveCtx, {
            only: ids,
            once: true,
            concurrency: opts.concurrency,
            graceMs: 30_000,
            events: opts.json ? "none" : "text",
          })
        ).code,
      note: out,
    },
  );

  const now = await store.tasks.now();
  const views = taskViews(outcome, await store.tasks.holds(config.pacing), now, module.usesSessions === true);
  const exit = syncExit(outcome, views);
  if (opts.json) {
    ctx.out(JSON.stringify(syncJson(outcome, views, now, exit, Boolean(opts.dryRun)), null, 2));
    return exit;
  }
  if (opts.dryRun) {
    out("dry run: nothing was enqueued, published or written");
    return exit;
  }
  const waiting = views.filter((v) => v.task.status === "queued" && v.hold !== null);
  for (const fix of new Set(waiting.filter((v) => v.hold!.until === null).map((v) => v.hold!.line)))
    err(`topn: ${fix}`);
  if (hasWork(outcome)) {
    for (const v of waiting.filter((w) => w.hold!.until !== null).slice(0, LIST_AT_MOST))
      out(`#${v.task.id} ${displayFile(v.task.file, ctx.cwd)}  queued  ${v.hold!.line}`);
    if (waiting.length > LIST_AT_MOST) out(`… and ${waiting.length - LIST_AT_MOST} more queued`);
    for (const v of views
      .filter((w) => w.task.status === "queued" && w.task.runAt > now + 1000)
      .slice(0, LIST_AT_MOST))
      out(`#${v.task.id} ${displayFile(v.task.file, ctx.cwd)}  scheduled for ${formatTime(v.task.runAt)}`);
  }
  out(summaryLine(outcome, views, now));
  return exit;
}
