import { loadConfig } from "../config.js";
import type { Context } from "../context.js";
import { loadPlatform } from "../platforms.js";
import type { Store, Task } from "../store/types.js";
import { type HoldView, holdOf } from "../ui/holds.js";

/** For `tasks` and `show`: why each queued task waits, from one read of the accounts' holds. */
export async function holdsFor(ctx: Context, store: Store): Promise<(t: Task) => HoldView | null> {
  const holds = await store.tasks.holds(loadConfig(ctx.home(), ctx.env).pacing);
  const now = await store.tasks.now();
  const sessions = new Map<string, boolean>();
  for (const h of holds) {
    if (!sessions.has(h.platform)) {
      const module = await loadPlatform(h.platform, ctx.env).catch(() => undefined);
      sessions.set(h.platform, module?.usesSessions === true);
    }
  }
  const byAccount = new Map(holds.map((h) => [`${h.platform}\u0000${h.account}`, h]));
  return (t) =>
    holdOf(t, byAccount.get(`${t.platform}\u0000${t.account}`), {
      usesSessions: sessions.get(t.platform) ?? false,
      now,
    });
}
