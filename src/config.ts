// TOPN_HOME/config.yaml: the settings a person sets once for this machine. Environment variables override
// it (for cron lines and CI); command-line flags override both. A mistake in it is a usage error naming the
// file, the key and the fix — never silently a default.
//
//   write_back: true        # record `zhihu: URL` in a file's front matter after its first publish
//   gap: 60s                # pacing: least time between two publishes of one account (0: none)
//   cap: 10                 # pacing: most publishes of one account in any 24 hours (0: no cap)
//   notify: https://…       # POST a JSON summary when a task fails for good, an account pauses, …
//   notify_cmd: mail -s topn me@example.com   # or run a command with that JSON on stdin

import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { UsageError } from "./errors.js";
import type { PacingDefaults } from "./store/types.js";
import { parseDuration } from "./ui/duration.js";

export interface Config {
  writeBack: boolean;
  pacing: PacingDefaults;
  notify: string | null;
  notifyCmd: string | null;
}

export const DEFAULT_PACING: PacingDefaults = { gapMs: 60_000, dailyCap: 10 };
const KEYS = ["write_back", "gap", "cap", "notify", "notify_cmd"];

export const configPath = (home: string): string => join(home, "config.yaml");

export function loadConfig(home: string, env: NodeJS.ProcessEnv): Config {
  const path = configPath(home);
  const file = readYaml(path);
  const where = (key: string) => `${path}: ${key}`;
  const config: Config = {
    writeBack: bool(env["TOPN_WRITE_BACK"] ?? file.write_back, "TOPN_WRITE_BACK / write_back") ?? true,
    pacing: {
      gapMs: duration(env["TOPN_GAP"] ?? file.gap, where("gap")) ?? DEFAULT_PACING.gapMs,
      dailyCap: count(env["TOPN_CAP"] ?? file.cap, where("cap")) ?? DEFAULT_PACING.dailyCap,
    },
    notify: text(env["TOPN_NOTIFY"] ?? file.notify, where("notify")),
    notifyCmd: text(env["TOPN_NOTIFY_CMD"] ?? file.notify_cmd, where("notify_cmd")),
  };
  return config;
}

function readYaml(path: string): Record<string, unknown> {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`, "fix its permissions or remove it");
  }
  let data: unknown;
  try {
    data = yaml.load(source);
  } catch (e) {
    const line = (e as { mark?: { line?: number } }).mark?.line;
    throw new UsageError(
      `${path}${line === undefined ? "" : `:${line + 1}`}: not valid YAML: ${(e as { reason?: string }).reason ?? (e as Error).message}`,
      "fix the file (key: value, one per line)",
    );
  }
  if (data === undefined || data === null) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new UsageError(`${path}: must be key: value pairs`, `known keys: ${KEYS.join(", ")}`);
  }
  const out = data as Record<string, unknown>;
  for (const key of Object.keys(out)) {
    if (!KEYS.includes(key))
      throw new UsageError(`${path}: unknown key "${key}"`, `known keys: ${KEYS.join(", ")}`);
  }
  return out;
}

function bool(v: unknown, where: string): boolean | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "boolean") return v;
  const t = String(v).trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["0", "false", "no", "off"].includes(t)) return false;
  throw new UsageError(`${where} must be true or false, not "${String(v)}"`, "write true or false");
}

function duration(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number") return v * 1000;
  return parseDuration(String(v), where);
}

function count(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${where} must be a whole number ≥ 0, not "${String(v)}"`, "0 means no cap");
  return n;
}

function text(v: unknown, where: string): string | null {
  if (v === undefined || v === null || v === "") return null;
  if (typeof v !== "string") throw new UsageError(`${where} must be text`, "quote it");
  return v;
}
