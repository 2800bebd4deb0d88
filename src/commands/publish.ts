import { loadConfig } from "../config.js";
import type { Context } from "../context.js";
import { EXIT, ExitCode, problemLine, UsageError } from "../errors.js";
import { type PlannedFile, planFiles } from "../plan/plan.js";
import { wikiLinksNear } from "../plan/wikilinks.js";
import { loadPlatform } from "../platforms.js";
import { EnqueueConflict, type Task } from "../store/types.js";
import { formatTime, taskJson } from "../ui/format.js";
import { parseDuration } from "../ui/duration.js";
import { parseWhen } from "../ui/when.js";
import { chooseAccount } from "./account-choice.js";
import { drive } from "./drive.js";
import { expandFiles } from "./files.js";
import { holdsFor } from "./held.js";
import { precheckScheduled } from "./precheck.js";

export interface PublishOptions {
  account?: string;
  platform: string;
  at?: string;
  every?: string;
  wait: boolean;
  new?: boolean;
  force?: boolean;
  draft?: boolean;
  writeBack: boolean;
  emoji?: boolean;
  captions?: boolean;
  concurrency: number;
  maxAttempts: number;
  json?: boolean;
}

/**
 * Validate every file first, enqueue all of them in one transaction (nothing if one is bad or already
 * queued), then (unless told not to) publish them now. A file whose content equals what was last published
 * has nothing to do.
 */
export async function publish(ctx: Context, args: string[], opts: PublishOptions): Promise<number> {
  const files = await expandFiles(args, ctx.cwd);
  const at = opts.at ? await parseWhen(opts.at) : null;
  const every = opts.every ? parseDuration(opts.every, "--every") : 0;
  const module = await loadPlatform(opts.platform, ctx.env);
  await module.preflight?.(ctx.env);
  const store = await ctx.store();
  const account = await chooseAccount(store, module.name, opts.account);
  const config = loadConfig(ctx.home(), ctx.env);
  const start = at ?? Date.now();

  const links = await wikiLinksNear(files, { store, platform: module.name, account, cwd: ctx.cwd });
  const plan = await planFiles(files, {
    cwd: ctx.cwd,
    home: ctx.home(),
    env: ctx.env,
    warn: ctx.warn,
    store,
    platform: module,
    account,
    mode: opts.draft ? "draft" : "publish",
    forceNew: Boolean(opts.new),
    force: Boolean(opts.force),
    // --no-write-back wins; otherwise the config (or TOPN_WRITE_BACK) decides.
    writeBack: opts.writeBack && config.writeBack,
    maxAttempts: opts.maxAttempts,
    render: { emoji: opts.emoji, captions: opts.captions },
    runAt: (i) => (at === null && (every === 0 || i === 0) ? null : start + i * every),
    ...(links ? { wikiLinks: (file: string) => links.resolverFor(file) } : {}),
  });

  const problems = plan.flatMap((p) => problemOf(p));
  if (problems.length > 0) {
    for (const p of problems) ctx.err(problemLine(p));
    if (plan.length > 1) ctx.err("topn: nothing was enqueued");
    throw new ExitCode(2);
  }
  const ready = plan.filter((p) => p.kind === "ready");
  if (at !== null || every > 0) {
    const refused = await precheckScheduled(
      ctx,
      store,
      module,
      account,
      ready.map((p) => ({ display: p.display, topics: p.article.topics, column: p.article.column })),
    );
    if (refused.length > 0) {
      for (const p of refused) ctx.err(problemLine(p));
      ctx.err("topn: nothing was enqueued");
      throw new ExitCode(2);
    }
  }
  for (const p of plan) {
    if (p.kind === "same") ctx.err(`topn: ${p.display} is the same file as ${p.as}: published once`);
    if (p.kind === "ready") for (const n of p.notes) ctx.err(`topn: ${n}`);
  }

  let outcomes: Awaited<ReturnType<typeof store.tasks.enqueue>>;
  try {
    outcomes = await store.tasks.enqueue(ready.map((p) => p.task));
  } catch (e) {
    if (!(e instanceof EnqueueConflict)) throw e;
    for (const c of e.conflicts) {
      ctx.err(
        problemLine({
          message: `${ready[c.index]!.display} is already ${c.status} as task ${c.id}`,
          hint:
            c.status === "running"
              ? `wait for it: topn show ${c.id}`
              : `wait for it, or cancel it first: topn cancel ${c.id}`,
        }),
      );
    }
    if (ready.length > 1) ctx.err("topn: nothing was enqueued");
    throw new ExitCode(2);
  }

  const queued: Task[] = [];
  for (const [i, o] of outcomes.entries()) {
    if (o.kind === "queued") queued.push(o.task);
    else if (o.kind === "unchanged" && !opts.json)
      ctx.out(
        `${ready[i]!.display}: unchanged since ${o.url ?? o.articleId}; nothing to do (--force publishes it again)`,
      );
  }
  if (queued.length === 0) {
    if (opts.json) ctx.out(JSON.stringify([], null, 2));
    return 0;
  }

  const now = await store.tasks.now();
  const scheduled = queued.some((t) => t.runAt > now + 1000);
  if (!opts.wait || scheduled) {
    if (opts.json) {
      ctx.out(
        JSON.stringify(
          queued.map((t) => taskJson(t, now)),
          null,
          2,
        ),
      );
    } else {
      for (const t of queued) {
        ctx.out(
          `task ${t.id}  ${t.runAt > now + 1000 ? `scheduled for ${formatTime(t.runAt)}` : "queued"}  ${t.title}`,
        );
      }
      ctx.out(
        scheduled
          ? "they run when due: keep `topn run` going, or call `topn run --once` from cron"
          : "run them with: topn run --once",
      );
    }
    return 0;
  }

  const ids = queued.map((t) => t.id);
  const { code } = await drive(ctx, {
    only: ids,
    concurrency: opts.concurrency,
    graceMs: 30_000,
    events: opts.json ? "none" : "text",
  });
  const final: Task[] = [];
  for (const id of ids) final.push((await store.tasks.get(id))!);
  const held = await holdsFor(ctx, store);
  const end = await store.tasks.now();
  if (opts.json) {
    ctx.out(
      JSON.stringify(
        final.map((t) => taskJson(t, end, held(t))),
        null,
        2,
      ),
    );
  } else {
    for (const t of final)
      ctx.out(`task ${t.id}  ${t.status}  ${held(t)?.line ?? t.url ?? t.errorMessage ?? ""}`);
  }
  // A task left waiting for a person (paused account, no session) is not a success.
  return code === EXIT.ok && final.some((t) => t.status === "queued") ? EXIT.taskFailed : code;
}

function problemOf(p: PlannedFile): UsageError[] {
  if (p.kind === "invalid") return [p.error];
  if (p.kind === "draft") {
    return [
      new UsageError(
        `${p.display}:${p.line}: the front matter says ${p.key}: ${p.key === "draft" ? "true" : "false"} — it is a draft`,
        `save it into a Zhihu draft with --draft, or remove the ${p.key} line to publish it`,
      ),
    ];
  }
  return [];
}
