import type { Context } from "../context.js";
import { UsageError } from "../errors.js";

export async function login(_ctx: Context, ..._args: unknown[]): Promise<number> {
  throw new UsageError("not built yet", "see the issue tracker");
}
