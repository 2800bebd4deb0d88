// Session health: what a live check of an account's session means for topn, and the watch that repeats the
// check about once a day while `topn run` keeps watching. Zhihu ends sessions long before their cookies say,
// so a dead one is found by the check, not by tonight's scheduled task; and a dead one pauses the account,
// because each of its tasks would only fail the same way (and look like abuse to Zhihu).

import { firstLine, TaskFailure } from "../errors.js";
import type { Platform, SessionHealth } from "../platform.js";
import type { AccountPause, AccountStore } from "../store/types.js";
import { pauseFor } from "./policy.js";

export const DAY_MS = 86_400_000;
/** A session that ends within this is warned about (accounts, watch mode, notify). */
export const EXPIRY_WARN_MS = 7 * DAY_MS;

export interface CheckedSession {
  platform: string;
  account: string;
  health: SessionHealth;
  /** The pause the check put on the account (its session is dead), or null. */
  paused: AccountPause | null;
  /** The session's cookies say it ends within EXPIRY_WARN_MS (or has ended). */
  expiring: boolean;
  /** What a person types to log the account in again. */
  login: string;
}

/** Whole days left until `expiresAt`, rounded down; negative once it has passed. */
export function daysLeft(expiresAt: number, now: number): number {
  return Math.floor((expiresAt - now) / DAY_MS);
}

export function expiresSoon(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt - now <= EXPIRY_WARN_MS;
}

/**
 * Records what a live check found: the state, the expiry its cookies give, and for a dead session (expired,
 * or a verification Zhihu wants a person for) the same pause a failed task would have put on the account.
 */
export async function recordSessionCheck(
  accounts: AccountStore,
  platform: string,
  account: string,
  health: SessionHealth,
  now: number,
  login: string,
): Promise<CheckedSession> {
  await accounts.recordCheck(platform, account, { state: health.state, expiresAt: health.expiresAt });
  let paused: AccountPause | null = null;
  if (health.state === "expired" || health.state === "needs_verification") {
    const kind = health.state === "expired" ? "session_expired" : "needs_verification";
    const failure = new TaskFailure(kind, "check session", health.message ?? health.state, {
      ...(health.url ? { url: health.url } : {}),
    });
    paused = pauseFor(failure, { platform, account });
    await accounts.pause(platform, account, paused);
  }
  return { platform, account, health, paused, expiring: expiresSoon(health.expiresAt, now), login };
}

export type SessionEvent =
  | { type: "session-checked"; check: CheckedSession }
  | { type: "session-trouble"; platform: string; account: string; error: string };

export interface SessionWatchOptions {
  accounts: AccountStore;
  /** How old a check may get before the next one (default a day). */
  everyMs?: number;
  onEvent: (e: SessionEvent) => void;
}

interface WatchHooks {
  /** Runs `fn` with the platform while no job of the account runs in this process; null when stopping. */
  exclusive<T>(platform: string, account: string, fn: (p: Platform) => Promise<T>): Promise<T | null>;
  /** The database's clock. */
  now(): Promise<number>;
}

/**
 * Checks each account this machine holds a session for when its last check is `everyMs` old (by the
 * database, so several runners and restarts share one schedule), one account at a time, never an account
 * that is paused (no request is made for a paused account). Runs beside the claims: the runner pokes it on
 * every wake-up and it never makes the runner wait.
 */
export class SessionWatch {
  private readonly everyMs: number;
  private readonly lookEveryMs: number;
  private lookedAt = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Accounts whose check went wrong (an unloadable platform, a failed write): left alone for a while. */
  private readonly resting = new Map<string, number>();

  constructor(
    private readonly opts: SessionWatchOptions,
    private readonly hooks: WatchHooks,
  ) {
    this.everyMs = Math.max(1, opts.everyMs ?? DAY_MS);
    this.lookEveryMs = Math.min(60_000, Math.max(100, this.everyMs / 4));
  }

  poke(): void {
    if (this.stopped || this.running) return;
    const t = performance.now();
    if (t - this.lookedAt < this.lookEveryMs) return;
    this.lookedAt = t;
    this.running = this.round().finally(() => {
      this.running = null;
    });
  }

  /** No new check starts; resolves when the one under way has ended (its outcome is dropped). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async round(): Promise<void> {
    let due: { platform: string; name: string }[];
    try {
      const now = await this.hooks.now();
      due = (await this.opts.accounts.list()).filter(
        (a) => a.pause === null && (a.checkedAt === null || now - a.checkedAt >= this.everyMs),
      );
    } catch (e) {
      // The database is busy or gone: the runner says so itself; the next poke tries again.
      if (!this.stopped)
        this.opts.onEvent({ type: "session-trouble", platform: "", account: "", error: firstLine(e) });
      return;
    }
    for (const a of due) {
      if (this.stopped) return;
      const key = `${a.platform}\u0000${a.name}`;
      if ((this.resting.get(key) ?? 0) > performance.now()) continue;
      try {
        const check = await this.hooks.exclusive(a.platform, a.name, async (p) => {
          if (!p.sessions || this.stopped) return null;
          if (p.hasSession && !(await p.hasSession(a.name))) return null;
          const health = await p.sessions.check(a.name);
          if (this.stopped) return null;
          const now = await this.hooks.now();
          const login = p.sessions.loginCommand(a.name);
          return recordSessionCheck(this.opts.accounts, a.platform, a.name, health, now, login);
        });
        if (check && !this.stopped) this.opts.onEvent({ type: "session-checked", check });
      } catch (e) {
        this.resting.set(key, performance.now() + this.everyMs);
        if (!this.stopped)
          this.opts.onEvent({
            type: "session-trouble",
            platform: a.platform,
            account: a.name,
            error: firstLine(e),
          });
      }
    }
  }
}
