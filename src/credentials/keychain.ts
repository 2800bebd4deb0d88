// The OS keychain (macOS Keychain, Windows Credential Manager, Secret Service on Linux/BSD) through
// @napi-rs/keyring, and the probe that decides whether one answers at all.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { firstLine, UsageError } from "../errors.js";
import type { FileCredentialStore } from "./file.js";
import {
  type CredentialStore,
  checkKey,
  decodeSession,
  encodeSession,
  type StoredSession,
  serviceName,
} from "./session.js";

type Keyring = typeof import("@napi-rs/keyring");

// Pinned to the Secret Service on Linux: the library's silent fallback, the kernel keyring, forgets
// everything at reboot (and per login session), which would look like Zhihu logging the person out.
const ENTRY_OPTIONS = { linux: { store: "secret-service" } } as const;

export class KeychainCredentialStore implements CredentialStore {
  readonly kind = "keychain";

  constructor(
    private readonly keyring: Keyring,
    /** Sessions saved while no keychain answered: adopted into the keychain on first read. */
    private readonly fallback: FileCredentialStore,
    private readonly warn: (msg: string) => void,
  ) {}

  async get(platform: string, account: string): Promise<StoredSession | null> {
    checkKey(platform, account);
    const bytes = await this.call("read", platform, account, (e) => e.getSecret());
    if (bytes === null) return this.adopt(platform, account);
    const s = decodeSession(Buffer.from(bytes).toString("utf8"));
    if (!s) {
      this.warn(`the saved ${platform} session of "${account}" in the keychain is unreadable; log in again`);
    }
    return s;
  }

  async set(platform: string, account: string, session: StoredSession): Promise<void> {
    checkKey(platform, account);
    // Bytes, not a password: Windows stores a password as UTF-16, halving its 2560-byte cap.
    const bytes = Buffer.from(encodeSession(session), "utf8");
    await this.call("save", platform, account, (e) => e.setSecret(bytes));
    // A copy left in the fallback file would outlive a logout from the keychain.
    await this.fallback.delete(platform, account);
  }

  async delete(platform: string, account: string): Promise<boolean> {
    checkKey(platform, account);
    const inKeychain = await this.call("delete", platform, account, (e) => e.deleteCredential());
    const inFile = await this.fallback.delete(platform, account);
    return inKeychain || inFile;
  }

  private async adopt(platform: string, account: string): Promise<StoredSession | null> {
    const s = await this.fallback.get(platform, account);
    if (s) await this.set(platform, account, s);
    return s;
  }

  private async call<T>(
    what: string,
    platform: string,
    account: string,
    fn: (e: InstanceType<Keyring["AsyncEntry"]>) => Promise<T>,
  ): Promise<T> {
    try {
      return await fn(new this.keyring.AsyncEntry(serviceName(platform), account, ENTRY_OPTIONS));
    } catch (e) {
      throw new UsageError(
        `the OS keychain could not ${what} the ${platform} session of "${account}": ${firstLine(e)}`,
        "unlock the keychain (or start its service), or set TOPN_CREDENTIAL_STORE=file",
      );
    }
  }
}

export async function loadKeyring(): Promise<Keyring> {
  return import("@napi-rs/keyring");
}

export interface ProbeResult {
  ok: boolean;
  reason?: string;
}

let probed: Promise<ProbeResult> | undefined;

/**
 * Does a keychain answer? A probe entry is written, read back and deleted. On Linux/BSD this runs in a
 * child process: libdbus connects synchronously inside the entry's constructor, and a bus that accepts
 * the connection but never answers blocks that thread for good (measured: >60 s). A worker thread cannot
 * be stopped while it sits in native code, a child process can. Asked once per process.
 */
export function probeKeychain(timeoutMs: number): Promise<ProbeResult> {
  probed ??=
    process.platform === "darwin" || process.platform === "win32"
      ? probeHere(timeoutMs)
      : process.env["DBUS_SESSION_BUS_ADDRESS"]
        ? probeInChild(timeoutMs)
        : // libdbus would only say "X11 autolaunch disabled": name the real cause, and skip the child.
          Promise.resolve({
            ok: false,
            reason: "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
          });
  return probed;
}

const probeAccount = () => `probe-${process.pid}-${Date.now()}`;

const PROBE_SOURCE = `
const out = (r) => process.stdout.write(JSON.stringify(r));
try {
  const { Entry } = require(process.argv[1]);
  const e = new Entry("topn:probe", process.argv[2], { linux: { store: "secret-service" } });
  e.setPassword("probe");
  const ok = e.getPassword() === "probe";
  e.deleteCredential();
  out(ok ? { ok } : { ok, reason: "the probe entry did not read back" });
} catch (err) {
  out({ ok: false, reason: String((err && err.message) || err) });
}`;

function probeInChild(timeoutMs: number): Promise<ProbeResult> {
  const modulePath = createRequire(import.meta.url).resolve("@napi-rs/keyring");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-e", PROBE_SOURCE, modulePath, probeAccount()],
      { timeout: timeoutMs, killSignal: "SIGKILL", windowsHide: true },
      (err, stdout) => {
        if (err && (err as { killed?: boolean }).killed) {
          resolve({
            ok: false,
            reason: `no answer from the Secret Service over D-Bus within ${timeoutMs} ms`,
          });
          return;
        }
        try {
          const r = JSON.parse(stdout) as { ok: boolean; reason?: string };
          resolve(r.ok ? { ok: true } : { ok: false, reason: firstLine(r.reason) });
        } catch {
          resolve({ ok: false, reason: `the keychain probe failed: ${firstLine(err ?? stdout)}` });
        }
      },
    );
  });
}

async function probeHere(timeoutMs: number): Promise<ProbeResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const { AsyncEntry } = await loadKeyring();
    const e = new AsyncEntry("topn:probe", probeAccount(), ENTRY_OPTIONS);
    await e.setPassword("probe", signal);
    const ok = (await e.getPassword(signal)) === "probe";
    await e.deleteCredential(signal);
    return ok ? { ok } : { ok, reason: "the probe entry did not read back" };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}
