import { writeBack } from "../article/writeback.js";
import { loadConfig } from "../config.js";
import type { Context } from "../context.js";
import { EXIT } from "../errors.js";
import { alertOfRunnerEvent, alertOfSessionEvent } from "../notify/alert.js";
import { Notifier, notifyTargets } from "../notify/notifier.js";
import { machineName } from "../owner.js";
import type { PublishResult } from "../platform.js";
import { loadPlatform } from "../platforms.js";
import { sessionCheckMsFromEnv, tuningFromEnv } from "../runner/config.js";
import { Runner, type RunOptions, type RunSummary } from "../runner/runner.js";
import { handleShutdownSignals } from "../runner/signals.js";
import type { Task } from "../store/types.js";
import { displayFile } from "../ui/format.js";
import { progressPrinter } from "../ui/progress.js";
import { sessionPrinter } from "../ui/session-progress.js";

export interface DriveOptions extends RunOptions {
  concurrency: number;
  graceMs: number;
  /** How to show progress: lines for a person, JSON lines, or nothing (the caller prints a result). */
  events: "text" | "json" | "none";
  /** --notify / --notify-cmd; without them config.yaml (notify, notify_cmd) decides. */
  notify?: { notify?: string | undefined; notifyCmd?: string | undefined };
}

/** Run the embedded runner in the foreground with live progress and signal handling; returns the exit code. */
export async function drive(
  ctx: Context,
  opts: DriveOptions,
): Promise<{ code: number; summary: RunSummary }> {
  const store = await ctx.store();
  const home = ctx.home();
  const config = loadConfig(home, ctx.env);
  // Alerts go out beside the work and never hold it up; a failed delivery is one line on stderr.
  const notifier = new Notifier({ ...notifyTargets(config, opts.notify ?? {}), log: ctx.err, env: ctx.env });
  const host = machineName(ctx.env);
  const json = opts.events === "json";
  const printTask = opts.events === "none" ? null : progressPrinter(ctx.out, { cwd: ctx.cwd, json });
  const printSession = opts.events === "none" ? null : sessionPrinter(ctx.out, { json });
  const runner = new Runner({
    tasks: store.tasks,
    accounts: store.accounts,
    home,
    concurrency: opts.concurrency,
    pacing: config.pacing,
    ...tuningFromEnv(ctx.env),
    platform: async (name) =>
      (await loadPlatform(name, ctx.env)).create({ home, env: ctx.env, warn: ctx.warn }),
    afterSuccess: async (task, result) => {
      const key = (await loadPlatform(task.platform, ctx.env)).frontMatterKey;
      return key ? recordInFile(task, result, key, ctx.cwd) : null;
    },
    onEvent: (e) => {
      printTask?.(e);
      notifier.send(alertOfRunnerEvent(e, host));
    },
    sessions: {
      accounts: store.accounts,
      everyMs: sessionCheckMsFromEnv(ctx.env),
      onEvent: (e) => {
        printSession?.(e);
        notifier.send(alertOfSessionEvent(e, host));
      },
    },
  });
  const signals = handleShutdownSignals(runner, opts.graceMs, (m) => ctx.err(`topn: ${m}`));
  try {
    const summary = await runner.run(opts);
    for (const u of summary.unrecorded) {
      ctx.err(
        `topn: task ${u.id} is unrecorded: the database refused ${u.what} (${u.error}); ` +
          "the next `topn run` settles it by reading the article back",
      );
    }
    const code =
      summary.unrecorded.length > 0
        ? EXIT.unrecorded
        : summary.interrupted
          ? EXIT.interrupted
          : summary.failed.length > 0 || summary.held.length > 0
            ? EXIT.taskFailed
            : summary.retrying.length > 0
              ? EXIT.retryPending
              : EXIT.ok;
    return { code, summary };
  } finally {
    signals.dispose();
    await notifier.flush();
  }
}

/**
 * Write-back: the article's URL goes into the file's front matter after a publish, so the file keeps its
 * article wherever it is moved or copied. Skipped, with a word, when the file changed since.
 */
async function recordInFile(
  task: Task,
  result: PublishResult,
  key: string,
  cwd: string,
): Promise<string | null> {
  if (!task.writeBack || result.state !== "published") return null;
  const shown = displayFile(task.file, cwd);
  const line = `${key}: ${result.url}`;
  const r = await writeBack(
    task.file,
    { key, url: result.url, articleId: result.articleId },
    result.contentHash,
  );
  switch (r.kind) {
    case "written":
      return `recorded "${line}" in ${shown}`;
    case "present":
      return null;
    case "changed":
      return `warning: ${shown} changed since it was published, so topn left it alone; add "${line}" to its front matter to keep the file tied to its article`;
    case "missing":
      return `warning: ${shown} is gone; its article is ${result.url}`;
  }
}
