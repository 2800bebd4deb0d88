import type { Context } from "../context.js";
import { EXIT } from "../errors.js";
import { loadPlatform } from "../platforms.js";
import { tuningFromEnv } from "../runner/config.js";
import { Runner, type RunOptions, type RunSummary } from "../runner/runner.js";
import { handleShutdownSignals } from "../runner/signals.js";
import { progressPrinter } from "../ui/progress.js";

export interface DriveOptions extends RunOptions {
  concurrency: number;
  graceMs: number;
  /** How to show progress: lines for a person, JSON lines, or nothing (the caller prints a result). */
  events: "text" | "json" | "none";
}

/** Run the embedded runner in the foreground with live progress and signal handling; returns the exit code. */
export async function drive(
  ctx: Context,
  opts: DriveOptions,
): Promise<{ code: number; summary: RunSummary }> {
  const store = await ctx.store();
  const home = ctx.home();
  const runner = new Runner({
    store: store.tasks,
    home,
    concurrency: opts.concurrency,
    ...tuningFromEnv(ctx.env),
    platform: async (name) =>
      (await loadPlatform(name, ctx.env)).create({ home, env: ctx.env, warn: ctx.warn }),
    ...(opts.events === "none"
      ? {}
      : { onEvent: progressPrinter(ctx.out, { cwd: ctx.cwd, json: opts.events === "json" }) }),
  });
  const signals = handleShutdownSignals(runner, opts.graceMs, (m) => ctx.err(`topn: ${m}`));
  try {
    const summary = await runner.run(opts);
    const code = summary.interrupted
      ? EXIT.interrupted
      : summary.failed.length > 0
        ? EXIT.taskFailed
        : summary.retrying.length > 0
          ? EXIT.retryPending
          : EXIT.ok;
    return { code, summary };
  } finally {
    signals.dispose();
  }
}
