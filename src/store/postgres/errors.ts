// Which PostgreSQL errors are worth trying again, and which ones a person must fix (one line, the fix, exit 2).

import { firstLine, UsageError } from "../../errors.js";
import { redactUrls, type Target, URL_HINT } from "./url.js";

/** SQLSTATEs that say "this transaction lost a race or the server is restarting; the same work may succeed". */
const TRANSIENT_STATES = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available (lock_timeout)
  "57P01", // admin_shutdown: the server is restarting, or our backend was terminated
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: the server is starting up
  "08000", // connection_exception
  "08003", // connection_does_not_exist
  "08006", // connection_failure
  "53300", // too_many_connections: other topn processes will give theirs back
]);

/** Socket errors of a connection that was working and broke (a refused first connection is not this). */
const TRANSIENT_SOCKET = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

// node-postgres reports a connection that died under it with plain Errors and these messages, no code.
const TERMINATED =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect/i;

/**
 * A statement this connection prepared before the table under it changed (a newer topn on another machine
 * migrated the shared database): PostgreSQL refuses to run it again on this connection, ever. Only a new
 * connection, which prepares it afresh, gets past it.
 */
export function isStalePlan(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return (
    err?.code === "0A000" &&
    typeof err.message === "string" &&
    /cached plan must not change result type/.test(err.message)
  );
}

/**
 * Serialization failures, deadlocks, lock timeouts, a connection reset or terminated, a stale prepared
 * statement (the connection is dropped): try again.
 */
export function isTransientPgError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  if (isStalePlan(e)) return true;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && (TRANSIENT_STATES.has(code) || TRANSIENT_SOCKET.has(code))) return true;
  const message = (e as { message?: unknown }).message;
  return typeof message === "string" && TERMINATED.test(message);
}

/** A unique index (by name) refused the write: another transaction got there first. */
export function isUniqueViolation(e: unknown, index: string): boolean {
  const err = e as { code?: unknown; constraint?: unknown } | null;
  return err?.code === "23505" && err.constraint === index;
}

/**
 * What went wrong opening the database, as the one line a person needs. `undefined`: not a problem a
 * person can fix from here (the caller rethrows it as it is).
 */
export function openProblem(e: unknown, target: Target): UsageError | undefined {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === "string" ? err.code : "";
  const why = redactUrls(firstLine(e));
  const { server, database, user } = target;
  switch (code) {
    case "ECONNREFUSED":
      return new UsageError(
        `cannot connect to PostgreSQL at ${server}: connection refused`,
        "start PostgreSQL there, or fix the host and port in the database URL",
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UsageError(
        `cannot connect to PostgreSQL at ${server}: no such host`,
        "fix the host in the database URL",
      );
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new UsageError(
        `cannot connect to PostgreSQL at ${server}: ${code}`,
        "check that the host is reachable (firewall, VPN) and the port in the database URL",
      );
    case "ENOENT":
      return new UsageError(
        `cannot connect to PostgreSQL at ${server}: no server socket there`,
        "start PostgreSQL, or fix the host in the database URL",
      );
    case "28P01":
      return new UsageError(
        `PostgreSQL at ${server} refused user "${user}": password authentication failed`,
        "check the user and password in the database URL",
      );
    case "28000":
      return new UsageError(
        `PostgreSQL at ${server} refused user "${user}" for database "${database}": ${why}`,
        /no encryption/i.test(why)
          ? "add ?sslmode=require to the database URL, or allow the host in pg_hba.conf"
          : "check the user in the database URL, or allow it in the server's pg_hba.conf",
      );
    case "3D000":
      return new UsageError(
        `database "${database}" does not exist on ${server}`,
        `create it (createdb ${database}, or CREATE DATABASE ${database}) or fix the name in the database URL`,
      );
    case "42501":
      return new UsageError(
        `user "${user}" may not use topn's tables in database "${database}" on ${server}: ${why}`,
        /for schema/.test(why)
          ? `run topn once as the database's owner, or let it create them: GRANT CREATE, USAGE ON SCHEMA public TO ${user}`
          : `grant it: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${user}`,
      );
    case "3F000":
      return new UsageError(
        `database "${database}" on ${server} has no schema to create topn's tables in: ${why}`,
        "create the schema named in search_path, or fix options=-c search_path=… in the database URL",
      );
    case "53300":
      return new UsageError(
        `PostgreSQL at ${server} has no free connection: ${why}`,
        "raise max_connections, or run fewer topn processes",
      );
    case "57P03":
      return new UsageError(
        `PostgreSQL at ${server} is starting up or shutting down`,
        "try again in a moment",
      );
    default:
      if (code === "" && /ssl|certificate/i.test(why)) {
        return new UsageError(
          `cannot connect to PostgreSQL at ${server}: ${why}`,
          "fix sslmode in TOPN_DATABASE_URL (e.g. ?sslmode=require, or sslmode=disable for a local server)",
        );
      }
      if (code === "" && e instanceof TypeError) {
        return new UsageError(`the database URL is not usable: ${why}`, URL_HINT);
      }
      return undefined;
  }
}
