import { UsageError } from "../errors.js";
import type { Store } from "../store/db.js";

/** The account a command acts for: the one named, or the only one there is. */
export function chooseAccount(store: Store, platform: string, requested: string | undefined): string {
  const known = store.accounts.list(platform).map((a) => a.name);
  if (requested !== undefined) {
    if (known.includes(requested)) return requested;
    throw new UsageError(
      `no ${platform} account named "${requested}"${known.length ? ` (known: ${known.join(", ")})` : ""}`,
      `log it in first: topn login ${platform} --account ${requested}`,
    );
  }
  if (known.length === 1) return known[0]!;
  if (known.length === 0)
    throw new UsageError(`no ${platform} account yet`, `log in first: topn login ${platform}`);
  throw new UsageError(`several ${platform} accounts (${known.join(", ")})`, "pick one with --account NAME");
}
