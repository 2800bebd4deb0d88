// `npm run sim -- --port P [--control-port C] [--account NAME]...`: runs the simulator on its own.
// First stdout line: {"port", "resolve", "control", "accounts": [{name, cookie}]}; then serves until killed.

import { parseArgs } from "node:util";
import { startSimulator } from "./index.js";

const USAGE = "usage: npm run sim -- [--port P] [--control-port C] [--account NAME]...";

let values: { port: string; "control-port": string; account?: string[]; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      "control-port": { type: "string", default: "0" },
      account: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (e) {
  process.stderr.write(`sim: ${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(
    `${USAGE}\nRuns the Zhihu simulator until killed; the first stdout line is JSON: port, resolve, control, accounts.\n`,
  );
  process.exit(0);
}
for (const name of ["port", "control-port"] as const) {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`sim: --${name} ${values[name]} is not a port (0-65535)\n${USAGE}\n`);
    process.exit(2);
  }
}

const sim = await startSimulator({ port: Number(values.port), controlPort: Number(values["control-port"]) });
const names = values.account?.length ? values.account : ["demo"];
const accounts = names.map((name) => ({ name, cookie: sim.createAccount(name).cookieHeader }));
process.stdout.write(
  `${JSON.stringify({ port: sim.port, resolve: sim.resolveEnv, control: sim.controlUrl, accounts })}\n`,
);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
