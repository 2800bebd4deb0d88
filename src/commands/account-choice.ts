import { UsageError } from "../errors.js";
import type { Store } from "../store/types.js";

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
