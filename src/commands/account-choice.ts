import { UsageError } from "../errors.js";
import type { Account, Store } from "../store/types.js";

/** The account a command acts for: the one named, else the default one, else the only one there is. */
export async function chooseAccount(
  store: Store,
  platform: string,
  requested: string | undefined,
): Promise<string> {
  const accounts = await store.accounts.list(platform);
  const known = accounts.map((a) => a.name);
  if (requested !== undefined) {
    if (known.includes(requested)) return requested;
    throw new UsageError(
      `no ${platform} account named "${requested}"${known.length ? ` (known: ${known.join(", ")})` : ""}`,
      `log it in first: topn login ${platform} --account ${requested}`,
    );
  }
  const chosen = accounts.find((a) => a.isDefault) ?? (accounts.length === 1 ? accounts[0] : undefined);
  if (chosen) return chosen.name;
  if (known.length === 0)
    throw new UsageError(`no ${platform} account yet`, `log in first: topn login ${platform}`);
  throw new UsageError(
    `several ${platform} accounts (${known.join(", ")})`,
    "pick one with --account NAME, or set a default: topn accounts --default NAME",
  );
}

/**
 * The account a person names in `accounts --resume/--set/--default`: NAME, or PLATFORM:NAME when one name is
 * used on several platforms.
 */
export async function findAccount(store: Store, ref: string): Promise<Account> {
  const all = await store.accounts.list();
  let found = all.filter((a) => a.name === ref);
  const colon = ref.indexOf(":");
  if (found.length === 0 && colon > 0) {
    const [platform, name] = [ref.slice(0, colon), ref.slice(colon + 1)];
    found = all.filter((a) => a.platform === platform && a.name === name);
  }
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new UsageError(
      `"${ref}" is an account on several platforms (${found.map((a) => a.platform).join(", ")})`,
      `name one as PLATFORM:NAME, e.g. ${found[0]!.platform}:${ref}`,
    );
  }
  const known = all.map((a) => a.name);
  throw new UsageError(
    `no account named "${ref}"${known.length ? ` (known: ${[...new Set(known)].join(", ")})` : ""}`,
    "list them with: topn accounts",
  );
}
