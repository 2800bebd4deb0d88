// topn logout PLATFORM [--account NAME]: forget an account's session (credential store) and its row.
// The platform itself is not told: the session simply stops being used here.

import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { machineName } from "../owner.js";
import { chooseAccount } from "./account-choice.js";
import { openPlatform, sessionsOf } from "./platform-access.js";

export interface LogoutOptions {
  account?: string;
}

export async function logout(ctx: Context, platformName: string, opts: LogoutOptions): Promise<number> {
  const store = await ctx.store();
  const open = await openPlatform(ctx, platformName);
  try {
    const platform = open.module.name;
    const sessions = sessionsOf(open, "logout");
    let name: string;
    try {
      name = await chooseAccount(store, platform, opts.account);
    } catch (e) {
      // A session saved without its row (a login interrupted between the two writes) can still be forgotten.
      if (!(e instanceof UsageError) || opts.account === undefined) throw e;
      const { deleted, where } = await sessions.logout(opts.account);
      if (!deleted) throw e;
      ctx.out(`logged out: account ${opts.account} (session deleted from ${where})`);
      return 0;
    }
    const { deleted, where } = await sessions.logout(name);
    await store.accounts.setHost(machineName(ctx.env), platform, name, false);
    await store.accounts.remove(platform, name);
    ctx.out(
      `logged out: account ${name} (${deleted ? `session deleted from ${where}` : "no saved session was left"})`,
    );
    const queued = (await store.tasks.list({ account: name, status: "queued" })).filter(
      (t) => t.platform === platform,
    ).length;
    if (queued > 0) {
      ctx.warn(
        `${queued} queued task(s) of account ${name} wait until it logs in again: ${sessions.loginCommand(name)}`,
      );
    }
    return 0;
  } finally {
    await open.platform.close();
  }
}
