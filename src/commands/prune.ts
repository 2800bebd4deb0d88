// topn prune --older-than 30d: forget finished tasks (succeeded, failed, cancelled) and their failure
// artifacts. What each file became on the platform (the article records) stays, so the next publish of a file
// still updates its article, and so does the pacing history.

import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { Context } from "../context.js";
import { artifactsDir } from "../store/home.js";
import { formatDuration, parseDuration } from "../ui/duration.js";

export async function prune(ctx: Context, opts: { olderThan: string; json?: boolean }): Promise<number> {
  const olderThanMs = parseDuration(opts.olderThan, "--older-than");
  const store = await ctx.store();
  const ids = await store.tasks.prune(olderThanMs);
  let folders = 0;
  // Rows first, folders after: a folder left by a crash here is only disk, never a task without its story.
  for (const id of ids) {
    const dir = artifactsDir(ctx.home(), id);
    if (!existsSync(dir)) continue;
    await rm(dir, { recursive: true, force: true });
    folders++;
  }
  if (opts.json) ctx.out(JSON.stringify({ pruned: ids, artifact_folders: folders }, null, 2));
  else if (ids.length === 0) ctx.out(`no finished task is older than ${formatDuration(olderThanMs)}`);
  else
    ctx.out(
      `pruned ${ids.length} finished task(s) older than ${formatDuration(olderThanMs)}` +
        ` and ${folders} artifact folder(s); the article records are kept`,
    );
  return 0;
}
