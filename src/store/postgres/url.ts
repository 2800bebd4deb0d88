// The database URL as a person typed it: checked before anything connects, and shown only without its
// password (URLs end up in terminals, logs and CI output).

import { UsageError } from "../../errors.js";

export const URL_HINT =
  "use postgres://USER:PASSWORD@HOST:5432/DATABASE in TOPN_DATABASE_URL or --database-url";

/** Where a URL points, for messages: never its password. */
export interface Target {
  /** The URL without its password (and without a password= parameter). */
  display: string;
  /** host:port, or the socket folder. */
  server: string;
  database: string;
  user: string;
}

/** Passwords in anything that looks like a URL's userinfo or a password parameter, in free text. */
export function redactUrls(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, "$1:***@")
    .replace(/([?&]password=)[^&\s]*/gi, "$1***");
}

/** Parse and check a postgres:// URL; a UsageError (nothing connected) when it cannot be one. */
export function parseDatabaseUrl(raw: string, env: NodeJS.ProcessEnv = process.env): Target {
  // What cannot be parsed is not echoed: where its password is cannot be known.
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UsageError("the database URL is not a URL", URL_HINT);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new UsageError(
      `the database URL is not a PostgreSQL URL (it starts with ${url.protocol})`,
      URL_HINT,
    );
  }
  const params = url.searchParams;
  const host = decode(url.hostname) || params.get("host") || env["PGHOST"] || "localhost";
  const port = url.port || params.get("port") || env["PGPORT"] || "5432";
  const user = decode(url.username) || params.get("user") || env["PGUSER"] || "postgres";
  const database =
    decode(url.pathname.replace(/^\//, "")) || params.get("dbname") || env["PGDATABASE"] || user;
  const display = new URL(url.href);
  display.password = "";
  if (display.searchParams.has("password")) display.searchParams.set("password", "***");
  return {
    display: display.href,
    server: host.startsWith("/") ? `${host} (socket, port ${port})` : `${host}:${port}`,
    database,
    user,
  };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
