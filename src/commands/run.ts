import type { Context } from "../context.js";
import { drive } from "./drive.js";

export async function runCommand(
  ctx: Context,
  opts: {
    once?: boolean;
    concurrency: number;
    grace: number;
    json?: boolean;
    notify?: string;
    notifyCmd?: string;
  },
): Promise<number> {
  const store = await ctx.store();
  if (!opts.json) {
    const { due, next } = await store.tasks.pending();
    if (opts.once && due === 0) {
      ctx.out(
        next === null ? "nothing to publish" : `nothing due; next task at ${new Date(next).toLocaleString()}`,
      );
    } else if (!opts.once) {
      ctx.out(`watching for due tasks (${due} due now); Ctrl-C to stop`);
    }
  }
  const { code, summary } = await drive(ctx, {
    once: Boolean(opts.once),
    concurrency: opts.concurrency,
    graceMs: opts.grace * 1000,
    events: opts.json ? "json" : "text",
    notify: { notify: opts.notify, notifyCmd: opts.notifyCmd },
  });
  if (!opts.json && summary.succeeded.length + summary.failed.length + summary.retrying.length > 0) {
    ctx.out(
      `${summary.succeeded.length} succeeded, ${summary.failed.length} failed, ${summary.retrying.length} waiting to retry`,
    );
  }
  return code;
}
