// topn accounts [--check] [--json]: the accounts topn knows, and with --check whether Zhihu still accepts
// each session right now. Zhihu ends sessions long before their cookies say, so this is how a person (or
// cron) learns of it before a publish fails. Exit 1 when --check finds any session that is not alive.

import chalk from "chalk";
import type { Context } from "../context.js";
import type { StoredSession } from "../credentials/index.js";
import { abortOnSignals } from "../runner/signals.js";
import type { Account } from "../store/types.js";
import { fitColumns, formatTime, iso } from "../ui/format.js";
import { renderTable } from "../ui/table.js";
import { loginCommand } from "../zhihu/classify.js";
import type { AccountCheck } from "../zhihu/session-check.js";
import { openCredentials } from "./login.js";

export interface AccountsOptions {
  check?: boolean;
  json?: boolean;
}

const PLATFORM = "zhihu";

export async function accounts(ctx: Context, opts: AccountsOptions): Promise<number> {
  const store = await ctx.store();
  let list = await store.accounts.list();
  if (list.length === 0) {
    ctx.out(opts.json ? "[]" : "no accounts yet: topn login zhihu");
    return 0;
  }
  const creds = await openCredentials(ctx);
  const sessions = new Map<string, StoredSession | null>();
  for (const a of list) if (a.platform === PLATFORM) sessions.set(a.name, await creds.get(PLATFORM, a.name));

  const checks = new Map<string, AccountCheck>();
  if (opts.check) {
    const { checkSessions } = await import("../zhihu/session-check.js");
    const interrupt = abortOnSignals();
    const results = await checkSessions({
      env: ctx.env,
      signal: interrupt.signal,
      sessions: [...sessions].map(([account, s]) => ({ account, cookies: s?.cookies ?? null })),
    }).finally(() => interrupt.dispose());
    for (const r of results) {
      checks.set(r.account, r);
      await store.accounts.recordCheck(PLATFORM, r.account, { state: r.state });
    }
    list = await store.accounts.list();
  }
  const stored = (a: Account) => (a.platform === PLATFORM && sessions.get(a.name) ? creds.kind : null);

  if (opts.json) {
    const rows = list.map((a) => {
      const c = checks.get(a.name);
      return {
        platform: a.platform,
        name: a.name,
        display_name: a.displayName,
        uid: a.uid,
        url_token: a.urlToken,
        logged_in_at: iso(a.loggedInAt),
        checked_at: iso(a.checkedAt),
        session_state: a.sessionState,
        stored: stored(a),
        ...(c ? { check: { state: c.state, message: c.message ?? null, url: c.url ?? null } } : {}),
      };
    });
    ctx.out(JSON.stringify(rows, null, 2));
  } else {
    const rows: string[][] = [];
    for (const a of list) {
      rows.push([
        a.platform === PLATFORM ? a.name : `${a.platform}:${a.name}`,
        fitColumns(a.displayName ?? "", 24),
        a.uid ?? "",
        formatTime(a.loggedInAt),
        formatTime(a.checkedAt),
        colourState(a.sessionState ?? "unknown"),
        stored(a) ?? chalk.red("missing"),
      ]);
    }
    ctx.out(renderTable(["ACCOUNT", "ZHIHU NAME", "UID", "LOGGED IN", "CHECKED", "SESSION", "STORED"], rows));
  }

  let bad = 0;
  for (const c of checks.values()) {
    if (c.state === "ok") continue;
    bad++;
    const fix =
      c.state === "needs_verification"
        ? `open ${c.url} in a browser and pass the check, or log in again: ${loginCommand(c.account)}`
        : c.state === "error"
          ? `try again later; if it persists, log in again: ${loginCommand(c.account)}`
          : `log in again: ${loginCommand(c.account)}`;
    ctx.err(`topn: account ${c.account}: ${c.message ?? c.state}; ${fix}`);
  }
  return bad > 0 ? 1 : 0;
}

function colourState(state: string): string {
  return state === "ok" ? chalk.green(state) : chalk.red(state);
}
