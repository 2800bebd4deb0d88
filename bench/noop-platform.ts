// A platform that does nothing for NOOP_LATENCY_MS per task (after one checkpoint, as a real publish records
// its draft first), loaded into real topn processes through TOPN_EXTRA_PLATFORM for the end-to-end figures.
import { setTimeout as sleep } from "node:timers/promises";
import type { Platform, PlatformModule } from "../src/platform.js";

const noop: PlatformModule = {
  name: "noop",
  label: "No-op",
  async create({ env }): Promise<Platform> {
    const latency = Number(env["NOOP_LATENCY_MS"] ?? 0);
    return {
      name: "noop",
      async publish(task, ctx) {
        const draftId = `d${task.id}`;
        await ctx.checkpoint({ checkpoint: "draft_created", draftId });
        await sleep(latency, undefined, { signal: ctx.signal });
        return {
          url: `https://x/p/${draftId}`,
          articleId: draftId,
          state: "published",
          contentHash: "h",
          digest: "d",
        };
      },
      close: async () => {},
    };
  },
};

export default noop;
