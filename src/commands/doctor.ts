// topn doctor [--json]: is this machine fit to publish unattended? One line per check, ✓ or ✗ with the fix;
// exit 1 when anything is wrong, so `topn doctor || mail …` works from cron.

import type { Context } from "../context.js";
import { EXIT } from "../errors.js";
import { expiryPhrase } from "../notify/alert.js";
import { abortOnSignals } from "../runner/signals.js";
import type { Store } from "../store/types.js";
import { formatTime } from "../ui/format.js";
import {
  type CheckResult,
  checkBrowser,
  checkCredentials,
  checkDatabase,
  checkDisk,
  checkLeases,
  checkLongRunning,
} from "./doctor-checks.js";
import { PlatformCache } from "./platform-access.js";
import { checkAccounts } from "./session-checks.js";

export async function doctor(ctx: Context, opts: { json?: boolean }): Promise<number> {
  const results: CheckResult[] = [];
  const say = (r: CheckResult | CheckResult[]) => {
    for (const one of Array.isArray(r) ? r : [r]) {
      results.push(one);
      if (!opts.json)
        ctx.out(
          `${one.ok ? "✓" : "✗"} ${one.check}: ${one.detail}${one.ok || !one.fix ? "" : `; fix: ${one.fix}`}`,
        );
    }
  };
  let home: string;
  try {
    home = ctx.home();
  } catch (e) {
    say({
      check: "home",
      ok: false,
      detail: (e as Error).message,
      fix: "set TOPN_HOME to a folder you can write",
    });
    return finish(ctx, results, opts);
  }
  const { result, store: opened } = await checkDatabase(() => ctx.store());
  say(result);
  // A damaged database is said once: what it holds (leases, accounts) cannot be trusted to be read.
  const store = result.ok ? opened : null;
  say(await checkDisk(home));
  if (store) {
    const now = await store.tasks.now();
    const running = await store.tasks.list({ status: "running" });
    say(checkLeases(running, now));
    say(checkLongRunning(running, now));
  }
  say(await checkCredentials(home, ctx.env));
  say(await checkBrowser(ctx.env));
  if (store) say(await accountChecks(ctx, store));
  return finish(ctx, results, opts);
}

function finish(ctx: Context, results: CheckResult[], opts: { json?: boolean }): number {
  const ok = results.every((r) => r.ok);
  if (opts.json)
    ctx.out(JSON.stringify({ ok, checks: results.map((r) => ({ ...r, fix: r.fix ?? null })) }, null, 2));
  return ok ? EXIT.ok : EXIT.taskFailed;
}

async function accountChecks(ctx: Context, store: Store): Promise<CheckResult[]> {
  const all = await store.accounts.list();
  if (all.length === 0) return [{ check: "accounts", ok: true, detail: "none yet (topn login zhihu)" }];
  const platforms = new PlatformCache(ctx);
  const interrupt = abortOnSignals();
  try {
    const checks = await checkAccounts(store, all, platforms, interrupt.signal);
    const now = await store.tasks.now();
    const out: CheckResult[] = [];
    for (const c of checks) {
      const check = `account ${c.account.platform}:${c.account.name}`;
      if (c.kind === "paused") {
        const p = c.account.pause!;
        const until = p.until === null ? "" : ` until ${formatTime(p.until)}`;
        // A rate limit lifts by itself: worth knowing, not worth waking anybody.
        out.push({ check, ok: p.until !== null, detail: `paused${until} — ${p.reason}`, fix: p.fix });
        continue;
      }
      if (c.kind === "skipped") {
        out.push({ check, ok: true, detail: `not checked: ${c.why}` });
        continue;
      }
      const h = c.check.health;
      if (h.state !== "ok") {
        out.push({ check, ok: false, detail: h.message ?? h.state, ...(h.fix ? { fix: h.fix } : {}) });
        continue;
      }
      const who = h.user ? ` (${h.user.name})` : "";
      if (c.check.expiring && h.expiresAt !== null) {
        out.push({
          check,
          ok: false,
          detail: `session alive${who}, but it ${expiryPhrase(h.expiresAt, now)}`,
          fix: `log in again before then: ${c.check.login}`,
        });
        continue;
      }
      const ends = h.expiresAt === null ? "" : `; it ${expiryPhrase(h.expiresAt, now)}`;
      out.push({ check, ok: true, detail: `session alive${who}${ends}; not paused` });
    }
    return out;
  } finally {
    interrupt.dispose();
    await platforms.close();
  }
}
