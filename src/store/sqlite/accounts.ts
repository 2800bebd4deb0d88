import type Database from "better-sqlite3";
import { MAX_STRIKE_DOUBLINGS } from "../identity.js";
import { type PauseColumns, pauseOf, pauseParams } from "../pause.js";
import type { Account, AccountLogin, AccountPause, AccountStore } from "../types.js";
import type { Sql } from "./sql.js";

interface AccountRow extends PauseColumns {
  platform: string;
  name: string;
  display_name: string | null;
  uid: string | null;
  url_token: string | null;
  logged_in_at: number | null;
  checked_at: number | null;
  session_state: string | null;
  session_ok_at: number | null;
  session_expires_at: number | null;
  is_default: number;
  gap_ms: number | null;
  daily_cap: number | null;
  /** JSON array of {host, seenAt}. */
  hosts: string;
}

const toAccount = (r: AccountRow): Account => ({
  platform: r.platform,
  name: r.name,
  displayName: r.display_name,
  uid: r.uid,
  urlToken: r.url_token,
  loggedInAt: r.logged_in_at,
  checkedAt: r.checked_at,
  sessionState: r.session_state,
  sessionOkAt: r.session_ok_at,
  sessionExpiresAt: r.session_expires_at,
  isDefault: r.is_default === 1,
  pause: pauseOf(r),
  gapMs: r.gap_ms,
  dailyCap: r.daily_cap,
  hosts: JSON.parse(r.hosts) as Account["hosts"],
});

/** The machines holding a session for the account, as JSON (most recently seen first). */
const HOSTS = `(SELECT json_group_array(json_object('host', h.host, 'seenAt', h.seen_at)) FROM
           (SELECT host, seen_at FROM hosts WHERE platform = accounts.platform AND account = accounts.name
            ORDER BY seen_at DESC) h) AS hosts`;

/** Pauses an account (a row is created if none): `topn accounts` and a task's hold make the same pause. */
export const PAUSE_ACCOUNT = `
  INSERT INTO accounts (platform, name, paused_kind, paused_reason, paused_fix, paused_at, paused_until, strikes,
    session_state)
  VALUES (@platform, @name, @kind, @reason, @fix, NOW,
          CASE WHEN @forMs IS NULL THEN NULL ELSE NOW + @forMs END, @backoff,
          CASE WHEN @kind = 'session_expired' THEN 'expired' END)
  ON CONFLICT (platform, name) DO UPDATE SET paused_kind = excluded.paused_kind,
    paused_reason = excluded.paused_reason, paused_fix = excluded.paused_fix, paused_at = excluded.paused_at,
    paused_until = CASE WHEN @forMs IS NULL THEN NULL
                   ELSE NOW + @forMs * (1 << min(accounts.strikes, ${MAX_STRIKE_DOUBLINGS})) END,
    strikes = accounts.strikes + @backoff,
    session_state = CASE WHEN @kind = 'session_expired' THEN 'expired' ELSE accounts.session_state END`;

/**
 * Accounts in SQLite. A row may exist before any login: a task's account-level failure pauses the account
 * by its name alone. Sessions (cookies) never come here.
 */
export class SqliteAccountStore implements AccountStore {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly sql: Sql,
  ) {
    const p = (text: string) => db.prepare(text.replace(/\bNOW\b/g, sql.now));
    this.s = {
      login: p(
        `INSERT INTO accounts (platform, name, display_name, uid, url_token, logged_in_at, checked_at, session_state,
           session_ok_at, session_expires_at)
         VALUES (@platform, @name, @displayName, @uid, @urlToken, NOW, NOW, 'ok', NOW, @sessionExpiresAt)
         ON CONFLICT (platform, name) DO UPDATE SET display_name = excluded.display_name, uid = excluded.uid,
           url_token = excluded.url_token, logged_in_at = excluded.logged_in_at, checked_at = excluded.checked_at,
           session_state = 'ok', session_ok_at = excluded.session_ok_at,
           session_expires_at = excluded.session_expires_at,
           -- A fresh session ends every pause: whatever stopped the account, the person has just acted.
           paused_kind = NULL, paused_reason = NULL, paused_fix = NULL, paused_at = NULL, paused_until = NULL,
           strikes = 0`,
      ),
      check: p(
        `UPDATE accounts SET checked_at = NOW, session_state = @state,
           session_ok_at = CASE WHEN @state = 'ok' THEN NOW ELSE session_ok_at END,
           session_expires_at = coalesce(@expiresAt, session_expires_at)
         WHERE platform = @platform AND name = @name`,
      ),
      list: p(
        `SELECT *, NOW AS now, ${HOSTS} FROM accounts WHERE (@platform IS NULL OR platform = @platform)
         ORDER BY platform, name`,
      ) as Database.Statement<Record<string, unknown>, AccountRow>,
      get: p(
        `SELECT *, NOW AS now, ${HOSTS} FROM accounts WHERE platform = ? AND name = ?`,
      ) as Database.Statement<[string, string], AccountRow>,
      remove: db.prepare<[string, string]>("DELETE FROM accounts WHERE platform = ? AND name = ?"),
      removeHosts: db.prepare<[string, string]>("DELETE FROM hosts WHERE platform = ? AND account = ?"),
      resume: db.prepare<[string, string]>(
        `UPDATE accounts SET paused_kind = NULL, paused_reason = NULL, paused_fix = NULL, paused_at = NULL,
           paused_until = NULL, strikes = 0
         WHERE platform = ? AND name = ? AND paused_kind IS NOT NULL`,
      ),
      pause: p(PAUSE_ACCOUNT),
      pacing: db.prepare(
        `INSERT INTO accounts (platform, name, gap_ms, daily_cap) VALUES (@platform, @name, @gapMs, @dailyCap)
         ON CONFLICT (platform, name) DO UPDATE SET
           gap_ms = CASE WHEN @setGap THEN excluded.gap_ms ELSE accounts.gap_ms END,
           daily_cap = CASE WHEN @setCap THEN excluded.daily_cap ELSE accounts.daily_cap END`,
      ),
      clearDefault: db.prepare<[string]>(
        "UPDATE accounts SET is_default = 0 WHERE platform = ? AND is_default = 1",
      ),
      setDefault: db.prepare<[string, string]>(
        "UPDATE accounts SET is_default = 1 WHERE platform = ? AND name = ?",
      ),
      host: p(
        `INSERT INTO hosts (platform, account, host, seen_at) VALUES (@platform, @account, @host, NOW)
         ON CONFLICT (platform, account, host) DO UPDATE SET seen_at = excluded.seen_at`,
      ),
      unsetHost: db.prepare(
        "DELETE FROM hosts WHERE platform = @platform AND account = @account AND host = @host",
      ),
      dropHost: db.prepare(
        `DELETE FROM hosts WHERE platform = @platform AND host = @host
           AND account NOT IN (SELECT value FROM json_each(@accounts))`,
      ),
    };
  }

  private write<T>(fn: () => T): Promise<T> {
    return this.sql.retry(() => this.db.transaction(fn).immediate());
  }

  async login(a: AccountLogin): Promise<void> {
    await this.write(() => this.s.login.run(a));
  }

  async recordCheck(
    platform: string,
    name: string,
    check: { state: string; expiresAt?: number | null },
  ): Promise<void> {
    await this.write(() =>
      this.s.check.run({ platform, name, state: check.state, expiresAt: check.expiresAt ?? null }),
    );
  }

  async list(platform?: string): Promise<Account[]> {
    return this.sql.retry(() => this.s.list.all({ platform: platform ?? null }).map(toAccount));
  }

  async get(platform: string, name: string): Promise<Account | undefined> {
    return this.sql.retry(() => {
      const row = this.s.get.get(platform, name);
      return row ? toAccount(row) : undefined;
    });
  }

  async remove(platform: string, name: string): Promise<boolean> {
    return this.write(() => {
      this.s.removeHosts.run(platform, name);
      return this.s.remove.run(platform, name).changes > 0;
    });
  }

  async pause(platform: string, name: string, pause: AccountPause): Promise<void> {
    await this.write(() => this.s.pause.run(pauseParams(platform, name, pause)));
  }

  async resume(platform: string, name: string): Promise<boolean> {
    return this.write(() => this.s.resume.run(platform, name).changes > 0);
  }

  async setPacing(
    platform: string,
    name: string,
    pacing: { gapMs?: number | null; dailyCap?: number | null },
  ): Promise<void> {
    await this.write(() =>
      this.s.pacing.run({
        platform,
        name,
        gapMs: pacing.gapMs ?? null,
        dailyCap: pacing.dailyCap ?? null,
        setGap: pacing.gapMs !== undefined ? 1 : 0,
        setCap: pacing.dailyCap !== undefined ? 1 : 0,
      }),
    );
  }

  async setDefault(platform: string, name: string): Promise<void> {
    await this.write(() => {
      this.s.clearDefault.run(platform);
      this.s.setDefault.run(platform, name);
    });
  }

  async setHost(host: string, platform: string, account: string, holds: boolean): Promise<void> {
    await this.write(() => (holds ? this.s.host : this.s.unsetHost).run({ platform, account, host }));
  }

  async registerHost(host: string, platform: string, accounts: readonly string[]): Promise<void> {
    await this.write(() => {
      for (const account of accounts) this.s.host.run({ platform, account, host });
      this.s.dropHost.run({ platform, host, accounts: JSON.stringify(accounts) });
    });
  }
}
