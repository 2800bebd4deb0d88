// The fallback store: one 0600 JSON file per account under $TOPN_HOME/credentials/<platform>/.
// One file per account (not one shared file) so that two topn processes saving two accounts at once
// cannot lose each other's update: each write is a whole-file atomic rename, no read-modify-write.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  type CredentialStore,
  checkKey,
  decodeSession,
  encodeSession,
  type StoredSession,
} from "./session.js";

const POSIX = process.platform !== "win32";

export class FileCredentialStore implements CredentialStore {
  readonly kind = "file";
  readonly dir: string;

  constructor(
    home: string,
    private readonly warn: (msg: string) => void,
  ) {
    this.dir = join(home, "credentials");
  }

  /** Where the session of one account is (or would be) kept. */
  pathOf(platform: string, account: string): string {
    return join(this.dir, safeName(platform), `${safeName(account)}.json`);
  }

  async get(platform: string, account: string): Promise<StoredSession | null> {
    checkKey(platform, account);
    const path = this.pathOf(platform, account);
    let text: string;
    try {
      const fh = await open(path, "r");
      try {
        await this.tighten(path, (await fh.stat()).mode, 0o600, (m) => fh.chmod(m));
        text = await fh.readFile("utf8");
      } finally {
        await fh.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
    const s = decodeSession(text);
    if (!s) this.warn(`the saved session in ${path} is unreadable; log in to ${platform} again`);
    return s;
  }

  async set(platform: string, account: string, session: StoredSession): Promise<void> {
    checkKey(platform, account);
    const path = this.pathOf(platform, account);
    const dir = join(this.dir, safeName(platform));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.tighten(this.dir, (await stat(this.dir)).mode, 0o700, (m) => chmod(this.dir, m));
    await this.tighten(dir, (await stat(dir)).mode, 0o700, (m) => chmod(dir, m));
    // Created 0600 from the first byte (never chmod after writing): no moment where others may read it.
    const tmp = join(dir, `.${safeName(account)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const fh = await open(tmp, "wx", 0o600);
    try {
      try {
        await fh.writeFile(`${encodeSession(session)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    await syncDir(dir);
  }

  async delete(platform: string, account: string): Promise<boolean> {
    checkKey(platform, account);
    try {
      await unlink(this.pathOf(platform, account));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
  }

  /** Group/world access to a session is a leak waiting to happen: say so once and take it away. */
  private async tighten(
    path: string,
    mode: number,
    want: number,
    fix: (m: number) => Promise<void>,
  ): Promise<void> {
    if (!POSIX || (mode & 0o077) === 0) return;
    await fix(want);
    this.warn(
      `${path} was readable by other users (mode ${(mode & 0o777).toString(8)}); its mode is now ${want.toString(8)}`,
    );
  }
}

/** A file name for any platform/account name: safe on every OS, and distinct on case-insensitive disks. */
function safeName(name: string): string {
  return [...Buffer.from(name, "utf8")]
    .map((b, i) => {
      const ch = String.fromCharCode(b);
      // A leading dot is encoded too: "." and ".." must never name a directory.
      const keep = /[a-z0-9_-]/.test(ch) || (ch === "." && i > 0);
      return keep ? ch : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

/** The rename is durable only once the directory entry is on disk. Windows cannot open a directory. */
async function syncDir(dir: string): Promise<void> {
  if (!POSIX) return;
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
