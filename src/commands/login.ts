// topn login zhihu [--account NAME] [--qr | --cookies FILE|-] [--timeout S]
//
// Exit codes: 0 logged in; 2 bad usage or input, including cookies Zhihu does not accept (nothing saved);
// 1 the login did not happen (window closed, timed out, Zhihu refused or could not be reached; nothing
// saved); 130 interrupted. A cancelled login is not a usage error: the command was right, the person
// (or the clock) stopped it.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Context } from "../context.js";
import { FileCredentialStore } from "../credentials/file.js";
import { type CredentialStore, openCredentialStore } from "../credentials/index.js";
import { EXIT, problemLine, UsageError } from "../errors.js";
import { machineName } from "../owner.js";
import { abortOnSignals } from "../runner/signals.js";
import type { LoginResult } from "../zhihu/login.js";

export interface LoginOptions {
  account?: string;
  qr?: boolean;
  cookies?: string;
  /** Seconds. */
  timeout?: number;
}

const PLATFORM = "zhihu";
/** A cookie export is a few KB; anything far larger is the wrong file. */
const MAX_EXPORT_BYTES = 1 << 20;

export async function login(ctx: Context, platform: string, opts: LoginOptions): Promise<number> {
  requireZhihu(platform, "login");
  const account = checkAccountName(opts.account ?? "default");
  if (opts.qr && opts.cookies !== undefined) {
    throw new UsageError("--qr and --cookies cannot be used together", "pick one way to log in");
  }
  // Opened before the person spends a minute signing in: a broken data folder or keychain is said now.
  const store = await ctx.store();
  const creds = await openCredentials(ctx);
  const text = opts.cookies === undefined ? undefined : await readExport(ctx, opts.cookies);

  const flows = await import("../zhihu/login.js");
  const interrupt = abortOnSignals();
  const base = {
    env: ctx.env,
    print: (line: string) => ctx.out(line),
    signal: interrupt.signal,
    ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout * 1000 }),
  };
  let result: LoginResult;
  try {
    if (text !== undefined)
      result = await (await import("../zhihu/login-cookies.js")).importCookies({ ...base, text });
    else if (opts.qr) result = await (await import("../zhihu/login-qr.js")).qrLogin(base);
    else result = await flows.browserLogin(base);
  } catch (e) {
    if (!(e instanceof flows.LoginError)) throw e;
    ctx.err(problemLine(e));
    return e.kind === "interrupted" ? EXIT.interrupted : EXIT.taskFailed;
  } finally {
    interrupt.dispose();
  }

  const { me, cookies } = result;
  const previous = await store.accounts.get(PLATFORM, account);
  // The secret first: an account row must never point at a session that was not saved.
  await creds.set(PLATFORM, account, { cookies, savedAt: new Date().toISOString() });
  await store.accounts.login({
    platform: PLATFORM,
    name: account,
    displayName: me.name,
    uid: me.uid || null,
    urlToken: me.urlToken || null,
    sessionExpiresAt: null,
  });
  await store.accounts.setHost(machineName(ctx.env), PLATFORM, account, true);
  if (previous?.uid && me.uid && previous.uid !== me.uid) {
    ctx.warn(
      `account "${account}" was Zhihu user ${previous.displayName ?? previous.uid}; it is now ${me.name}`,
    );
  }
  ctx.out(`logged in as ${me.name} (account ${account})`);
  const readable = creds.kind === "file" ? " (readable only by you)" : "";
  ctx.out(`session saved in ${sessionLocation(creds, account)}${readable}`);
  return 0;
}

export function requireZhihu(platform: string, command: string): void {
  if (platform !== PLATFORM) {
    throw new UsageError(`unknown platform "${platform}"`, `topn ${command} knows: ${PLATFORM}`);
  }
}

export function openCredentials(ctx: Context): Promise<CredentialStore> {
  return openCredentialStore({ home: ctx.home(), env: ctx.env, warn: (m) => ctx.warn(m) });
}

/** Where an account's session is kept: "the OS keychain (topn:zhihu)", or the file's path. */
export function sessionLocation(creds: CredentialStore, account: string): string {
  return creds instanceof FileCredentialStore
    ? creds.pathOf(PLATFORM, account)
    : `the OS keychain (topn:${PLATFORM})`;
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
