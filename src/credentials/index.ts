// Where sessions are kept: the OS keychain when one answers, else 0600 files in TOPN_HOME.
// TOPN_CREDENTIAL_STORE=keychain|file forces one.
import { UsageError } from "../errors.js";
import { FileCredentialStore } from "./file.js";
import { KeychainCredentialStore, loadKeyring, probeKeychain } from "./keychain.js";
import { type CredentialStore, serviceName } from "./session.js";

export type { CredentialStore, StoredSession } from "./session.js";
export { serviceName } from "./session.js";

/** Long enough for a keychain waking up (measured ~0.1 s here), short enough that a hung D-Bus costs little. */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000;

const CHOICES = ["keychain", "file"] as const;

let warnedFallback = false;

export async function openCredentialStore(opts: {
  home: string;
  env?: NodeJS.ProcessEnv;
  warn?: (msg: string) => void;
  probeTimeoutMs?: number;
}): Promise<CredentialStore> {
  const env = opts.env ?? process.env;
  const warn = opts.warn ?? ((msg: string) => process.emitWarning(msg));
  const forced = env["TOPN_CREDENTIAL_STORE"] || undefined;
  if (forced !== undefined && !(CHOICES as readonly string[]).includes(forced)) {
    throw new UsageError(
      `TOPN_CREDENTIAL_STORE is "${forced}"`,
      `set TOPN_CREDENTIAL_STORE to ${CHOICES.join(" or ")}, or unset it to use the keychain when one answers`,
    );
  }
  const file = new FileCredentialStore(opts.home, warn);
  if (forced === "file") return file;

  // The keychain is reached through this process's own environment (D-Bus address), not opts.env.
  const timeoutMs = opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const probe = await probeKeychain(timeoutMs);
  if (probe.ok) return new KeychainCredentialStore(await loadKeyring(), file, warn);
  if (forced === "keychain") {
    throw new UsageError(
      `TOPN_CREDENTIAL_STORE=keychain, but no OS keychain answered: ${probe.reason}`,
      "start and unlock a Secret Service (e.g. gnome-keyring) in this session, or set TOPN_CREDENTIAL_STORE=file",
    );
  }
  if (!warnedFallback) {
    warnedFallback = true;
    warn(
      `no OS keychain answered (${probe.reason}); keeping sessions in files only you can read under ${file.dir}` +
        " (set TOPN_CREDENTIAL_STORE=file to skip this check)",
    );
  }
  return file;
}

/** Where an account's session is kept, for the person: the keychain's entry, or the fallback file's path. */
export function placeOf(store: CredentialStore, platform: string, account: string): string {
  return store instanceof FileCredentialStore
    ? store.pathOf(platform, account)
    : `the OS keychain (${serviceName(platform)})`;
}
