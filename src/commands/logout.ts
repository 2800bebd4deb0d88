// topn logout zhihu [--account NAME]: forget an account's session (credential store) and its row.
// Zhihu itself is not told: the session simply stops being used here.

import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { loginCommand } from "../zhihu/classify.js";
import { machineName } from "../owner.js";
import { chooseAccount } from "./account-choice.js";
import { openCredentials, requireZhihu, sessionLocation } from "./login.js";

export interface LogoutOptions {
  account?: string;
}

const PLATFORM = "zhihu";

export async function logout(ctx: Context, platform: string, opts: LogoutOptions): Promise<number> {
  requireZhihu(platform, "logout");
  const store = await ctx.store();
  let name: string;
  try {
    name = await chooseAccount(store, PLATFORM, opts.account);
  } catch (e) {
    // A session saved without its row (a login interrupted between the two writes) can still be forgotten.
    if (!(e instanceof UsageError) || opts.account === undefined) throw e;
    const creds = await openCredentials(ctx);
    const where = sessionLocation(creds, opts.account);
    if (!(await creds.delete(PLATFORM, opts.account))) throw e;
    ctx.out(`logged out: account ${opts.account} (session deleted from ${where})`);
    return 0;
  }
  const creds = await openCredentials(ctx);
  const where = sessionLocation(creds, name);
  const deleted = await creds.delete(PLATFORM, name);
  await store.accounts.setHost(machineName(ctx.env), PLATFORM, name, false);
  await store.accounts.remove(PLATFORM, name);
  ctx.out(
    `logged out: account ${name} (${deleted ? `session deleted from ${where}` : "no saved session was left"})`,
  );
  const queued = (await store.tasks.list({ account: name, status: "queued" })).filter(
    (t) => t.platform === PLATFORM,
  ).length;
  if (queued > 0) {
    ctx.warn(
      `${queued} queued task(s) of account ${name} wait until it logs in again: ${loginCommand(name)}`,
    );
  }
  return 0;
}
