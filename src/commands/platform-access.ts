// How commands reach a platform: by name through the registry, never by importing its code, so a second
// platform plugs in without touching them.

import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import type { Platform, PlatformModule, SessionManager } from "../platform.js";
import { loadPlatform } from "../platforms.js";

export interface OpenPlatform {
  module: PlatformModule;
  platform: Platform;
}

/** A live platform instance; the caller closes it (`platform.close()`). */
export async function openPlatform(ctx: Context, name: string): Promise<OpenPlatform> {
  const module = await loadPlatform(name, ctx.env);
  const platform = await module.create({ home: ctx.home(), env: ctx.env, warn: ctx.warn });
  return { module, platform };
}

/** The platform's session manager, or a usage error naming the command for a platform without logins. */
export function sessionsOf(open: OpenPlatform, command: string): SessionManager {
  const sessions = open.platform.sessions;
  if (!sessions)
    throw new UsageError(
      `${open.module.label} has no accounts to ${command === "login" ? "log in" : "log out"}`,
      "topn login knows the platforms whose accounts sign in, e.g. zhihu",
    );
  return sessions;
}

/**
 * Platform instances opened on demand and closed together: a command that touches several accounts (a live
 * check of every session) shares one browser per platform.
 */
export class PlatformCache {
  private readonly open = new Map<string, Promise<OpenPlatform | null>>();

  constructor(private readonly ctx: Context) {}

  /** null for a platform this topn cannot load (an account of a plugin that is gone). */
  get(name: string): Promise<OpenPlatform | null> {
    let p = this.open.get(name);
    if (!p) {
      p = openPlatform(this.ctx, name).catch((e: unknown) => {
        if (e instanceof UsageError) return null;
        throw e;
      });
      this.open.set(name, p);
    }
    return p;
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map(async (p) => (await p)?.platform.close()));
  }
}
