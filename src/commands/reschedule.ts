// topn reschedule ID --at WHEN: move a queued or scheduled task to another time.

import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { TransitionRefused } from "../store/types.js";
import { formatTime } from "../ui/format.js";
import { parseWhen } from "../ui/when.js";
import { holdsFor } from "./held.js";
import { parseTaskId } from "./ids.js";

const FIX: Record<string, string> = {
  missing: "list tasks with: topn tasks",
  running: "it is publishing now; wait for it (topn show ID)",
  succeeded: "it is already published; publish the file again to update the article",
  failed: "put it back in the queue first: topn retry ID",
  cancelled: "put it back in the queue first: topn retry ID",
};

export async function reschedule(ctx: Context, idText: string, opts: { at: string }): Promise<number> {
  const id = parseTaskId(idText);
  const at = await parseWhen(opts.at);
  const store = await ctx.store();
  let task: Awaited<ReturnType<typeof store.tasks.reschedule>>;
  try {
    task = await store.tasks.reschedule(id, at);
  } catch (e) {
    if (e instanceof TransitionRefused)
      throw new UsageError(e.message, (FIX[e.status] ?? "").replace("ID", String(id)));
    throw e;
  }
  ctx.out(`task ${task.id} rescheduled for ${formatTime(task.runAt)} (${task.title})`);
  // Its time is not the whole story when its account is paused or paced.
  const hold = (await holdsFor(ctx, store))(task);
  if (hold && (hold.until === null || hold.until > task.runAt)) ctx.out(`  ${hold.line}`);
  return 0;
}
