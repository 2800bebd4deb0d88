// The account changes a person makes by hand: lift a pause, set pacing, choose the default account.

import { loadConfig } from "../config.js";
import type { Context } from "../context.js";
import { formatTime } from "../ui/format.js";
import { formatPacing, parsePacingSettings } from "../ui/pacing.js";
import { findAccount } from "./account-choice.js";

/** `--resume NAME`: lifts the pause and says what it was; its queued tasks run with the next runner. */
export async function resumeAccount(ctx: Context, ref: string): Promise<number> {
  const store = await ctx.store();
  const account = await findAccount(store, ref);
  const pause = account.pause;
  if (!pause) {
    ctx.out(`account ${account.name} is not paused; nothing to do`);
    return 0;
  }
  await store.accounts.resume(account.platform, account.name);
  const until = pause.until === null ? "" : `, due to lift at ${formatTime(pause.until)}`;
  ctx.out(
    `account ${account.name} resumed; it was paused since ${formatTime(pause.at)}${until} — ${pause.reason}`,
  );
  if (pause.kind === "session_expired")
    ctx.warn(
      `account ${account.name} was paused because its session ended: unless it has logged in again since, its next task pauses it again (${pause.fix})`,
    );
  const queued = (await store.tasks.list({ status: "queued", account: account.name })).filter(
    (t) => t.platform === account.platform,
  ).length;
  if (queued > 0) ctx.out(`${queued} queued task(s) of ${account.name} run with the next: topn run --once`);
  return 0;
}

/** `--set NAME gap=5m cap=20`: the account's own pacing (`default` gives a setting back to the defaults). */
export async function setPacing(ctx: Context, ref: string, words: readonly string[]): Promise<number> {
  const settings = parsePacingSettings(words);
  const store = await ctx.store();
  const account = await findAccount(store, ref);
  await store.accounts.setPacing(account.platform, account.name, settings);
  const after = (await store.accounts.get(account.platform, account.name))!;
  const defaults = loadConfig(ctx.home(), ctx.env).pacing;
  const own = after.gapMs !== null || after.dailyCap !== null;
  ctx.out(
    `account ${account.name}: ${formatPacing(after.gapMs ?? defaults.gapMs, after.dailyCap ?? defaults.dailyCap)}` +
      (own ? "" : " (the defaults)"),
  );
  return 0;
}

/** `--default NAME`: the account commands use when --account is left out and there are several. */
export async function defaultAccount(ctx: Context, ref: string): Promise<number> {
  const store = await ctx.store();
  const account = await findAccount(store, ref);
  await store.accounts.setDefault(account.platform, account.name);
  ctx.out(`account ${account.name} is now the default ${account.platform} account`);
  return 0;
}
