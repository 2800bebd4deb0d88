import chalk from "chalk";
import { expiryPhrase } from "../notify/alert.js";
import type { SessionEvent } from "../runner/health.js";

/** Watch mode's session checks, as lines beside the tasks' progress (or JSON lines). */
export function sessionPrinter(out: (line: string) => void, opts: { json?: boolean; now?: () => number }) {
  const now = opts.now ?? Date.now;
  return (e: SessionEvent) => {
    if (e.type === "session-trouble") {
      if (opts.json)
        out(
          JSON.stringify({
            event: "session-trouble",
            platform: e.platform,
            account: e.account,
            error: e.error,
          }),
        );
      else
        out(
          `${chalk.yellow("session check")}  ${e.account ? `account ${e.account}: ` : ""}could not check: ${e.error}`,
        );
      return;
    }
    const { check } = e;
    const h = check.health;
    if (opts.json) {
      out(
        JSON.stringify({
          event: "session",
          platform: check.platform,
          account: check.account,
          state: h.state,
          message: h.message ?? null,
          expires_at: h.expiresAt === null ? null : new Date(h.expiresAt).toISOString(),
          expiring: check.expiring,
          paused: check.paused
            ? { kind: check.paused.kind, reason: check.paused.reason, fix: check.paused.fix }
            : null,
        }),
      );
      return;
    }
    const who = `account ${check.account}`;
    if (check.paused) {
      out(
        `${chalk.red("session check")}  ${who}: ${h.message ?? h.state}; paused — fix: ${check.paused.fix}`,
      );
    } else if (h.state !== "ok") {
      out(`${chalk.yellow("session check")}  ${who}: ${h.message ?? h.state}${h.fix ? `; ${h.fix}` : ""}`);
    } else if (check.expiring && h.expiresAt !== null) {
      out(
        `${chalk.yellow("session check")}  ${who}: alive, but the session ${expiryPhrase(h.expiresAt, now())}; log in again before then: ${check.login}`,
      );
    } else {
      out(
        `${chalk.dim("session check")}  ${who}: alive${h.expiresAt === null ? "" : `; it ${expiryPhrase(h.expiresAt, now())}`}`,
      );
    }
  };
}
