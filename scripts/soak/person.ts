// The person at the keyboard: sees an account paused and does what the hold says, with the real commands. A
// verification check is passed, then `topn accounts --resume`; a phone is bound, then the same; an expired
// session is imported again from the browser (`topn login zhihu --cookies -`). Rate limits lift by themselves.
import type { Store } from "../../src/store/types.js";
import { runTopn } from "./cli.js";
import type { SoakFaults } from "./faults.js";
import type { SimProcess } from "./sim.js";

/** How long a person takes to notice a hold and act on it. */
const REACTION_MS = 1500;

export class Person {
  /** What the person did, by pause kind: "needs_verification" → resumes… */
  readonly acted: Record<string, number> = {};
  /** Sessions imported again after they ended, with how long the account was held. */
  readonly reimports: { account: string; heldMs: number }[] = [];
  private readonly seen = new Map<string, number>();
  private readonly busy = new Set<string>();
  private readonly phoneAsked = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly sim: SimProcess,
    private readonly faults: SoakFaults,
    private readonly env: NodeJS.ProcessEnv,
    private readonly note: (line: string) => void,
  ) {}

  /** A phone was required of the account: the person binds one when a hold says so, or after a while anyway. */
  phoneRequired(account: string): void {
    this.phoneAsked.set(account, Date.now());
  }

  /** One look at the accounts; acts on pauses that have waited for the person's reaction time. */
  async look(): Promise<void> {
    const now = Date.now();
    for (const [account, at] of this.phoneAsked) {
      // Nobody wrote for the account meanwhile: the person binds the phone anyway.
      if (now - at > 10_000 && !this.busy.has(account)) {
        this.phoneAsked.delete(account);
        this.note(`person binds a phone for ${account} (no hold seen)`);
        await this.faults.bindPhone(account);
      }
    }
    for (const a of await this.store.accounts.list("zhihu")) {
      const pause = a.pause;
      if (!pause || pause.kind === "rate_limited") {
        this.seen.delete(a.name);
        continue;
      }
      const first = this.seen.get(a.name) ?? now;
      this.seen.set(a.name, first);
      if (now - first < REACTION_MS || this.busy.has(a.name)) continue;
      this.busy.add(a.name);
      try {
        this.note(`person acts on ${a.name}: ${pause.kind}`);
        if (await this.act(a.name, pause.kind)) {
          this.acted[pause.kind] = (this.acted[pause.kind] ?? 0) + 1;
          this.seen.delete(a.name);
          if (pause.kind === "session_expired")
            this.reimports.push({ account: a.name, heldMs: Date.now() - pause.at });
        }
      } finally {
        this.busy.delete(a.name);
      }
    }
  }

  private async act(account: string, kind: string): Promise<boolean> {
    switch (kind) {
      case "session_expired":
        return this.login(account, await this.sim.newSession(account));
      case "phone_binding":
        this.phoneAsked.delete(account);
        await this.faults.bindPhone(account);
        return this.resume(account);
      default:
        // needs_verification: the check is passed in a browser; then the account goes on.
        return this.resume(account);
    }
  }

  /** `topn accounts --resume A`, as the hold's fix says. */
  private async resume(account: string): Promise<boolean> {
    return (await runTopn(["accounts", "--resume", account], this.env)).code === 0;
  }

  /** `topn login zhihu --account A --cookies -` with the cookie on stdin; false when Zhihu did not confirm it. */
  async login(account: string, cookie: string): Promise<boolean> {
    const r = await runTopn(["login", "zhihu", "--account", account, "--cookies", "-"], this.env, cookie);
    return r.code === 0;
  }
}
