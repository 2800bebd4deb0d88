// The control surface over plain HTTP on 127.0.0.1, so another process (the demo, a CLI under test) can
// drive the simulator: the same operations as the in-process object, as JSON.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FaultSpec } from "./faults.js";
import { readBody } from "./http.js";
import type { Simulator } from "./server.js";

type Body = Record<string, unknown>;
type Handler = (sim: Simulator, body: Body, query: URLSearchParams, param: string) => unknown;

const opt = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** `METHOD /path` → handler; a `:name` segment is passed as `param`. */
const HANDLERS: Record<string, Handler> = {
  "GET /state": (sim) => ({
    port: sim.port,
    articles: sim.articles(),
    duplicateTitles: sim.duplicateTitles(),
    maxInFlight: sim.maxInFlight(),
    images: sim.images(),
    articleCounts: sim.articleCounts(),
    lastSeq: sim.lastSeq,
    accounts: [...sim.world.accounts.keys()],
    pendingQr: sim.pendingQr(),
    faults: sim.faults.current(),
  }),
  "GET /articles": (sim, _b, q) => sim.articles(q.has("account") ? { account: q.get("account")! } : {}),
  "GET /requests": (sim, _b, q) =>
    sim.requests(q.get("account") ?? undefined, { since: Number(q.get("since") ?? 0) || 0 }),
  "GET /writes": (sim, _b, q) =>
    sim.writes(q.get("account") ?? undefined, { since: Number(q.get("since") ?? 0) || 0 }),
  "POST /accounts": (sim, body) => sim.createAccount(String(body.name ?? "")),
  "POST /accounts/:name/revoke": (sim, body, _q, name) => ({
    revoked: sim.revokeSessions(name, body.code === 101 ? 101 : 100),
  }),
  "PUT /faults": (sim, body) => {
    sim.faults.set(body as FaultSpec);
    return sim.faults.current();
  },
  "DELETE /faults": (sim) => {
    sim.faults.clear();
    return {};
  },
  "POST /topics": (sim, body) => sim.addTopic(String(body.name ?? "")),
  "POST /qr/scan": (sim, body) => ({ token: sim.scanQr(opt(body.token)) }),
  "POST /qr/confirm": (sim, body) => ({ token: sim.confirmQr(String(body.account ?? ""), opt(body.token)) }),
  "POST /qr/refresh": (sim, body) => ({ token: sim.refreshQr(opt(body.token)) }),
  "POST /signin/complete": async (sim, body) => ({
    token: await sim.completeSignin(
      String(body.account ?? ""),
      typeof body.timeoutMs === "number" ? body.timeoutMs : undefined,
    ),
  }),
};

function find(method: string, path: string): { handler: Handler; param: string } | null {
  for (const [key, handler] of Object.entries(HANDLERS)) {
    const [m, pattern] = key.split(" ") as [string, string];
    if (m !== method) continue;
    const re = new RegExp(`^${pattern.replace(/:[a-z]+/, "([^/]+)")}$`);
    const match = re.exec(path);
    if (match) return { handler, param: decodeURIComponent(match[1] ?? "") };
  }
  return null;
}

async function serve(sim: Simulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const found = find(req.method ?? "GET", url.pathname);
  const reply = (status: number, value: unknown) => {
    const text = JSON.stringify(value);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  };
  if (!found) return reply(404, { error: `no control endpoint ${req.method} ${url.pathname}` });
  try {
    const raw = (await readBody(req)).toString("utf8");
    const body = raw.trim() === "" ? {} : (JSON.parse(raw) as Body);
    reply(200, (await found.handler(sim, body, url.searchParams, found.param)) ?? {});
  } catch (error) {
    reply(400, { error: error instanceof Error ? error.message : String(error) });
  }
}

export async function startControlServer(
  sim: Simulator,
  port: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => void serve(sim, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
