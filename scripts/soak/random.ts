// The soak's only source of chance: one seeded generator, so `--seed N` replays the same decisions (what
// happens when, to whom). Timing still varies from run to run: processes and the machine decide that.
import { seededRandom } from "../../test/sim/util.js";

export class Dice {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }

  /** A number in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  int(lo: number, hi: number): number {
    return Math.floor(this.between(lo, hi + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 1_000_000);
}
