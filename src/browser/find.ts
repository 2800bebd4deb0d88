// Finding a Chrome-family executable: an explicit TOPN_BROWSER wins and must be usable; otherwise the
// usual install locations for the platform, then PATH. No download: topn drives the browser you have.

import { accessSync, constants, existsSync, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";

const INSTALL_HINT =
  "install one (Debian/Ubuntu: apt-get install chromium; macOS: brew install --cask chromium) " +
  "or set TOPN_BROWSER=/path/to/chrome";

const LINUX_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/usr/bin/microsoft-edge",
  "/usr/bin/microsoft-edge-stable",
  "/snap/bin/chromium",
  "/var/lib/flatpak/exports/bin/org.chromium.Chromium",
  "/opt/google/chrome/chrome",
  "/opt/microsoft/msedge/msedge",
];
const PATH_NAMES = [
  "chromium",
  "chromium-browser",
  "google-chrome",
  "google-chrome-stable",
  "microsoft-edge",
  "microsoft-edge-stable",
];
const MAC_APPS = [
  "Google Chrome.app/Contents/MacOS/Google Chrome",
  "Chromium.app/Contents/MacOS/Chromium",
  "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
  "Google Chrome Canary.app/Contents/MacOS/Google Chrome Canary",
];
const WINDOWS_EXES = [
  "Google\\Chrome\\Application\\chrome.exe",
  "Chromium\\Application\\chrome.exe",
  "Microsoft\\Edge\\Application\\msedge.exe",
];

// A plain env object is case-sensitive even though Windows' environment is not.
function envValue(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const match = Object.keys(env).find((name) => name.toUpperCase() === key);
  return match === undefined ? undefined : env[match];
}

/** Where a Chrome-family browser usually lives on `platform`, most likely first. */
export function candidatePaths(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  if (platform === "win32") {
    const roots = ["PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA"]
      .map((key) => envValue(env, key))
      .filter((root): root is string => Boolean(root));
    return roots.flatMap((root) => WINDOWS_EXES.map((exe) => path.win32.join(root, exe)));
  }
  if (platform === "darwin") {
    const dirs = ["/Applications", ...(env.HOME ? [path.posix.join(env.HOME, "Applications")] : [])];
    return dirs.flatMap((dir) => MAC_APPS.map((app) => path.posix.join(dir, app)));
  }
  const onPath = (env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .flatMap((dir) => PATH_NAMES.map((name) => path.posix.join(dir, name)));
  return [...LINUX_PATHS, ...onPath];
}

function usable(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    // Windows has no execute bit: existence is all we can check.
    if (platform !== "win32") accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The browser executable to launch. Throws UsageError when TOPN_BROWSER is unusable or nothing is found. */
export function findBrowser(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  const explicit = env.TOPN_BROWSER;
  if (explicit) {
    if (!existsSync(explicit)) throw new UsageError(`TOPN_BROWSER=${explicit} does not exist`, INSTALL_HINT);
    if (!usable(explicit, platform)) {
      throw new UsageError(`TOPN_BROWSER=${explicit} is not an executable file`, INSTALL_HINT);
    }
    return explicit;
  }
  const found = candidatePaths(env, platform).find((file) => usable(file, platform));
  if (found === undefined) throw new UsageError("no Chrome, Chromium or Edge found", INSTALL_HINT);
  return found;
}
