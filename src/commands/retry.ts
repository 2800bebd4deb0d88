import { existsSync } from "node:fs";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { TransitionRefused } from "../store/types.js";
import { displayFile } from "../ui/format.js";
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
 * A task whose file is no longer here (moved, renamed, deleted) would only fail again: --failed skips it, an
 * explicit id retries it with a warning (another machine sharing the queue may have the file).
 */
export async function retry(ctx: Context, idTexts: string[], opts: { failed?: boolean }): Promise<number> {
  if (opts.failed && idTexts.length > 0)
    throw new UsageError("give task ids or --failed, not both", "pick one");
  if (!opts.failed && idTexts.length === 0)
    throw new UsageError("no task ids", "topn retry ID... or topn retry --failed");
  const store = await ctx.store();
  let ids = opts.failed ? await store.tasks.failedIds() : idTexts.map(parseTaskId);
  if (ids.length === 0) {
    ctx.out("no failed tasks");
    return 0;
  }
  const gone: { id: number; file: string }[] = [];
  for (const id of ids) {
    const t = await store.tasks.get(id);
    if (t && !existsSync(t.file)) gone.push({ id, file: displayFile(t.file, ctx.cwd) });
  }
  if (opts.failed) ids = ids.filter((id) => !gone.some((g) => g.id === id));
  else
    for (const g of gone)
      ctx.warn(`task ${g.id}: ${g.file} is not here; it will fail unless the runner's machine has it`);
  try {
    const { retried, skipped } =
      ids.length > 0
        ? await store.tasks.retry(ids, { skipSuperseded: Boolean(opts.failed) })
        : { retried: [], skipped: [] };
    for (const t of retried) ctx.out(`task ${t.id} queued again (${t.title})`);
    for (const s of skipped) ctx.out(`task ${s.id} skipped: ${s.reason.replace(/^task \d+ /, "")}`);
    if (opts.failed)
      for (const g of gone)
        ctx.out(
          `task ${g.id} skipped: ${g.file} no longer exists (publish the file where it is now; topn retry ${g.id} forces it)`,
        );
    if (retried.length > 0) ctx.out("run them with: topn run --once");
    return 0;
  } catch (e) {
    if (e instanceof TransitionRefused) throw new UsageError(e.message, FIX[e.status] ?? "");
    throw e;
  }
}
