import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { TransitionRefused } from "../store/types.js";
import { parseTaskId } from "./ids.js";

const FIX: Record<string, string> = {
  missing: "list tasks with: topn tasks",
  running: "wait for it to finish (topn show ID follows it)",
  queued: "it will run at its time; topn run --once runs what is due",
  succeeded: "to update the article, publish the file again: topn publish FILE",
  superseded: "nothing to retry: the article is handled by the newer task (topn show it)",
  duplicate: "retry only the newest of them",
};

/**
 * Failed or cancelled tasks back to the queue. A task whose article a newer task has published (or will) is
 * never retried: that would publish the file twice. With explicit ids it is refused; with --failed skipped.
 */
export async function retry(ctx: Context, idTexts: string[], opts: { failed?: boolean }): Promise<number> {
  if (opts.failed && idTexts.length > 0)
    throw new UsageError("give task ids or --failed, not both", "pick one");
  if (!opts.failed && idTexts.length === 0)
    throw new UsageError("no task ids", "topn retry ID... or topn retry --failed");
  const store = await ctx.store();
  const ids = opts.failed ? await store.tasks.failedIds() : idTexts.map(parseTaskId);
  if (ids.length === 0) {
    ctx.out("no failed tasks");
    return 0;
  }
  try {
    const { retried, skipped } = await store.tasks.retry(ids, { skipSuperseded: Boolean(opts.failed) });
    for (const t of retried) ctx.out(`task ${t.id} queued again (${t.title})`);
    for (const s of skipped) ctx.out(`task ${s.id} skipped: ${s.reason.replace(/^task \d+ /, "")}`);
    if (retried.length > 0) ctx.out("run them with: topn run --once");
    return 0;
  } catch (e) {
    if (e instanceof TransitionRefused) throw new UsageError(e.message, FIX[e.status] ?? "");
    throw e;
  }
}
