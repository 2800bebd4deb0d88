import type { Context } from "../context.js";
import type { TaskStatus } from "../store/types.js";
import {
  colourStatus,
  displayFile,
  displayStatus,
  errorLine,
  fitColumns,
  formatTime,
  taskJson,
} from "../ui/format.js";
import type { HoldView } from "../ui/holds.js";
import { renderTable } from "../ui/table.js";
import { holdsFor } from "./held.js";

export interface TasksOptions {
  status?: string;
  account?: string;
  limit: number;
  json?: boolean;
}

export async function tasks(ctx: Context, opts: TasksOptions): Promise<number> {
  // The command line has already limited it to the statuses and "scheduled".
  const wanted = opts.status;
  const store = await ctx.store();
  const now = await store.tasks.now();
  // "scheduled" is a view of "queued": filter after the query.
  const status = wanted === "scheduled" ? "queued" : (wanted as TaskStatus | undefined);
  let list = await store.tasks.list({
    ...(status ? { status } : {}),
    ...(opts.account ? { account: opts.account } : {}),
    limit: wanted === "scheduled" || opts.limit === 0 ? -1 : opts.limit,
  });
  if (wanted === "scheduled") list = list.filter((t) => displayStatus(t, now) === "scheduled");
  if (wanted === "scheduled" && opts.limit > 0) list = list.slice(0, opts.limit);

  // Holds explain queued tasks only: a listing without one computes none and loads no platform.
  const held = list.some((t) => t.status === "queued") ? await holdsFor(ctx, store) : () => null;
  if (opts.json) {
    ctx.out(
      JSON.stringify(
        list.map((t) => taskJson(t, now, held(t))),
        null,
        2,
      ),
    );
    return 0;
  }
  if (list.length === 0) {
    ctx.out(wanted ? `no ${wanted} tasks` : "no tasks yet: topn publish FILE.md");
    return 0;
  }
  const rows: string[][] = [];
  for (const t of list) {
    const shown = displayStatus(t, now);
    const when =
      shown === "scheduled" || shown === "queued" ? t.runAt : (t.finishedAt ?? t.startedAt ?? t.createdAt);
    rows.push([
      String(t.id),
      colourStatus(shown),
      t.account,
      fitColumns(t.title, 30),
      fitColumns(displayFile(t.file, ctx.cwd), 28),
      `${t.attempts}/${t.maxAttempts}`,
      formatTime(when),
      // A held task's cell keeps its fix whole: it is the part a person acts on.
      heldCell(held(t)) ?? fitColumns(t.url ?? errorLine(t) ?? "", 60),
    ]);
  }
  ctx.out(renderTable(["ID", "STATUS", "ACCOUNT", "TITLE", "FILE", "TRIES", "WHEN", "RESULT"], rows));
  if (opts.limit > 0 && list.length === opts.limit)
    ctx.out(`(showing the newest ${opts.limit}; --limit 0 shows all)`);
  return 0;
}

const heldCell = (h: HoldView | null): string | null => (h ? (h.short ?? h.line) : null);
