import { UsageError } from "../../errors.js";
import type { Store } from "../types.js";

/** Placeholder until the PostgreSQL store lands. */
export async function openPostgresStore(_url: string): Promise<Store> {
  throw new UsageError("PostgreSQL is not supported yet", "unset TOPN_DATABASE_URL");
}
