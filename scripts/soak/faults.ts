// The simulator's faults during the soak. A steady base (latency on every call, a share of calls failing as a
// 500, a reset before the call or a reset after it took effect, articles in review) plus one targeted fault at
// a time (a rate limit, an anti-bot check, an answer lost after a publish). The simulator replaces its whole
// spec on every change, so each change sends the base, the targeted faults still armed, the new one, and a
// fresh seed.
import type { FaultSpec } from "../../test/sim/faults.js";
import type { SimProcess } from "./sim.js";

/** Every API call waits this long, as over a real network (publishing and uploads longer). */
export const LATENCY_MS = { "*": 30, publish: 120, "image.upload": 60 };
export const REVIEW_MS = 1500;
/** Retry-After of the soak's rate limits: an account pauses this long (doubling with strikes). */
export const RETRY_AFTER_SEC = 1;

export class SoakFaults {
  private phone = new Set<string>();
  private on = true;
  private changes = 0;

  constructor(
    private readonly sim: SimProcess,
    /** The failures' generator starts from seed + the number of changes so far. */
    private readonly seed: number,
    private readonly failureRate: number,
  ) {}

  private base(): FaultSpec {
    if (!this.on) return {};
    return {
      seed: this.seed + ++this.changes,
      latencyMs: LATENCY_MS,
      failures: { rate: this.failureRate, mode: ["500", "reset", "reset-after"] },
      reviewMs: REVIEW_MS,
      ...(this.phone.size > 0 ? { phoneBinding: [...this.phone] } : {}),
    };
  }

  /**
   * Sends the base with `extra`, keeping targeted faults that are still armed (the simulator's current spec
   * counts only those). A new rate limit waits while another is armed: false, nothing changed.
   */
  private async apply(extra: FaultSpec = {}): Promise<boolean> {
    const armed = this.on ? (await this.sim.state()).faults : {};
    if (extra.rateLimit && armed.rateLimit) return false;
    const failNext = [...(armed.failNext ?? []), ...(extra.failNext ?? [])];
    const rateLimit = extra.rateLimit ?? armed.rateLimit;
    await this.sim.setFaults({
      ...this.base(),
      ...(failNext.length > 0 ? { failNext } : {}),
      ...(rateLimit ? { rateLimit } : {}),
    });
    return true;
  }

  start(): Promise<boolean> {
    this.on = true;
    return this.apply();
  }

  /** Everything off, also what is still armed: what is left to do runs against a healthy Zhihu. */
  async stop(): Promise<void> {
    this.on = false;
    this.phone.clear();
    await this.sim.setFaults({});
  }

  rateLimit(account: string, count: number): Promise<boolean> {
    return this.apply({
      rateLimit: { mode: "429", accounts: [account], count, retryAfterSec: RETRY_AFTER_SEC },
    });
  }

  /** Zhihu's anti-bot check (403 code 40352): the account waits until a person passes it. */
  verification(account: string): Promise<boolean> {
    return this.apply({ rateLimit: { mode: "40352", accounts: [account], count: 1 } });
  }

  /** Writes of the account get 403 code 4031 until a person binds a phone (bindPhone). */
  requirePhone(account: string): Promise<boolean> {
    this.phone.add(account);
    return this.apply();
  }

  bindPhone(account: string): Promise<boolean> {
    if (!this.phone.delete(account)) return Promise.resolve(false);
    return this.apply();
  }

  needsPhone(account: string): boolean {
    return this.phone.has(account);
  }

  /** The next call of `endpoint` takes effect, then its answer is lost (the connection drops). */
  answerLost(endpoint: string, account: string): Promise<boolean> {
    return this.apply({ failNext: [{ endpoint, mode: "reset-after", account }] });
  }
}
