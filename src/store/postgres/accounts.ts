import { MAX_STRIKE_DOUBLINGS } from "../identity.js";
import { type PauseColumns, pauseOf, pauseParams } from "../pause.js";
import type { Account, AccountLogin, AccountPause, AccountStore } from "../types.js";
import type { Db } from "./db.js";

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
  is_default: boolean;
  gap_ms: number | null;
  daily_cap: number | null;
  hosts: { host: string; seenAt: number | string }[];
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
  isDefault: r.is_default,
  pause: pauseOf(r),
  gapMs: r.gap_ms,
  dailyCap: r.daily_cap,
  // bigint inside json comes back as a JSON number: exact for ms since the epoch.
  hosts: r.hosts.map((h) => ({ host: h.host, seenAt: Number(h.seenAt) })),
});

/** The machines holding a session for the account (most recently seen first). */
const HOSTS = `coalesce((SELECT json_agg(json_build_object('host', h.host, 'seenAt', h.seen_at) ORDER BY h.seen_at DESC)
  FROM hosts h WHERE h.platform = accounts.platform AND h.account = accounts.name), '[]'::json) AS hosts`;

/** Pauses an account (a row is created if none): `topn accounts` and a task's hold make the same pause. */
export const PAUSE_ACCOUNT = `
  INSERT INTO accounts AS old (platform, name, paused_kind, paused_reason, paused_fix, paused_at, paused_until,
    strikes, session_state)
  VALUES (@platform, @name, @kind, @reason, @fix, NOW,
          CASE WHEN @forMs::bigint IS NULL THEN NULL ELSE NOW + @forMs::bigint END, @backoff::integer,
          CASE WHEN @kind = 'session_expired' THEN 'expired' END)
  ON CONFLICT (platform, name) DO UPDATE SET paused_kind = excluded.paused_kind,
    paused_reason = excluded.paused_reason, paused_fix = excluded.paused_fix, paused_at = excluded.paused_at,
    paused_until = CASE WHEN @forMs::bigint IS NULL THEN NULL
                   ELSE NOW + @forMs::bigint * (1::bigint << least(old.strikes, ${MAX_STRIKE_DOUBLINGS})) END,
    strikes = old.strikes + @backoff::integer,
    session_state = CASE WHEN @kind = 'session_expired' THEN 'expired' ELSE old.session_state END`;

/**
 * Accounts in PostgreSQL, shared by every machine. A row may exist before any login: a task's
 * account-level failure pauses the account by its name alone. Sessions (cookies) never come here: each
 * machine keeps its own, and says which accounts it holds in `hosts`.
 */
export class PgAccountStore implements AccountStore {
  private readonly s;

  constructor(private readonly db: Db) {
    const q = (text: string) => db.sql(text);
    this.s = {
      login: q(
        `INSERT INTO accounts AS old (platform, name, display_name, uid, url_token, logged_in_at, checked_at,
           session_state, session_ok_at, session_expires_at)
         VALUES (@platform, @name, @displayName, @uid, @urlToken, NOW, NOW, 'ok', NOW, @sessionExpiresAt::bigint)
         ON CONFLICT (platform, name) DO UPDATE SET display_name = excluded.display_name, uid = excluded.uid,
           url_token = excluded.url_token, logged_in_at = excluded.logged_in_at, checked_at = excluded.checked_at,
           session_state = 'ok', session_ok_at = excluded.session_ok_at,
           session_expires_at = excluded.session_expires_at,
           -- A fresh session ends every pause: whatever stopped the account, the person has just acted.
           paused_kind = NULL, paused_reason = NULL, paused_fix = NULL, paused_at = NULL, paused_until = NULL,
           strikes = 0`,
      ),
      check: q(
        `UPDATE accounts SET checked_at = NOW, session_state = @state,
           session_ok_at = CASE WHEN @state = 'ok' THEN NOW ELSE session_ok_at END,
           session_expires_at = coalesce(@expiresAt::bigint, session_expires_at)
         WHERE platform = @platform AND name = @name`,
      ),
      list: q(
        `SELECT *, NOW AS now, ${HOSTS} FROM accounts WHERE (@platform::text IS NULL OR platform = @platform)
         ORDER BY platform, name`,
      ),
      get: q(`SELECT *, NOW AS now, ${HOSTS} FROM accounts WHERE platform = @platform AND name = @name`),
      remove: q("DELETE FROM accounts WHERE platform = @platform AND name = @name"),
      removeHosts: q("DELETE FROM hosts WHERE platform = @platform AND account = @name"),
      pause: q(PAUSE_ACCOUNT),
      resume: q(
        `UPDATE accounts SET paused_kind = NULL, paused_reason = NULL, paused_fix = NULL, paused_at = NULL,
           paused_until = NULL, strikes = 0
         WHERE platform = @platform AND name = @name AND paused_kind IS NOT NULL`,
      ),
      pacing: q(
        `INSERT INTO accounts AS old (platform, name, gap_ms, daily_cap)
         VALUES (@platform, @name, @gapMs::bigint, @dailyCap::integer)
         ON CONFLICT (platform, name) DO UPDATE SET
           gap_ms = CASE WHEN @setGap::boolean THEN excluded.gap_ms ELSE old.gap_ms END,
           daily_cap = CASE WHEN @setCap::boolean THEN excluded.daily_cap ELSE old.daily_cap END`,
      ),
      // Two machines setting a default at once: the row locks order them, and the last one wins alone.
      lockPlatform: q("SELECT 1 FROM accounts WHERE platform = @platform ORDER BY name FOR UPDATE"),
      clearDefault: q("UPDATE accounts SET is_default = false WHERE platform = @platform AND is_default"),
      setDefault: q("UPDATE accounts SET is_default = true WHERE platform = @platform AND name = @name"),
      host: q(
        `INSERT INTO hosts (platform, account, host, seen_at) SELECT @platform, account, @host, NOW
         FROM unnest(@accounts::text[]) AS account
         ON CONFLICT (platform, account, host) DO UPDATE SET seen_at = excluded.seen_at`,
      ),
      unsetHost: q("DELETE FROM hosts WHERE platform = @platform AND account = @account AND host = @host"),
      dropHost: q(
        `DELETE FROM hosts WHERE platform = @platform AND host = @host
           AND NOT (account = ANY(@accounts::text[]))`,
      ),
    };
  }

  async login(a: AccountLogin): Promise<void> {
    await this.db.read((c) => this.db.run(c, this.s.login, { ...a }));
  }

  async recordCheck(
    platform: string,
    name: string,
    check: { state: string; expiresAt?: number | null },
  ): Promise<void> {
    await this.db.read((c) =>
      this.db.run(c, this.s.check, {
        platform,
        name,
        state: check.state,
        expiresAt: check.expiresAt ?? null,
      }),
    );
  }

  async list(platform?: string): Promise<Account[]> {
    return this.db.read(async (c) =>
      (await this.db.run<AccountRow>(c, this.s.list, { platform: platform ?? null })).map(toAccount),
    );
  }

  async get(platform: string, name: string): Promise<Account | undefined> {
    return this.db.read(async (c) => {
      const row = (await this.db.run<AccountRow>(c, this.s.get, { platform, name }))[0];
      return row ? toAccount(row) : undefined;
    });
  }

  async remove(platform: string, name: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      await this.db.run(c, this.s.removeHosts, { platform, name });
      return (await this.db.count(c, this.s.remove, { platform, name })) > 0;
    });
  }

  async pause(platform: string, name: string, pause: AccountPause): Promise<void> {
    await this.db.read((c) => this.db.run(c, this.s.pause, pauseParams(platform, name, pause)));
  }

  async resume(platform: string, name: string): Promise<boolean> {
    return this.db.read(async (c) => (await this.db.count(c, this.s.resume, { platform, name })) > 0);
  }

  async setPacing(
    platform: string,
    name: string,
    pacing: { gapMs?: number | null; dailyCap?: number | null },
  ): Promise<void> {
    await this.db.read((c) =>
      this.db.run(c, this.s.pacing, {
        platform,
        name,
        gapMs: pacing.gapMs ?? null,
        dailyCap: pacing.dailyCap ?? null,
        setGap: pacing.gapMs !== undefined,
        setCap: pacing.dailyCap !== undefined,
      }),
    );
  }

  async setDefault(platform: string, name: string): Promise<void> {
    await this.db.tx(async (c) => {
      await this.db.run(c, this.s.lockPlatform, { platform });
      await this.db.run(c, this.s.clearDefault, { platform });
      await this.db.run(c, this.s.setDefault, { platform, name });
    });
  }

  async setHost(host: string, platform: string, account: string, holds: boolean): Promise<void> {
    await this.db.read((c) =>
      holds
        ? this.db.run(c, this.s.host, { platform, host, accounts: [account] })
        : this.db.run(c, this.s.unsetHost, { platform, account, host }),
    );
  }

  async registerHost(host: string, platform: string, accounts: readonly string[]): Promise<void> {
    await this.db.tx(async (c) => {
      await this.db.run(c, this.s.host, { platform, host, accounts: [...accounts] });
      await this.db.run(c, this.s.dropHost, { platform, host, accounts: [...accounts] });
    });
  }
}
