import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { glob, isDynamicPattern } from "tinyglobby";
import { UsageError } from "../errors.js";

/**
 * Files named on the command line, in order, without repeats. Shells expand globs on Unix; a quoted
 * pattern (or a shell that does not expand, like cmd.exe) is expanded here. A literal path that exists wins.
 */
export async function expandFiles(args: readonly string[], cwd: string): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    if (!existsSync(resolve(cwd, arg)) && isDynamicPattern(arg)) {
      const matches = (await glob(arg, { cwd, absolute: true, onlyFiles: true })).sort();
      if (matches.length === 0)
        throw new UsageError(`${arg} matches no files`, "check the pattern and the folder");
      out.push(...matches);
    } else {
      out.push(resolve(cwd, arg));
    }
  }
  return [...new Set(out)];
}
