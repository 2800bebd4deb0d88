import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import envPaths from "env-paths";
import { UsageError } from "../errors.js";

const WHY: Record<string, string> = {
  ENOTDIR: "ENOTDIR (part of the path is a file)",
  EACCES: "EACCES (permission denied)",
  EROFS: "EROFS (read-only file system)",
  ENOSPC: "ENOSPC (disk full)",
};

/** The data folder: TOPN_HOME, else the platform's user data dir. Created if missing; must be a writable folder. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env["TOPN_HOME"];
  const home = fromEnv && fromEnv.length > 0 ? fromEnv : envPaths("topn", { suffix: "" }).data;
  const label = fromEnv ? `TOPN_HOME (${home})` : `topn's data folder ${home}`;
  if (existsSync(home) && !statSync(home).isDirectory()) {
    throw new UsageError(`${label} is not a folder`, "set TOPN_HOME to a folder you can write");
  }
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    throw new UsageError(
      `${label} cannot be created: ${WHY[code] ?? code}`,
      "set TOPN_HOME to a folder you can write",
    );
  }
  try {
    accessSync(home, constants.W_OK | constants.R_OK | constants.X_OK);
  } catch {
    throw new UsageError(
      `${label} is not writable`,
      "fix its permissions or set TOPN_HOME to a folder you can write",
    );
  }
  return home;
}

export function databasePath(home: string): string {
  return join(home, "topn.db");
}

export function artifactsDir(home: string, taskId: number): string {
  return join(home, "artifacts", String(taskId));
}
