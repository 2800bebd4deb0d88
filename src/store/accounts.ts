import type Database from "better-sqlite3";

/** What topn remembers of an account. The session itself (cookies) lives in the credential store, never here. */
export interface Account {
  platform: string;
  name: string;
  displayName: string | null;
  uid: string | null;
  urlToken: string | null;
  loggedInAt: number | null;
  checkedAt: number | null;
  sessionState: string | null;
}

interface AccountRow {
  platform: string;
  name: string;
  display_name: string | null;
  uid: string | null;
  url_token: string | null;
  logged_in_at: number | null;
  checked_at: number | null;
  session_state: string | null;
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
});

export class AccountStore {
  private readonly stmts;

  constructor(db: Database.Database) {
    this.stmts = {
      upsert: db.prepare(
        `INSERT INTO accounts (platform, name, display_name, uid, url_token, logged_in_at, checked_at, session_state)
         VALUES (@platform, @name, @displayName, @uid, @urlToken, @loggedInAt, @checkedAt, @sessionState)
         ON CONFLICT (platform, name) DO UPDATE SET display_name = excluded.display_name, uid = excluded.uid,
           url_token = excluded.url_token, logged_in_at = excluded.logged_in_at, checked_at = excluded.checked_at,
           session_state = excluded.session_state`,
      ),
      check: db.prepare(
        "UPDATE accounts SET checked_at = @checkedAt, session_state = @state WHERE platform = @platform AND name = @name",
      ),
      list: db.prepare<{ platform: string | null }, AccountRow>(
        "SELECT * FROM accounts WHERE (@platform IS NULL OR platform = @platform) ORDER BY platform, name",
      ),
      get: db.prepare<[string, string], AccountRow>("SELECT * FROM accounts WHERE platform = ? AND name = ?"),
      remove: db.prepare<[string, string]>("DELETE FROM accounts WHERE platform = ? AND name = ?"),
    };
  }

  upsert(a: Account): void {
    this.stmts.upsert.run(a);
  }

  recordCheck(platform: string, name: string, state: string, checkedAt = Date.now()): void {
    this.stmts.check.run({ platform, name, state, checkedAt });
  }

  list(platform?: string): Account[] {
    return this.stmts.list.all({ platform: platform ?? null }).map(toAccount);
  }

  get(platform: string, name: string): Account | undefined {
    const row = this.stmts.get.get(platform, name);
    return row ? toAccount(row) : undefined;
  }

  remove(platform: string, name: string): boolean {
    return this.stmts.remove.run(platform, name).changes > 0;
  }
}
