// Real `topn run` processes the soak starts, kills (-9), freezes (SIGSTOP/SIGCONT) and restarts. Each keeps
// a log of its JSON events; what the soak did to it is remembered, so an exit nobody caused is a finding.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { processTree } from "../../test/helpers/proc.js";
import { BIN, ROOT } from "../../test/helpers/run.js";

export interface RunnerExit {
  runner: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The soak killed or stopped it; anything else is an exit of its own. */
  caused: "kill" | "term" | null;
}

/** Counts of the runners' events, by event (and by kind for retries and holds). */
export type EventCounts = Record<string, number>;

export class RunnerSlot {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stoppedNow = false;
  /** Processes stopped by a freeze (topn and its browser), to wake even if topn is killed meanwhile. */
  private frozen: number[] = [];
  private cause: RunnerExit["caused"] = null;
  private incarnation = 0;
  private progressed = false;
  /** Stack traces seen on stderr ("\n    at …"): topn must never print one. */
  readonly stacks: string[] = [];

  constructor(
    readonly name: string,
    private readonly opts: {
      env: NodeJS.ProcessEnv;
      concurrency: number;
      logDir: string;
      events: EventCounts;
      exits: RunnerExit[];
    },
  ) {}

  get alive(): boolean {
    return this.child !== null;
  }

  get stopped(): boolean {
    return this.stoppedNow;
  }

  /** This incarnation has got as far as publishing (its browser is up and a job is past its claim). */
  get working(): boolean {
    return this.child !== null && this.progressed;
  }

  start(): void {
    if (this.child) return;
    this.incarnation++;
    this.cause = null;
    this.progressed = false;
    const base = join(this.opts.logDir, `runner-${this.name}-${this.incarnation}`);
    const child = spawn(
      process.execPath,
      [BIN, "run", "--concurrency", String(this.opts.concurrency), "--json"],
      {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: "1", ...this.opts.env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.child = child;
    const out: WriteStream = createWriteStream(`${base}.out`);
    const err: WriteStream = createWriteStream(`${base}.err`);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      // Arrival times, to line a runner's events up with the simulator's request log.
      out.write(`${Date.now()} ${line}\n`);
      this.count(line);
    });
    let errText = "";
    child.stderr!.on("data", (d: Buffer) => {
      err.write(d);
      errText += d.toString();
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.child = null;
        this.stoppedNow = false;
        out.end();
        err.end();
        const stack = /\n\s+at .+/.exec(errText);
        if (stack) this.stacks.push(`${this.name}#${this.incarnation}: ${errText.slice(0, 400)}`);
        this.opts.exits.push({
          runner: `${this.name}#${this.incarnation}`,
          code,
          signal,
          caused: this.cause,
        });
        resolve();
      });
    });
  }

  private count(line: string): void {
    let e: { event?: string; kind?: string };
    try {
      e = JSON.parse(line) as { event?: string; kind?: string };
    } catch {
      return;
    }
    if (!e.event) return;
    if (e.event === "progress") this.progressed = true;
    const key = e.kind && (e.event === "retrying" || e.event === "held") ? `${e.event}:${e.kind}` : e.event;
    this.opts.events[key] = (this.opts.events[key] ?? 0) + 1;
  }

  /** kill -9, wherever it is (a stopped process dies too; a frozen browser is woken so it can follow). */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.cause = "kill";
    this.child.kill("SIGKILL");
    await this.exited;
    this.thaw();
  }

  /** kill -STOP topn alone (Ctrl-Z of node, a long GC), -CONT after `ms` unless it was killed meanwhile. */
  async pause(ms: number): Promise<void> {
    const child = this.child;
    if (!child || this.stoppedNow) return;
    child.kill("SIGSTOP");
    this.stoppedNow = true;
    await new Promise((r) => setTimeout(r, ms));
    if (this.child === child) {
      child.kill("SIGCONT");
      this.stoppedNow = false;
    }
  }

  /**
   * kill -STOP topn and every process under it (its Chromium): a laptop lid, a frozen VM. A call the browser
   * was about to send goes out only when it wakes.
   */
  async freeze(ms: number): Promise<void> {
    const child = this.child;
    if (!child?.pid || this.stoppedNow) return;
    this.frozen = processTree(child.pid);
    for (const pid of this.frozen) signal(pid, "SIGSTOP");
    this.stoppedNow = true;
    await new Promise((r) => setTimeout(r, ms));
    if (this.child === child) this.stoppedNow = false;
    this.thaw();
  }

  private thaw(): void {
    // The browser first: a topn that wakes talks to it at once.
    for (const pid of [...this.frozen].reverse()) signal(pid, "SIGCONT");
    this.frozen = [];
  }

  /** The graceful stop a person or a service manager gives: SIGTERM, then wait for the exit. */
  async terminate(): Promise<void> {
    if (!this.child) return;
    this.cause = "term";
    this.thaw();
    this.child.kill("SIGCONT");
    this.child.kill("SIGTERM");
    await this.exited;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}
