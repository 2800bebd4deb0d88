import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "./errors.js";
import type { PlatformModule } from "./platform.js";

// Platforms load lazily: `topn tasks` must not pay for a browser driver it never uses.
const BUILTIN: Record<string, () => Promise<PlatformModule>> = {
  zhihu: async () => (await import("./zhihu/module.js")).zhihu,
};

/**
 * TOPN_EXTRA_PLATFORM=/path/to/module.js adds the platform that module exports as default. The test
 * suite uses it to run real topn processes against a platform written inside the tests.
 */
export async function loadPlatform(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PlatformModule> {
  const builtin = BUILTIN[name];
  if (builtin) return builtin();
  const extra = env["TOPN_EXTRA_PLATFORM"];
  if (extra) {
    const path = isAbsolute(extra) ? extra : resolve(extra);
    const mod = (await import(pathToFileURL(path).href)) as { default: PlatformModule };
    if (mod.default.name === name) return mod.default;
  }
  throw new UsageError(`unknown platform "${name}"`, `topn knows: ${Object.keys(BUILTIN).join(", ")}`);
}
