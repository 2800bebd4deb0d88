// kill -9 of a real `topn run` right after each publish checkpoint, then a new `topn run --once`:
// exactly one article, published once, nothing stuck in `running`, the killed attempt counted.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makePng } from "./fixtures/article/images.js";
import { collect, spawnTopn, topn, waitFor } from "./helpers/run.js";
import { zhihuWorld } from "./helpers/zhihu.js";

interface Case {
  name: string;
  /** Simulator endpoints slowed down so the runner is certainly at that point when it is killed. */
  slow: Record<string, number>;
  /** The moment to kill: a committed checkpoint, and optionally a call the simulator is handling. */
  checkpoint: string;
  during?: string;
  /** Published on Zhihu before the crash (the runner never learned it). */
  publishedBeforeCrash?: boolean;
}

const CASES: Case[] = [
  { name: "after the draft was created", checkpoint: "draft_created", slow: { "image.register": 60_000 } },
  { name: "after an image was uploaded", checkpoint: "image_uploaded", slow: { "draft.save": 60_000 } },
  { name: "after the content was saved", checkpoint: "content_saved", slow: { "topic.search": 60_000 } },
  // The publish call is in flight; Zhihu finishes it after the runner is gone.
  {
    name: "while the publish call is in flight",
    checkpoint: "publishing",
    during: "publish",
    slow: { publish: 1_000 },
    publishedBeforeCrash: true,
  },
  // Zhihu published, the runner was reading the article back when it died.
  {
    name: "after Zhihu published, before topn recorded it",
    checkpoint: "publishing",
    during: "article.read",
    slow: { "article.read": 60_000 },
    publishedBeforeCrash: true,
  },
];

describe("kill -9 at each checkpoint", { concurrency: false }, () => {
  for (const c of CASES) {
    test(`${c.name}: the next run resumes the same draft and publishes exactly once`, async (t) => {
      const w = await zhihuWorld(t);
      const title = `崩溃测试 ${c.checkpoint} ${c.during ?? ""}`.trim();
      const file = w.writeArticle(
        "crash.md",
        `---\ntitle: ${title}\ntopics: [编程]\n---\n\nBody.\n\n![chart](chart.png)\n`,
        { "chart.png": makePng(9, 7, (x, y) => [x * 20, y * 30, 99]) },
      );
      const id = await w.enqueue(file, "work");
      w.sim.faults.set({ latencyMs: c.slow });

      const child = spawnTopn(["run"], { env: { ...w.env, TOPN_POLL_MS: "50" } });
      const exited = collect(child);
      await waitFor(`checkpoint ${c.checkpoint}`, () => w.task(id).checkpoint === c.checkpoint, {
        timeoutMs: 30_000,
      });
      if (c.during) {
        const during = c.during;
        await waitFor(`the ${during} call`, () => w.sim.activeCalls("work").includes(during));
      }
      child.kill("SIGKILL");
      assert.equal((await exited).signal, "SIGKILL");
      const stranded = w.task(id);
      assert.equal(stranded.status, "running");
      const draftId = stranded.draftId;
      assert.ok(draftId, "the draft id was committed before the crash");

      // Let Zhihu finish a publish the dead runner had asked for, so the next run meets a settled world.
      await waitFor(
        "the simulator to finish the publish call",
        () => !w.sim.activeCalls("work").includes("publish"),
      );
      if (c.publishedBeforeCrash) {
        assert.equal(
          w.sim.articles({ account: "work" })[0]?.state,
          "published",
          "Zhihu published before the crash",
        );
      }
      w.sim.faults.clear();
      const again = await topn(["run", "--once"], { env: w.env });
      assert.equal(again.code, 0, again.stdout + again.stderr);

      const done = w.task(id);
      assert.equal(done.status, "succeeded");
      assert.equal(done.attempts, 2, "the killed attempt is counted");
      assert.equal(done.draftId, draftId, "the same draft became the article");
      const mine = w.sim.articles({ account: "work" });
      assert.equal(mine.length, 1, `one draft/article in all, found ${mine.map((a) => a.state).join(", ")}`);
      assert.equal(mine[0]!.state, "published");
      assert.equal(mine[0]!.title, title);
      assert.equal(mine[0]!.publishCount, 1, "published once");
      assert.equal(w.sim.duplicateTitles().length, 0);
      assert.equal(done.url, `https://zhuanlan.zhihu.com/p/${draftId}`);
    });
  }
});
