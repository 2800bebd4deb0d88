// topn login zhihu [--account NAME] [--qr | --cookies FILE|-] [--timeout S]
//
// Exit codes: 0 logged in; 2 bad usage or input, including cookies Zhihu does not accept (nothing saved);
// 1 the login did not happen (window closed, timed out, Zhihu refused or could not be reached; nothing
// saved); 130 interrupted. A cancelled login is not a usage error: the command was right, the person
// (or the clock) stopped it.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Context } from "../context.js";
import { EXIT, LoginError, problemLine, UsageError } from "../errors.js";
import { expiryPhrase } from "../notify/alert.js";
import { machineName } from "../owner.js";
import type { LoginMethod, LoginOutcome } from "../platform.js";
import { expiresSoon } from "../runner/health.js";
import { abortOnSignals } from "../runner/signals.js";
import { formatTime } from "../ui/format.js";
import { openPlatform, sessionsOf } from "./platform-access.js";

export interface LoginOptions {
  account?: string;
  qr?: boolean;
  cookies?: string;
  /** Seconds. */
  timeout?: number;
}

/** A cookie export is a few KB; anything far larger is the wrong file. */
const MAX_EXPORT_BYTES = 1 << 20;

export async function login(ctx: Context, platformName: string, opts: LoginOptions): Promise<number> {
  const account = checkAccountName(opts.account ?? "default");
  if (opts.qr && opts.cookies !== undefined) {
    throw new UsageError("--qr and --cookies cannot be used together", "pick one way to log in");
  }
  // Opened before the person spends a minute signing in: a broken data folder or keychain is said now.
  const store = await ctx.store();
  const open = await openPlatform(ctx, platformName);
  try {
    const platform = open.module.name;
    const sessions = sessionsOf(open, "login");
    const place = await sessions.place(account);
    const method: LoginMethod =
      opts.cookies !== undefined
        ? { kind: "cookies", text: await readExport(ctx, opts.cookies) }
        : opts.qr
          ? { kind: "qr" }
          : { kind: "browser" };

    const interrupt = abortOnSignals();
    let outcome: LoginOutcome;
    try {
      outcome = await sessions.login({
        account,
        method,
        print: (line) => ctx.out(line),
        signal: interrupt.signal,
        ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout * 1000 }),
      });
    } catch (e) {
      if (!(e instanceof LoginError)) throw e;
      ctx.err(problemLine(e));
      return e.kind === "interrupted" ? EXIT.interrupted : EXIT.taskFailed;
    } finally {
      interrupt.dispose();
    }

    const { user } = outcome;
    const previous = await store.accounts.get(platform, account);
    // The platform saved the session before answering: the row never points at a session that was not saved.
    await store.accounts.login({
      platform,
      name: account,
      displayName: user.name,
      uid: user.uid,
      urlToken: user.urlToken,
      sessionExpiresAt: outcome.expiresAt,
    });
    await store.accounts.setHost(machineName(ctx.env), platform, account, true);
    if (previous?.uid && user.uid && previous.uid !== user.uid) {
      ctx.warn(
        `account "${account}" was ${open.module.label} user ${previous.displayName ?? previous.uid}; it is now ${user.name}`,
      );
    }
    ctx.out(`logged in as ${user.name} (account ${account})`);
    const readable = place.store === "file" ? " (readable only by you)" : "";
    ctx.out(`session saved in ${place.where}${readable}`);
    if (previous?.pause) {
      ctx.out(
        `account ${account} resumed; it was paused since ${formatTime(previous.pause.at)} — ${previous.pause.reason}`,
      );
    }
    const now = await store.tasks.now();
    if (outcome.expiresAt !== null && expiresSoon(outcome.expiresAt, now)) {
      ctx.warn(
        `this session ${expiryPhrase(outcome.expiresAt, now)} by its cookies; log in again before then`,
      );
    }
    return 0;
  } finally {
    await open.platform.close();
  }
}

function checkAccountName(name: string): string {
  // Shown in tables, used in file names and keychain entries: printable, no spaces, not an option.
  if (!/^[^\s\p{C}-][^\s\p{C}]{0,63}$/u.test(name)) {
    throw new UsageError(
      `account name "${name}" is not usable`,
      "use 1–64 printable characters without spaces, not starting with '-', e.g. --account work",
    );
  }
  return name;
}

async function readExport(ctx: Context, file: string): Promise<string> {
  if (file === "-") {
    if (process.stdin.isTTY)
      ctx.err("Paste the cookies (JSON, cookies.txt or a Cookie header), then press Ctrl-D:");
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += b.length;
      if (size > MAX_EXPORT_BYTES) throw tooLarge("stdin");
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString("utf8");
  }
  const path = resolve(ctx.cwd, file);
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (code ?? "unreadable");
    throw new UsageError(
      `cannot read the cookie export ${file}: ${why}`,
      "give the file your cookie-export tool saved, or - for stdin",
    );
  }
  if (data.length > MAX_EXPORT_BYTES) throw tooLarge(file);
  return data.toString("utf8");
}

const tooLarge = (what: string) =>
  new UsageError(
    `the cookie export in ${what} is larger than 1 MB`,
    "export only the cookies of www.zhihu.com (JSON or cookies.txt), or a Cookie header",
  );
