import { articleOptionsState, prepareArticle } from "../article/index.js";
import type { Context } from "../context.js";
import { ExitCode, problemLine, UsageError } from "../errors.js";
import { loadPlatform } from "../platforms.js";
import type { NewTask } from "../store/tasks.js";
import { displayFile, formatTime, taskJson } from "../ui/format.js";
import { parseWhen } from "../ui/when.js";
import { chooseAccount } from "./account-choice.js";
import { drive } from "./drive.js";
import { expandFiles } from "./files.js";

export interface PublishOptions {
  account?: string;
  platform: string;
  at?: string;
  wait: boolean;
  new?: boolean;
  emoji?: boolean;
  captions?: boolean;
  concurrency: number;
  maxAttempts: number;
  json?: boolean;
}

/** Validate every file first, enqueue all of them in one transaction, then (unless told not to) publish now. */
export async function publish(ctx: Context, args: string[], opts: PublishOptions): Promise<number> {
  const files = await expandFiles(args, ctx.cwd);
  const runAt = opts.at ? await parseWhen(opts.at) : Date.now();
  const module = await loadPlatform(opts.platform, ctx.env);
  await module.preflight?.(ctx.env);
  const store = await ctx.store();
  const account = chooseAccount(store, module.name, opts.account);

  const problems: UsageError[] = [];
  const tasks: NewTask[] = [];
  for (const file of files) {
    try {
      const render = { emoji: opts.emoji, captions: opts.captions };
      const article = await prepareArticle(displayFile(file, ctx.cwd), { cwd: ctx.cwd, ...render });
      for (const w of article.warnings) ctx.warn(w);
      const active = store.tasks.activeForFile(module.name, account, file);
      if (active) {
        throw new UsageError(
          `${displayFile(file, ctx.cwd)} is already ${active.status} as task ${active.id}`,
          `wait for it, or cancel it first: topn cancel ${active.id}`,
        );
      }
      const previous = opts.new ? undefined : store.tasks.articleFor(module.name, account, file);
      tasks.push({
        platform: module.name,
        account,
        file,
        contentHash: article.contentHash,
        title: article.title,
        runAt,
        maxAttempts: opts.maxAttempts,
        forceNew: Boolean(opts.new),
        // A draft a failed or cancelled task left behind is reused rather than made again.
        draftId: opts.new
          ? null
          : (previous?.articleId ?? store.tasks.leftoverDraft(module.name, account, file) ?? null),
        state: { ...(previous ? { updates: previous.articleId } : {}), ...articleOptionsState(render) },
      });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      problems.push(e);
    }
  }
  if (problems.length > 0) {
    for (const p of problems) ctx.err(problemLine(p));
    if (problems.length > 1 || files.length > 1) ctx.err("topn: nothing was enqueued");
    throw new ExitCode(2);
  }

  const ids = store.tasks.enqueue(tasks);
  const scheduled = runAt > Date.now() + 1000;
  if (!opts.wait || scheduled) {
    if (opts.json) {
      ctx.out(
        JSON.stringify(
          ids.map((id) => taskJson(store.tasks.get(id)!)),
          null,
          2,
        ),
      );
    } else {
      for (const [i, id] of ids.entries()) {
        const t = tasks[i]!;
        ctx.out(`task ${id}  ${scheduled ? `scheduled for ${formatTime(runAt)}` : "queued"}  ${t.title}`);
      }
      ctx.out(
        scheduled
          ? "they run when due: keep `topn run` going, or call `topn run --once` from cron"
          : "run them with: topn run --once",
      );
    }
    return 0;
  }

  const { code } = await drive(ctx, {
    only: ids,
    concurrency: opts.concurrency,
    graceMs: 30_000,
    events: opts.json ? "none" : "text",
  });
  const final = ids.map((id) => store.tasks.get(id)!);
  if (opts.json) {
    ctx.out(
      JSON.stringify(
        final.map((t) => taskJson(t)),
        null,
        2,
      ),
    );
  } else {
    for (const t of final) {
      ctx.out(`task ${t.id}  ${t.status}  ${t.url ?? t.errorMessage ?? ""}`);
    }
  }
  return code;
}
