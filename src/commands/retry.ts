import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { TransitionRefused } from "../store/tasks.js";
import { parseTaskId } from "./ids.js";

const FIX: Record<string, string> = {
  missing: "list tasks with: topn tasks",
  running: "wait for it to finish (topn show ID follows it)",
  queued: "it will run at its time; topn run --once runs what is due",
  succeeded: "to update the article, publish the file again: topn publish FILE",
};

export async function retry(ctx: Context, idTexts: string[], opts: { failed?: boolean }): Promise<number> {
  if (opts.failed && idTexts.length > 0)
    throw new UsageError("give task ids or --failed, not both", "pick one");
  if (!opts.failed && idTexts.length === 0)
    throw new UsageError("no task ids", "topn retry ID... or topn retry --failed");
  const store = await ctx.store();
  const ids = opts.failed ? store.tasks.failedIds() : idTexts.map(parseTaskId);
  if (ids.length === 0) {
    ctx.out("no failed tasks");
    return 0;
  }
  try {
    const done = store.tasks.retry(ids);
    for (const t of done) ctx.out(`task ${t.id} queued again (${t.title})`);
    ctx.out("run them with: topn run --once");
    return 0;
  } catch (e) {
    if (e instanceof TransitionRefused) throw new UsageError(e.message, FIX[e.status] ?? "");
    throw e;
  }
}
