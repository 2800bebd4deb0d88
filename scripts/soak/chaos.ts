// What goes wrong, and when: one decision at a time from the seeded dice. Runners are killed (-9) and frozen
// (SIGSTOP/SIGCONT) at random moments, accounts meet rate limits, anti-bot checks and phone binding, and
// answers are lost after the call took effect. A second runner overlaps the middle of the run and one
// session is revoked: those happen at points of progress, so they always fall while there is work.
import type { SoakFaults } from "./faults.js";
import type { Person } from "./person.js";
import type { Dice } from "./random.js";
import type { RunnerSlot } from "./runners.js";
import type { SimProcess } from "./sim.js";

/** One line of the timeline (logs/chaos.log), to line up with the runners' logs and the request log. */
export type Note = (line: string) => void;

const ACTIONS = [
  ["kill", 0.3],
  ["pause", 0.15],
  ["freeze", 0.15],
  ["answer-lost", 0.15],
  ["429", 0.1],
  ["40352", 0.07],
  ["phone", 0.08],
] as const;
type Action = (typeof ACTIONS)[number][0];

/** Calls whose answer the soak drops after they took effect; publish most of all. */
const LOST_ANSWER = ["publish", "publish", "draft.create", "draft.save", "topic.bind", "image.upload"];

export interface ChaosStats {
  kills: Record<string, number>;
  /** SIGSTOP of topn alone, and of topn with its browser (freezes). */
  pauses: number;
  freezes: number;
  /** Pauses and freezes longer than the lease (another runner may take the task over meanwhile). */
  pausesPastLease: number;
  longestPauseMs: number;
  injected: Record<string, number>;
  secondRunner: { startedAt: number | null; stoppedAt: number | null };
  revoked: { account: string; at: number } | null;
}

export class Chaos {
  readonly stats: ChaosStats = {
    kills: {},
    pauses: 0,
    freezes: 0,
    pausesPastLease: 0,
    longestPauseMs: 0,
    injected: {},
    secondRunner: { startedAt: null, stoppedAt: null },
    revoked: null,
  };
  private readonly pending: Promise<unknown>[] = [];
  private readonly revokeTarget: string;

  constructor(
    private readonly dice: Dice,
    private readonly o: {
      first: RunnerSlot;
      second: RunnerSlot;
      accounts: readonly string[];
      leaseMs: number;
      faults: SoakFaults;
      person: Person;
      sim: SimProcess;
      gapMs: readonly [number, number];
      note: Note;
    },
  ) {
    this.revokeTarget = dice.pick(o.accounts);
  }

  /** How long to wait before the next decision. */
  nextGap(): number {
    return this.dice.between(this.o.gapMs[0], this.o.gapMs[1]);
  }

  /** Milestones by share of tasks finished: the second runner's window and the revoked session. */
  async progress(finished: number): Promise<void> {
    const { second } = this.o;
    if (finished >= 0.1 && this.stats.secondRunner.startedAt === null) {
      this.stats.secondRunner.startedAt = Date.now();
      this.o.note("second runner B starts");
      second.start();
    }
    if (finished >= 0.4 && this.stats.revoked === null) {
      this.stats.revoked = { account: this.revokeTarget, at: Date.now() };
      this.o.note(`session of ${this.revokeTarget} revoked`);
      await this.o.sim.revoke(this.revokeTarget);
    }
    if (finished >= 0.8 && this.stats.secondRunner.stoppedAt === null && this.stats.secondRunner.startedAt) {
      this.stats.secondRunner.stoppedAt = Date.now();
      this.o.note("second runner B stops (SIGTERM)");
      this.pending.push(second.terminate());
    }
  }

  private secondRunning(): boolean {
    return this.stats.secondRunner.startedAt !== null && this.stats.secondRunner.stoppedAt === null;
  }

  private pickAction(): Action {
    let r = this.dice.between(0, 1);
    for (const [action, weight] of ACTIONS) {
      r -= weight;
      if (r < 0) return action;
    }
    return ACTIONS[0][0];
  }

  /** One decision, carried out. */
  async strike(): Promise<void> {
    const action = this.pickAction();
    const runners = this.secondRunning() ? [this.o.first, this.o.second] : [this.o.first];
    const runner = this.dice.pick(runners);
    const account = this.dice.pick(this.o.accounts);
    const amount = this.dice.between(0, 1);
    const endpoint = this.dice.pick(LOST_ANSWER);
    const { faults } = this.o;
    switch (action) {
      case "kill": {
        // Killing a runner that is still launching its browser tests little and stalls the run.
        if (!runner.working) return;
        this.stats.kills[runner.name] = (this.stats.kills[runner.name] ?? 0) + 1;
        const restartAfter = 300 + amount * 1700;
        this.o.note(`kill -9 ${runner.name}; restart in ${Math.round(restartAfter)} ms`);
        this.pending.push(
          runner.kill().then(async () => {
            await new Promise((r) => setTimeout(r, restartAfter));
            if (runner === this.o.first || this.secondRunning()) runner.start();
          }),
        );
        return;
      }
      case "pause":
      case "freeze": {
        if (!runner.working || runner.stopped) return;
        const ms = this.o.leaseMs * (0.5 + amount * 2);
        if (action === "pause") this.stats.pauses++;
        else this.stats.freezes++;
        if (ms > this.o.leaseMs) this.stats.pausesPastLease++;
        this.stats.longestPauseMs = Math.max(this.stats.longestPauseMs, ms);
        const what = action === "pause" ? "topn" : "topn and its browser";
        this.o.note(`kill -STOP ${runner.name} (${what}) for ${Math.round(ms)} ms`);
        this.pending.push(action === "pause" ? runner.pause(ms) : runner.freeze(ms));
        return;
      }
      case "answer-lost":
        await faults.answerLost(endpoint, account);
        break;
      case "429":
        if (!(await faults.rateLimit(account, 1 + Math.floor(amount * 3)))) return;
        break;
      case "40352":
        if (!(await faults.verification(account))) return;
        break;
      case "phone":
        if (faults.needsPhone(account)) return;
        await faults.requirePhone(account);
        this.o.person.phoneRequired(account);
        break;
    }
    this.stats.injected[action] = (this.stats.injected[action] ?? 0) + 1;
    this.o.note(`${action} for ${account}${action === "answer-lost" ? ` on ${endpoint}` : ""}`);
  }

  /** No more decisions; every frozen runner thawed, every killed one started again (the first runner). */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
    if (!this.o.first.alive) this.o.first.start();
  }
}
