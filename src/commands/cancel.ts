import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { TransitionRefused } from "../store/types.js";
import { parseTaskId } from "./ids.js";

const FIX: Record<string, string> = {
  missing: "list tasks with: topn tasks",
  running: "it is publishing now and cannot be stopped safely; wait for it (topn show ID)",
  succeeded: "it is already published; delete the article on Zhihu if you must",
  cancelled: "it is already cancelled",
};

/** Queued or scheduled tasks are cancelled; failed ones are dismissed, so `retry --failed` leaves them be. */
export async function cancel(ctx: Context, idTexts: string[]): Promise<number> {
  const ids = idTexts.map(parseTaskId);
  const store = await ctx.store();
  try {
    for (const { task, was } of await store.tasks.cancel(ids))
      ctx.out(`task ${task.id} ${was === "failed" ? "dismissed" : "cancelled"} (${task.title})`);
    return 0;
  } catch (e) {
    if (e instanceof TransitionRefused) throw new UsageError(e.message, FIX[e.status] ?? "");
    throw e;
  }
}
