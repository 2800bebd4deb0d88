// A topn command as a person types it: the compiled CLI in its own process, stdin given, stderr kept.
import { spawn } from "node:child_process";
import { BIN, ROOT } from "../../test/helpers/run.js";

export function runTopn(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input = "",
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stderr }));
    child.stdin!.end(input);
  });
}
