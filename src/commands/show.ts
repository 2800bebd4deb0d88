import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { artifactsDir } from "../store/home.js";
import {
  colourStatus,
  displayFile,
  displayStatus,
  errorLine,
  eventJson,
  formatTime,
  taskJson,
} from "../ui/format.js";
import { holdsFor } from "./held.js";
import { parseTaskId } from "./ids.js";

export async function show(ctx: Context, idText: string, opts: { json?: boolean }): Promise<number> {
  const id = parseTaskId(idText);
  const store = await ctx.store();
  const task = await store.tasks.get(id);
  if (!task) throw unknownTask(id);
  const events = await store.tasks.events(id);
  const now = await store.tasks.now();
  const hold = (await holdsFor(ctx, store))(task);
  const dir = artifactsDir(ctx.home(), id);
  const artifacts = existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];

  if (opts.json) {
    ctx.out(
      JSON.stringify({ ...taskJson(task, now, hold), events: events.map(eventJson), artifacts }, null, 2),
    );
    return 0;
  }
  const status = displayStatus(task, now);
  ctx.out(`task ${task.id}  ${colourStatus(status)}  ${task.title}`);
  ctx.out(`  file      ${displayFile(task.file, ctx.cwd)}`);
  ctx.out(`  account   ${task.platform}/${task.account}`);
  ctx.out(`  attempts  ${task.attempts} of ${task.maxAttempts}`);
  if (status === "scheduled" || status === "queued") {
    const when =
      hold && hold.until === null ? "once the hold below is lifted" : formatTime(hold?.until ?? task.runAt);
    ctx.out(`  runs at   ${when}`);
  }
  if (hold) ctx.out(`  ${hold.line}`);
  if (task.mode === "draft") ctx.out("  mode      save as a draft (not published)");
  if (task.draftId) ctx.out(`  article   ${task.draftId}`);
  if (task.url) ctx.out(`  url       ${task.url}`);
  const error = errorLine(task);
  if (error) ctx.out(`  error     ${error}`);
  ctx.out("");
  ctx.out("timeline:");
  for (const e of events)
    ctx.out(`  ${formatTime(e.at)}  ${e.status.padEnd(9)}  #${e.attempt}  ${e.message}`);
  if (artifacts.length > 0) {
    ctx.out("");
    ctx.out("failure artifacts:");
    for (const a of artifacts) ctx.out(`  ${a}`);
  }
  return 0;
}

export function unknownTask(id: number) {
  return new UsageError(`no task ${id}`, "list tasks with: topn tasks");
}
