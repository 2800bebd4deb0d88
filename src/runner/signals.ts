import { EXIT } from "../errors.js";
import type { Runner } from "./runner.js";

const HANG_AFTER_HANDBACK_MS = 10_000;

/**
 * First SIGINT/SIGTERM: stop claiming, give running jobs `graceMs`, then hand them back to the queue.
 * Second: hand back at once (a few ms of writes) and exit.
 */
export function handleShutdownSignals(
  runner: Runner,
  graceMs: number,
  notify: (message: string) => void,
): { dispose(): void } {
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      notify(`${signal} again: handing running tasks back and exiting now`);
      // A hand-back the database refuses leaves the lease to expire: the next runner recovers the task.
      void runner.handBackAll().finally(() => process.exit(EXIT.interrupted));
    }
    received = signal;
    notify(
      `${signal}: no new tasks will start; running ones get ${Math.round(graceMs / 1000)} s to finish (signal again to stop now)`,
    );
    void runner.stop(graceMs).then(() => {
      // The tasks are back in the queue; a job that ignores its abort (a hung browser call) must not
      // keep the process alive past this. Unref'd: a clean finish exits sooner by itself.
      setTimeout(() => process.exit(EXIT.interrupted), HANG_AFTER_HANDBACK_MS).unref();
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/**
 * For commands that drive a browser outside the runner (login, accounts --check, preview): the first
 * SIGINT/SIGTERM aborts the returned signal so the command closes its browser and says "interrupted";
 * a second one exits at once.
 */
export function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
