// `npm run sim -- --port P [--control-port C] [--account NAME]...`: runs the simulator on its own.
// First stdout line: {"port", "resolve", "control", "accounts": [{name, cookie}]}; then serves until killed.

import { parseArgs } from "node:util";
import { startSimulator } from "./index.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "control-port": { type: "string", default: "0" },
    account: { type: "string", multiple: true },
  },
});

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
