import chalk from "chalk";
import { describe, type RunnerEvent } from "../runner/runner.js";
import { colourStatus, displayFile, errorLine } from "./format.js";

/** Prints the runner's events as they happen: one line each, or one JSON object per line. */
export function progressPrinter(out: (line: string) => void, opts: { cwd: string; json?: boolean }) {
  return (e: RunnerEvent) => {
    if (opts.json) {
      out(JSON.stringify(eventRecord(e)));
      return;
    }
    if (e.type === "waiting") {
      const at = new Date(e.until).toLocaleTimeString();
      out(
        `${chalk.dim("waiting")}  the next task runs at ${at} (pacing, a rate limit or a retry; topn tasks says which)`,
      );
      return;
    }
    if (e.type === "store-trouble") {
      const whose = e.task ? ` for task ${e.task.id}` : "";
      out(`${chalk.yellow("database trouble")}  could not write ${e.what}${whose}: ${e.error}; trying again`);
      return;
    }
    const t = e.task;
    const who = chalk.bold(`#${t.id}`) + ` ${displayFile(t.file, opts.cwd)}`;
    switch (e.type) {
      case "claimed":
        out(`${who}  ${colourStatus("running")}  attempt ${t.attempts} of ${t.maxAttempts} (${t.account})`);
        break;
      case "progress":
        out(`${who}  ${chalk.dim("·")} ${e.message}`);
        break;
      case "succeeded":
        out(`${who}  ${colourStatus("succeeded")}  ${t.url ?? ""}`);
        break;
      case "retrying": {
        const secs = Math.max(0, Math.round((e.runAt - Date.now()) / 1000));
        out(`${who}  ${chalk.yellow("will retry")}  ${e.failure.step}: ${e.failure.message} (in ${secs} s)`);
        break;
      }
      case "failed":
        // The stored error line, as `topn tasks` and `topn show` print it.
        out(`${who}  ${colourStatus("failed")}  ${errorLine(t) ?? ""}`);
        break;
      case "held":
        out(`${who}  ${chalk.yellow("held")}  account paused — ${e.failure.message}; fix: ${e.fix}`);
        break;
      case "abandoned":
        out(`${who}  ${chalk.gray("abandoned")}  ${e.reason}`);
        break;
      case "handed-back":
        out(`${who}  ${colourStatus("queued")}  handed back to the queue`);
        break;
      case "recovered":
        out(`${who}  ${colourStatus(t.status)}  recovered from a runner that stopped mid-task`);
        break;
    }
  };
}

function eventRecord(e: RunnerEvent) {
  if (e.type === "store-trouble")
    return { event: e.type, id: e.task?.id ?? null, what: e.what, error: e.error };
  if (e.type === "waiting") return { event: e.type, until: new Date(e.until).toISOString() };
  const base = {
    event: e.type,
    id: e.task.id,
    file: e.task.file,
    account: e.task.account,
    status: e.task.status,
  };
  switch (e.type) {
    case "progress":
      return { ...base, message: e.message };
    case "succeeded":
      return { ...base, url: e.task.url };
    case "retrying":
      return {
        ...base,
        kind: e.failure.kind,
        step: e.failure.step,
        message: e.failure.message,
        run_at: e.runAt,
      };
    case "failed":
      return { ...base, kind: e.failure.kind, step: e.failure.step, message: describe(e.failure) };
    case "held":
      return { ...base, kind: e.failure.kind, message: e.failure.message, fix: e.fix };
    case "abandoned":
      return { ...base, message: e.reason };
    default:
      return base;
  }
}
