import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Simulator } from "../sim/index.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = join(ROOT, "bin/topn");
export const FAKE_PLATFORM = join(ROOT, "test/fixtures/fake-platform.ts");

/** A fresh folder removed after the test (also on failure). */
export function tempDir(t: { after(fn: () => void): void }, prefix = "topn-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment that points a topn process at the simulator, with its home and sessions in `home`. */
export function simEnv(sim: Simulator, home: string): NodeJS.ProcessEnv {
  return {
    TOPN_HOME: home,
    TOPN_ZHIHU_RESOLVE: sim.resolveEnv,
    TOPN_HEADLESS: "1",
    // Never the real keychain.
    TOPN_CREDENTIAL_STORE: "file",
    // No pacing unless a test asks for it.
    TOPN_GAP: "0",
    TOPN_CAP: "0",
  };
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  /** Load TypeScript test modules (the fake platform) into the real topn process. */
  tsx?: boolean;
}

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

/** Start the real compiled topn in its own process. */
export function spawnTopn(args: string[], opts: SpawnOptions = {}): ChildProcess {
  // Resolved here, not by name: the child may run in a folder that has no node_modules.
  const nodeArgs = opts.tsx ? ["--import", import.meta.resolve("tsx"), BIN, ...args] : [BIN, ...args];
  return spawn(process.execPath, nodeArgs, {
    cwd: opts.cwd ?? ROOT,
    env: childEnv(opts.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

export function collect(child: ChildProcess, input?: string): Promise<Result> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
  return new Promise((res, rej) => {
    child.on("error", rej);
    child.on("close", (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

export function topn(args: string[], opts: SpawnOptions = {}): Promise<Result> {
  return collect(spawnTopn(args, opts), opts.input);
}

/** Poll until `check` returns a truthy value, or fail after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 25 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves when the child has printed something matching `re` on stdout (or stderr). */
export function waitForOutput(
  child: ChildProcess,
  re: RegExp,
  { timeoutMs = 15_000, stream = "stdout" as "stdout" | "stderr" } = {},
): Promise<string> {
  return new Promise((res, rej) => {
    let seen = "";
    const timer = setTimeout(() => rej(new Error(`timed out waiting for ${re} in:\n${seen}`)), timeoutMs);
    const onData = (d: Buffer | string) => {
      seen += d.toString();
      const m = re.exec(seen);
      if (m) {
        clearTimeout(timer);
        child[stream]?.off("data", onData);
        res(m[0]);
      }
    };
    child[stream]?.on("data", onData);
  });
}
