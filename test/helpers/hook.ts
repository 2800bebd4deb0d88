// A webhook for tests: a local HTTP server that keeps every POST body, answering `status` (200 unless set).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface Hook {
  url: string;
  /** Bodies received, in order. */
  bodies: string[];
  /** Parsed bodies. */
  alerts(): Array<Record<string, unknown> & { event: string; account: string }>;
  status: number;
}

export async function startHook(t: { after(fn: () => void | Promise<void>): void }): Promise<Hook> {
  const hook: Hook = {
    url: "",
    bodies: [],
    alerts: () => hook.bodies.map((b) => JSON.parse(b)),
    status: 200,
  };
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => {
      body += d;
    });
    req.on("end", () => {
      if (req.method === "POST") hook.bodies.push(body);
      res.statusCode = hook.status;
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-path`;
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return hook;
}
