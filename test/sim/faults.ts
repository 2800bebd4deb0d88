// Fault injection. Endpoints go by their route names (the table in README.md); "*" means every API endpoint.
// Random choices come from a seeded generator so a failing test replays the same way.

import { seededRandom } from "./util.js";

/** "reset-after" lets the call take effect, then drops the connection: the client cannot know it worked. */
export type FailureMode = "500" | "reset" | "reset-after";

export interface FaultSpec {
  seed?: number;
  /** Added latency per endpoint name (or "*"), in ms. */
  latencyMs?: Record<string, number>;
  /** A random share of matching calls fails; with several modes, each failing call draws one of them. */
  failures?: { rate: number; mode?: FailureMode | FailureMode[]; endpoints?: string[]; accounts?: string[] };
  /** The next `count` (default 1) matching calls fail, deterministically. */
  failNext?: Array<{ endpoint: string; mode?: FailureMode; count?: number; account?: string }>;
  /** Matching calls are refused as 429 (with Retry-After) or as the anti-bot 403 code 40352. */
  rateLimit?: {
    mode: "429" | "40352";
    endpoints?: string[];
    accounts?: string[];
    /** Only this many calls are refused, then the limit lifts. Unlimited when omitted. */
    count?: number;
    retryAfterSec?: number;
  };
  /** Accounts that must bind a phone first: writing calls get 403 code 4031. */
  phoneBinding?: string[];
  /** Published articles stay invisible on their public page for this long (review). */
  reviewMs?: number;
}

export type Decision =
  | { kind: "pass"; resetAfter: boolean }
  | { kind: "fail500" }
  | { kind: "reset" }
  | { kind: "429"; retryAfterSec: number }
  | { kind: "40352" }
  | { kind: "4031" };

/** Endpoints that write content: the ones phone binding blocks. */
const PHONE_GATED = new Set(["draft.create", "draft.save", "publish", "publish.legacy", "image.register"]);

const matches = (list: string[] | undefined, value: string | null): boolean =>
  list === undefined || list.includes("*") || (value !== null && list.includes(value));

export class Faults {
  private spec: FaultSpec = {};
  private random = seededRandom(1);
  private pending: Array<{ endpoint: string; mode: FailureMode; left: number; account?: string }> = [];
  private rateLimitLeft = Number.POSITIVE_INFINITY;

  /** Replace every fault with `spec` (an empty object clears them). */
  set(spec: FaultSpec): void {
    this.spec = structuredClone(spec);
    this.random = seededRandom(spec.seed ?? 1);
    this.pending = (spec.failNext ?? []).map((f) => ({
      endpoint: f.endpoint,
      mode: f.mode ?? "500",
      left: f.count ?? 1,
      ...(f.account === undefined ? {} : { account: f.account }),
    }));
    this.rateLimitLeft = spec.rateLimit?.count ?? Number.POSITIVE_INFINITY;
  }

  clear(): void {
    this.set({});
  }

  /**
   * The faults still armed: deterministic ones count only the calls they have yet to fail, and spent ones are
   * left out, so sending this back (with more) changes nothing that has not happened yet.
   */
  current(): FaultSpec {
    const spec = structuredClone(this.spec);
    if (spec.failNext) {
      const left = this.pending
        .filter((f) => f.left > 0)
        .map((f) => ({
          endpoint: f.endpoint,
          mode: f.mode,
          count: f.left,
          ...(f.account === undefined ? {} : { account: f.account }),
        }));
      if (left.length > 0) spec.failNext = left;
      else delete spec.failNext;
    }
    if (spec.rateLimit && spec.rateLimit.count !== undefined) {
      if (this.rateLimitLeft > 0) spec.rateLimit.count = this.rateLimitLeft;
      else delete spec.rateLimit;
    }
    return spec;
  }

  get reviewMs(): number {
    return this.spec.reviewMs ?? 0;
  }

  latencyFor(endpoint: string): number {
    const table = this.spec.latencyMs ?? {};
    return table[endpoint] ?? table["*"] ?? 0;
  }

  /** What happens to one API call of `account` (a name, or null when logged out) to `endpoint`. */
  decide(endpoint: string, account: string | null): Decision {
    const limit = this.spec.rateLimit;
    if (
      limit &&
      this.rateLimitLeft > 0 &&
      matches(limit.endpoints, endpoint) &&
      matches(limit.accounts, account)
    ) {
      this.rateLimitLeft--;
      return limit.mode === "429"
        ? { kind: "429", retryAfterSec: limit.retryAfterSec ?? 1 }
        : { kind: "40352" };
    }
    if (account !== null && this.spec.phoneBinding?.includes(account) && PHONE_GATED.has(endpoint)) {
      return { kind: "4031" };
    }
    const next = this.pending.find(
      (f) =>
        f.left > 0 &&
        (f.endpoint === endpoint || f.endpoint === "*") &&
        matches(f.account ? [f.account] : undefined, account),
    );
    let mode: FailureMode | undefined;
    if (next) {
      next.left--;
      mode = next.mode;
    } else {
      const failures = this.spec.failures;
      if (failures && matches(failures.endpoints, endpoint) && matches(failures.accounts, account)) {
        // Draw only for matching calls, so unrelated traffic does not shift the sequence.
        if (this.random() < failures.rate) {
          const modes = [failures.mode ?? "500"].flat();
          mode = modes[Math.floor(this.random() * modes.length)] ?? "500";
        }
      }
    }
    if (mode === "500") return { kind: "fail500" };
    if (mode === "reset") return { kind: "reset" };
    return { kind: "pass", resetAfter: mode === "reset-after" };
  }
}
