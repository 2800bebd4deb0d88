// Live checks of every account's session, for `accounts --check` and `doctor`: asked of each platform, one
// account at a time (gentle on the platform; a cron job is not in a hurry), recorded, and a dead session
// pauses its account. A paused account is not asked at all: nothing is sent for it until a person acts.

import type { SessionHealth } from "../platform.js";
import { type CheckedSession, recordSessionCheck } from "../runner/health.js";
import type { Account, Store } from "../store/types.js";
import type { PlatformCache } from "./platform-access.js";

export type AccountCheck =
  | { account: Account; kind: "checked"; check: CheckedSession }
  /** Not asked: the account is paused (its pause says what to do). */
  | { account: Account; kind: "paused" }
  /** Not asked: the platform keeps no sessions, or this topn cannot load it. */
  | { account: Account; kind: "skipped"; why: string };

export async function checkAccounts(
  store: Store,
  accounts: readonly Account[],
  platforms: PlatformCache,
  signal?: AbortSignal,
): Promise<AccountCheck[]> {
  const out: AccountCheck[] = [];
  for (const account of accounts) {
    signal?.throwIfAborted();
    if (account.pause) {
      out.push({ account, kind: "paused" });
      continue;
    }
    const open = await platforms.get(account.platform);
    const sessions = open?.platform.sessions;
    if (!sessions) {
      out.push({
        account,
        kind: "skipped",
        why: open
          ? "the platform keeps no sessions"
          : `this topn does not know the platform ${account.platform}`,
      });
      continue;
    }
    const health: SessionHealth = await sessions.check(account.name, signal);
    const check = await recordSessionCheck(
      store.accounts,
      account.platform,
      account.name,
      health,
      await store.tasks.now(),
      sessions.loginCommand(account.name),
    );
    out.push({ account, kind: "checked", check });
  }
  return out;
}
