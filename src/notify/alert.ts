// What topn tells a person who is not watching: a task failed for good, an account paused itself, a session is
// about to end. One JSON shape for the webhook and the command (README documents it); `text` is the one line
// a chat webhook (Slack, Mattermost, ntfy) shows as it is. Nothing secret goes in: messages are the ones
// `topn show` prints, which never hold a cookie or a token, and the whole payload is redacted once more.

import type { SessionEvent } from "../runner/health.js";
import { daysLeft } from "../runner/health.js";
import { describe, type RunnerEvent } from "../runner/runner.js";
import { formatTime, iso } from "../ui/format.js";

export type AlertEvent = "task_failed" | "account_paused" | "session_expiring";

export interface Alert {
  topn: 1;
  event: AlertEvent;
  /** When topn noticed (ISO 8601). */
  at: string;
  /** The machine that noticed (TOPN_MACHINE or the host name). */
  host: string;
  /** One line for a person. */
  text: string;
  platform: string;
  account: string;
  /** What the person should do. */
  fix: string;
  task: {
    id: number;
    title: string;
    file: string;
    attempts: number;
    error: { kind: string; step: string; message: string };
  } | null;
  pause: { kind: string; reason: string } | null;
  session: { state: string; expires_at: string | null; days_left: number | null } | null;
}

/** Tells repeated alerts apart (the same account paused again within the hour is not news). */
export function alertKey(a: Alert): string {
  if (a.event === "task_failed") return `${a.event}/${a.task?.id}`;
  return `${a.event}/${a.platform}/${a.account}/${a.pause?.kind ?? ""}`;
}

const base = (event: AlertEvent, platform: string, account: string, host: string, now: number) => ({
  topn: 1 as const,
  event,
  at: new Date(now).toISOString(),
  host,
  platform,
  account,
});

export function alertOfRunnerEvent(e: RunnerEvent, host: string, now = Date.now()): Alert | null {
  if (e.type === "failed") {
    const t = e.task;
    const message = describe(e.failure);
    return {
      ...base("task_failed", t.platform, t.account, host, now),
      text: `topn: task ${t.id} (${t.title}) failed for good at ${e.failure.step}: ${message}`,
      fix: e.failure.hint ?? `see: topn show ${t.id}; then: topn retry ${t.id}`,
      task: {
        id: t.id,
        title: t.title,
        file: t.file,
        attempts: t.attempts,
        error: { kind: e.failure.kind, step: e.failure.step, message },
      },
      pause: null,
      session: null,
    };
  }
  if (e.type === "held") {
    const t = e.task;
    return {
      ...base("account_paused", t.platform, t.account, host, now),
      text: `topn: account ${t.account} (${t.platform}) paused: ${e.failure.message}; fix: ${e.fix}`,
      fix: e.fix,
      task: null,
      pause: { kind: e.failure.kind, reason: e.failure.message },
      session: null,
    };
  }
  return null;
}

export function alertOfSessionEvent(e: SessionEvent, host: string, now = Date.now()): Alert | null {
  if (e.type !== "session-checked") return null;
  const { check } = e;
  const { health } = check;
  const session = {
    state: health.state,
    expires_at: iso(health.expiresAt),
    days_left: health.expiresAt === null ? null : daysLeft(health.expiresAt, now),
  };
  if (check.paused) {
    return {
      ...base("account_paused", check.platform, check.account, host, now),
      text: `topn: account ${check.account} (${check.platform}) paused: ${check.paused.reason}; fix: ${check.paused.fix}`,
      fix: check.paused.fix,
      task: null,
      pause: { kind: check.paused.kind, reason: check.paused.reason },
      session,
    };
  }
  if (check.expiring && health.expiresAt !== null) {
    const fix = `log in again before then: ${check.login}`;
    return {
      ...base("session_expiring", check.platform, check.account, host, now),
      text: `topn: the session of account ${check.account} (${check.platform}) ${expiryPhrase(health.expiresAt, now)}; ${fix}`,
      fix,
      task: null,
      pause: null,
      session,
    };
  }
  return null;
}

/** "expires in 3 days (2026-05-01 09:00)" or "expired on 2026-05-01 09:00". */
export function expiryPhrase(expiresAt: number, now: number): string {
  if (expiresAt <= now) return `expired on ${formatTime(expiresAt)}`;
  const days = daysLeft(expiresAt, now);
  const when = days < 1 ? "within a day" : `in ${days} day${days === 1 ? "" : "s"}`;
  return `expires ${when} (${formatTime(expiresAt)})`;
}
