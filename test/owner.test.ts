// Who owns a lease or a browser profile, and whether that process is gone.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { hostname } from "node:os";
import { test } from "node:test";
import { isOwnerDead, isProcessGone, newOwnerId } from "../src/owner.js";
import { waitFor, waitForOutput } from "./helpers/run.js";

test("a live owner, one on another host, or a malformed one is never taken for dead", () => {
  assert.match(newOwnerId(), new RegExp(`^${hostname()}:${process.pid}:[0-9a-f]{6}$`));
  assert.equal(isOwnerDead(newOwnerId()), false);
  assert.equal(isOwnerDead(newOwnerId(process.ppid)), false);
  assert.equal(isOwnerDead(`not-${hostname()}:999999:abcdef`), false);
  assert.equal(isOwnerDead(`${hostname()}:zero:abcdef`), false);
});

test("an owner whose process exited is dead", async () => {
  const child = spawn(process.execPath, ["-e", "0"]);
  await once(child, "exit");
  assert.equal(isOwnerDead(newOwnerId(child.pid)), true);
});

test("a zombie (killed, never reaped, still answering signal 0) counts as gone", {
  skip: process.platform !== "linux" && "needs /proc",
}, async (t) => {
  // sh starts a child and becomes `sleep 30`, which never reaps it: the zombie an init that does not reap
  // leaves in a container. The child exits only once its parent is `sleep`: had it exited earlier, sh could
  // have reaped it before the exec (it did on a loaded CI machine) and there would be no zombie.
  const script =
    'p=$$; (while [ "$(cat /proc/$p/comm)" = sh ]; do sleep 0.01; done) & echo $!; exec sleep 30';
  const parent = spawn("sh", ["-c", script], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  t.after(() => parent.kill("SIGKILL"));
  const pid = Number(await waitForOutput(parent, /^\d+/));
  await waitFor("the child to exit", () => isProcessGone(pid));
  assert.doesNotThrow(() => process.kill(pid, 0), "still in the process table");
  assert.equal(isOwnerDead(newOwnerId(pid)), true);
});
