// topn accounts [--check] [--json] | --resume NAME | --set NAME gap=5m cap=20 | --default NAME
//
// The listing says what a person who looks once a month needs: is each session alive (as last checked), when
// its cookies say it ends, whether the account is paused and how to lift it, its pacing, where its session
// is kept. --check asks each platform live (platforms end sessions long before their cookies say); a dead
// session pauses its account and, with --notify, is said by webhook. Exit 1 when --check finds a session that
// is not alive or an account that is paused.

import chalk from "chalk";
import { loadConfig } from "../config.js";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { expiryPhrase } from "../notify/alert.js";
import { alertOfSessionEvent } from "../notify/alert.js";
import { Notifier, notifyTargets } from "../notify/notifier.js";
import { machineName } from "../owner.js";
import type { SessionPlace } from "../platform.js";
import { daysLeft, expiresSoon } from "../runner/health.js";
import { abortOnSignals } from "../runner/signals.js";
import type { Account, PacingDefaults } from "../store/types.js";
import { fitColumns, formatTime, iso } from "../ui/format.js";
import { formatPacing } from "../ui/pacing.js";
import { renderTable } from "../ui/table.js";
import { defaultAccount, resumeAccount, setPacing } from "./account-actions.js";
import { PlatformCache } from "./platform-access.js";
import { type AccountCheck, checkAccounts } from "./session-checks.js";

export interface AccountsOptions {
  check?: boolean;
  json?: boolean;
  resume?: string;
  set?: string;
  default?: string;
  notify?: string;
  notifyCmd?: string;
}

export async function accounts(ctx: Context, settings: string[], opts: AccountsOptions): Promise<number> {
  const actions = [opts.resume, opts.set, opts.default].filter((a) => a !== undefined).length;
  if (actions > 1 || (actions === 1 && opts.check))
    throw new UsageError("--check, --resume, --set and --default do one thing each", "give one of them");
  if (settings.length > 0 && opts.set === undefined)
    throw new UsageError(
      `unexpected "${settings[0]}"`,
      "settings go after --set NAME, e.g. --set work gap=5m cap=20",
    );
  if ((opts.notify !== undefined || opts.notifyCmd !== undefined) && !opts.check)
    throw new UsageError("--notify and --notify-cmd go with --check", "topn accounts --check --notify URL");
  if (opts.resume !== undefined) return resumeAccount(ctx, opts.resume);
  if (opts.set !== undefined) return setPacing(ctx, opts.set, settings);
  if (opts.default !== undefined) return defaultAccount(ctx, opts.default);
  return list(ctx, opts);
}

async function list(ctx: Context, opts: AccountsOptions): Promise<number> {
  const store = await ctx.store();
  const config = loadConfig(ctx.home(), ctx.env);
  // Read (and refused if wrong) before anything is asked of a platform.
  const notifier = opts.check
    ? new Notifier({ ...notifyTargets(config, opts), log: ctx.err, env: ctx.env })
    : null;
  let all = await store.accounts.list();
  if (all.length === 0) {
    ctx.out(opts.json ? "[]" : "no accounts yet: topn login zhihu");
    return 0;
  }
  const platforms = new PlatformCache(ctx);
  try {
    let checks: AccountCheck[] = [];
    if (opts.check) {
      const interrupt = abortOnSignals();
      try {
        checks = await checkAccounts(store, all, platforms, interrupt.signal);
      } finally {
        interrupt.dispose();
      }
      const host = machineName(ctx.env);
      for (const c of checks)
        if (c.kind === "checked")
          notifier?.send(alertOfSessionEvent({ type: "session-checked", check: c.check }, host));
      all = await store.accounts.list();
    }
    const now = await store.tasks.now();
    const places = new Map<Account, SessionPlace | null>();
    for (const a of all) {
      const sessions = (await platforms.get(a.platform))?.platform.sessions;
      places.set(a, sessions ? await sessions.place(a.name) : null);
    }
    const pacing = config.pacing;
    if (opts.json)
      ctx.out(
        JSON.stringify(
          all.map((a) => accountJson(a, places.get(a) ?? null, checks, pacing, now)),
          null,
          2,
        ),
      );
    else printTable(ctx, all, places, pacing, now);

    for (const a of all) {
      if (a.sessionExpiresAt !== null && expiresSoon(a.sessionExpiresAt, now) && !a.pause) {
        const login = (await platforms.get(a.platform))?.platform.sessions?.loginCommand(a.name);
        ctx.warn(
          `the session of account ${a.name} ${expiryPhrase(a.sessionExpiresAt, now)}; log in again before then${login ? `: ${login}` : ""}`,
        );
      }
    }
    let bad = 0;
    for (const c of checks) {
      if (c.kind === "paused") {
        bad++;
        const p = c.account.pause!;
        ctx.err(`topn: account ${c.account.name}: paused (not checked) — ${p.reason}; fix: ${p.fix}`);
      } else if (c.kind === "checked" && c.check.health.state !== "ok") {
        bad++;
        const h = c.check.health;
        ctx.err(`topn: account ${c.account.name}: ${h.message ?? h.state}${h.fix ? `; ${h.fix}` : ""}`);
      }
    }
    await notifier?.flush();
    return bad > 0 ? 1 : 0;
  } finally {
    await platforms.close();
  }
}

function printTable(
  ctx: Context,
  all: Account[],
  places: Map<Account, SessionPlace | null>,
  defaults: PacingDefaults,
  now: number,
): void {
  const several = new Set(all.map((a) => a.platform)).size > 1 || all.some((a) => a.platform !== "zhihu");
  const rows = all.map((a) => {
    const place = places.get(a) ?? null;
    const state = a.sessionState ?? "unknown";
    return [
      `${several ? `${a.platform}:` : ""}${a.name}${a.isDefault ? " (default)" : ""}`,
      fitColumns(a.displayName ?? "", 24),
      a.pause ? chalk.red(`${state}, paused`) : state === "ok" ? chalk.green(state) : chalk.red(state),
      formatTime(a.checkedAt),
      expiresCell(a.sessionExpiresAt, now),
      formatPacing(a.gapMs ?? defaults.gapMs, a.dailyCap ?? defaults.dailyCap),
      place === null ? "-" : place.saved ? place.store : chalk.red("missing"),
      // Which machines can publish for it: with several machines on one queue, the ones holding a session.
      fitColumns(a.hosts.map((h) => h.host).join(", ") || "-", 24),
    ];
  });
  ctx.out(
    renderTable(["ACCOUNT", "USER", "SESSION", "CHECKED", "EXPIRES", "PACING", "STORED", "MACHINES"], rows),
  );
  for (const a of all) {
    if (!a.pause) continue;
    const until = a.pause.until === null ? "" : ` until ${formatTime(a.pause.until)}`;
    ctx.out(
      `${a.name}: paused since ${formatTime(a.pause.at)}${until} — ${a.pause.reason}; fix: ${a.pause.fix}`,
    );
  }
}

function expiresCell(expiresAt: number | null, now: number): string {
  if (expiresAt === null) return "";
  if (expiresAt <= now) return chalk.red("expired");
  const days = daysLeft(expiresAt, now);
  const text = days < 1 ? "< 1 day" : `in ${days}d`;
  return expiresSoon(expiresAt, now) ? chalk.yellow(text) : text;
}

function accountJson(
  a: Account,
  place: SessionPlace | null,
  checks: AccountCheck[],
  defaults: PacingDefaults,
  now: number,
) {
  const c = checks.find((x) => x.account.platform === a.platform && x.account.name === a.name);
  const h = c?.kind === "checked" ? c.check.health : null;
  return {
    platform: a.platform,
    name: a.name,
    display_name: a.displayName,
    uid: a.uid,
    url_token: a.urlToken,
    default: a.isDefault,
    logged_in_at: iso(a.loggedInAt),
    checked_at: iso(a.checkedAt),
    session_state: a.sessionState,
    session_ok_at: iso(a.sessionOkAt),
    session_expires_at: iso(a.sessionExpiresAt),
    days_left: a.sessionExpiresAt === null ? null : daysLeft(a.sessionExpiresAt, now),
    expiring: expiresSoon(a.sessionExpiresAt, now),
    machines: a.hosts.map((h) => ({ name: h.host, seen_at: iso(h.seenAt) })),
    paused: a.pause
      ? {
          kind: a.pause.kind,
          reason: a.pause.reason,
          fix: a.pause.fix,
          since: iso(a.pause.at),
          until: iso(a.pause.until),
        }
      : null,
    pacing: {
      gap_ms: a.gapMs ?? defaults.gapMs,
      daily_cap: a.dailyCap ?? defaults.dailyCap,
      own: { gap_ms: a.gapMs, daily_cap: a.dailyCap },
    },
    stored: place?.saved ? place.store : null,
    ...(c
      ? {
          check:
            c.kind === "checked"
              ? { state: h!.state, message: h!.message ?? null, url: h!.url ?? null, fix: h!.fix ?? null }
              : {
                  state: c.kind,
                  message: c.kind === "paused" ? (a.pause?.reason ?? null) : c.why,
                  url: null,
                  fix: null,
                },
        }
      : {}),
  };
}
