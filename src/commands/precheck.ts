// Before files are scheduled for later (`publish --at`, `--every`): ask the platform what only it can say —
// the session is alive, the topics exist, the column is the account's — so a mistake is refused now, at the
// prompt, instead of failing unattended hours later.

import type { Context } from "../context.js";
import { TaskFailure, UsageError } from "../errors.js";
import type { PlatformModule, PrecheckItem } from "../platform.js";
import { abortOnSignals } from "../runner/signals.js";
import type { Store } from "../store/types.js";

/** The problems found, as usage errors (empty: fine to schedule). */
export async function precheckScheduled(
  ctx: Context,
  store: Store,
  module: PlatformModule,
  account: string,
  items: readonly PrecheckItem[],
): Promise<UsageError[]> {
  if (items.length === 0) return [];
  const row = await store.accounts.get(module.name, account);
  if (row?.pause) {
    // No request is made for a paused account: its tasks wait, and what they would meet is not asked now.
    ctx.warn(
      `account ${account} is paused (${row.pause.reason}); the tasks wait until: ${row.pause.fix}; their topics and column were not checked`,
    );
    return [];
  }
  const platform = await module.create({ home: ctx.home(), env: ctx.env, warn: ctx.warn });
  const interrupt = abortOnSignals();
  try {
    if (!platform.precheck) return [];
    const problems = await platform.precheck(account, items, interrupt.signal);
    return problems.map((p) => new UsageError(`${items[p.index]?.display ?? "?"}: ${p.message}`, p.hint));
  } catch (e) {
    if (!(e instanceof TaskFailure)) throw e;
    const fix = [e.url ? `open ${e.url}` : "", e.hint ?? ""].filter(Boolean).join("; ");
    if (e.transient)
      return [
        new UsageError(
          `could not check the files with ${module.label} before scheduling them: ${e.message}`,
          "try again in a while",
        ),
      ];
    return [new UsageError(`cannot schedule for account ${account}: ${e.message}`, fix || undefined)];
  } finally {
    interrupt.dispose();
    await platform.close();
  }
}
