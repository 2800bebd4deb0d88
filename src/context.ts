import type { Store } from "./store/types.js";
import { resolveHome } from "./store/home.js";

/** What every command gets: streams, environment and lazily opened data folder and store. */
export interface Context {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly debug: boolean;
  out(line: string): void;
  err(line: string): void;
  /** One-line notice on stderr, each distinct text once per process. */
  warn(message: string): void;
  home(): string;
  /** The shared queue in PostgreSQL (--database-url, else TOPN_DATABASE_URL); unset: SQLite in home(). */
  databaseUrl: string | undefined;
  store(): Promise<Store>;
  close(): Promise<void>;
}

export function createContext(opts: {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  debug?: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}): Context {
  const env = opts.env ?? process.env;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  let home: string | undefined;
  let store: Promise<Store> | undefined;
  const warned = new Set<string>();
  const ctx: Context = {
    env,
    cwd: opts.cwd ?? process.cwd(),
    debug: opts.debug ?? false,
    out: (line) => void stdout.write(`${line}\n`),
    err: (line) => void stderr.write(`${line}\n`),
    warn(message) {
      if (warned.has(message)) return;
      warned.add(message);
      stderr.write(`topn: warning: ${message}\n`);
    },
    home: () => {
      home ??= resolveHome(env);
      return home;
    },
    databaseUrl: env["TOPN_DATABASE_URL"] || undefined,
    store() {
      store ??= import("./store/open.js").then(({ openStore }) =>
        openStore({
          home: ctx.home(),
          databaseUrl: ctx.databaseUrl,
          busyTimeoutMs: env["TOPN_BUSY_TIMEOUT_MS"] ? Number(env["TOPN_BUSY_TIMEOUT_MS"]) : undefined,
        }),
      );
      return store;
    },
    async close() {
      const pending = store;
      store = undefined;
      if (pending) await (await pending.catch(() => undefined))?.close();
    },
  };
  return ctx;
}
