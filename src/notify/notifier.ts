// Delivers alerts: a POST of the JSON to a URL, and/or a command that gets the JSON on stdin. Sending never
// blocks the caller (the runner goes on publishing) and never fails it: a failed delivery is one line in the
// log, naming the host or "the notify command" but never the URL's path or the command line, which may hold a
// webhook's secret.

import { spawn } from "node:child_process";
import { firstLine, UsageError } from "../errors.js";
import { redactValue } from "../redact.js";
import { type Alert, alertKey } from "./alert.js";

export interface NotifyTargets {
  url: string | null;
  cmd: string | null;
}

export interface NotifierOptions extends NotifyTargets {
  /** One line per failed delivery. */
  log(line: string): void;
  /** Per delivery (default 10 s for the POST, 30 s for the command). */
  timeoutMs?: number;
  /** The same alert (event, account, kind) again within this window is not sent (default 1 h). */
  quietMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class Notifier {
  private chain: Promise<void> = Promise.resolve();
  private readonly sent = new Map<string, number>();

  constructor(private readonly opts: NotifierOptions) {}

  get enabled(): boolean {
    return this.opts.url !== null || this.opts.cmd !== null;
  }

  /** Queues the alert and returns at once; alerts go out one after another, in order. */
  send(alert: Alert | null): void {
    if (!alert || !this.enabled) return;
    const key = alertKey(alert);
    const now = performance.now();
    const last = this.sent.get(key);
    if (last !== undefined && now - last < (this.opts.quietMs ?? 3_600_000)) return;
    this.sent.set(key, now);
    const body = JSON.stringify(redactValue(alert));
    this.chain = this.chain.then(() => this.deliver(body));
  }

  /** Waits for queued alerts, at most `timeoutMs` (a process about to exit still gets its alerts out). */
  async flush(timeoutMs = 15_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.chain,
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private async deliver(body: string): Promise<void> {
    const { url, cmd } = this.opts;
    await Promise.all([
      url === null ? null : this.post(url, body).catch((e: unknown) => this.opts.log(postFailed(url, e))),
      cmd === null
        ? null
        : this.run(cmd, body).catch((e: unknown) =>
            this.opts.log(`topn: notify: the notify command failed: ${firstLine(e)}`),
          ),
    ]);
  }

  private async post(url: string, body: string): Promise<void> {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "topn" },
      body,
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
    });
    // Drained so the connection is released; what the hook answers is not ours to show.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`it answered HTTP ${res.status}`);
  }

  private run(cmd: string, body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, {
        shell: true,
        stdio: ["pipe", "ignore", "pipe"],
        env: this.opts.env ?? process.env,
        timeout: this.opts.timeoutMs ?? 30_000,
      });
      let stderr = "";
      child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        if (stderr.length < 2000) stderr += d;
      });
      child.on("error", reject);
      child.on("close", (code, signal) => {
        if (code === 0) resolve();
        else {
          const why = signal ? `was stopped by ${signal}` : `exited with ${code}`;
          reject(new Error(`it ${why}${stderr.trim() ? `: ${firstLine(stderr.trim())}` : ""}`));
        }
      });
      // A command that does not read its stdin closes the pipe early: that is its business.
      child.stdin?.on("error", () => {});
      child.stdin?.end(body);
    });
  }
}

function postFailed(url: string, e: unknown): string {
  let host = "the notify URL";
  try {
    host = new URL(url).host;
  } catch {
    // Checked when the options were read; kept vague if not.
  }
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${firstLine(e.cause)}` : "";
  return `topn: notify: the POST to ${host} failed: ${firstLine(e)}${cause}`;
}

/** Flags win over config.yaml / TOPN_NOTIFY / TOPN_NOTIFY_CMD. A URL that is not http(s) is a usage error. */
export function notifyTargets(
  config: { notify: string | null; notifyCmd: string | null },
  flags: { notify?: string | undefined; notifyCmd?: string | undefined },
): NotifyTargets {
  const url = flags.notify ?? config.notify;
  const cmd = flags.notifyCmd ?? config.notifyCmd;
  if (url !== null) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = u.protocol === "http:" || u.protocol === "https:";
    } catch {
      ok = false;
    }
    if (!ok)
      throw new UsageError(
        `the notify URL is not an http(s) URL (${flags.notify !== undefined ? "--notify" : "config notify / TOPN_NOTIFY"})`,
        "give the webhook's full address, e.g. https://ntfy.sh/my-topic",
      );
  }
  return { url, cmd: cmd === null || cmd.trim() === "" ? null : cmd };
}
