// The Zhihu simulator in a process of its own (`npm run sim`), driven over its HTTP control surface: the soak's
// own pauses (a blocked SQLite call, a slow check) never slow the server the runners talk to.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { FaultSpec } from "../../test/sim/faults.js";
import type { ArticleView, RequestRecord } from "../../test/sim/server.js";
import { ROOT } from "../../test/helpers/run.js";

export interface SimState {
  articles: ArticleView[];
  duplicateTitles: { account: string; title: string; ids: string[] }[];
  maxInFlight: Record<string, number>;
  lastSeq: number;
  /** What is still armed. */
  faults: FaultSpec;
}

export class SimProcess {
  private constructor(
    private readonly child: ChildProcess,
    /** TOPN_ZHIHU_RESOLVE for topn. */
    readonly resolve: string,
    private readonly control: string,
    /** The first session of each account, as a Cookie header (never printed). */
    readonly cookies: Map<string, string>,
  ) {}

  static async start(accounts: readonly string[]): Promise<SimProcess> {
    const args = ["--import", "tsx", "test/sim/main.ts", "--port", "0", "--control-port", "0"];
    for (const a of accounts) args.push("--account", a);
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const first = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once("line", (line) => {
        lines.close();
        resolve(line);
      });
      child.once("exit", (code) => reject(new Error(`the simulator exited (${code}) before it started`)));
    });
    const info = JSON.parse(first) as {
      resolve: string;
      control: string;
      accounts: { name: string; cookie: string }[];
    };
    return new SimProcess(
      child,
      info.resolve,
      info.control,
      new Map(info.accounts.map((a) => [a.name, a.cookie])),
    );
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.control}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
    });
    const data = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`simulator ${method} ${path}: ${data.error ?? res.status}`);
    return data;
  }

  setFaults(spec: FaultSpec): Promise<unknown> {
    return this.call("PUT", "/faults", spec);
  }

  /** Ends every session of the account (its calls get 401 until it logs in again). */
  revoke(account: string): Promise<unknown> {
    return this.call("POST", `/accounts/${encodeURIComponent(account)}/revoke`, {});
  }

  /** A fresh session of the account, as the cookie header a person would export from their browser. */
  async newSession(account: string): Promise<string> {
    return (await this.call<{ cookieHeader: string }>("POST", "/accounts", { name: account })).cookieHeader;
  }

  state(): Promise<SimState> {
    return this.call("GET", "/state");
  }

  requests(): Promise<RequestRecord[]> {
    return this.call("GET", "/requests");
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
  }
}
