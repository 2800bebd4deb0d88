// What a credential store keeps for one account, and how it is written down: the same JSON text in the
// keychain and in the fallback file, checked on the way back in.
import type { SessionCookie } from "../zhihu/cookies.js";

export interface StoredSession {
  cookies: SessionCookie[];
  /** ISO 8601 time the session was saved (login, cookie import, refresh). */
  savedAt: string;
}

export interface CredentialStore {
  readonly kind: "keychain" | "file";
  get(platform: string, account: string): Promise<StoredSession | null>;
  set(platform: string, account: string, session: StoredSession): Promise<void>;
  /** true if there was a session to delete. */
  delete(platform: string, account: string): Promise<boolean>;
}

/** Keychain service name: entries show up as "topn:zhihu" in Keychain Access, Seahorse, Credential Manager. */
export const serviceName = (platform: string): string => `topn:${platform}`;

/** Compact on purpose: Windows Credential Manager caps a secret at 2560 bytes. */
export function encodeSession(s: StoredSession): string {
  return JSON.stringify({ savedAt: s.savedAt, cookies: s.cookies });
}

/** null when the text is not a session this code wrote (corrupt, or edited by hand). */
export function decodeSession(text: string): StoredSession | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  const d = data as { savedAt?: unknown; cookies?: unknown } | null;
  if (typeof d?.savedAt !== "string" || !Array.isArray(d.cookies)) return null;
  const ok = d.cookies.every(
    (c: Partial<Record<keyof SessionCookie, unknown>> | null) =>
      typeof c?.name === "string" &&
      typeof c.value === "string" &&
      typeof c.domain === "string" &&
      typeof c.path === "string",
  );
  return ok ? { savedAt: d.savedAt, cookies: d.cookies as SessionCookie[] } : null;
}

export function checkKey(platform: string, account: string): void {
  if (platform === "" || account === "")
    throw new Error("credential store: platform and account must not be empty");
}
