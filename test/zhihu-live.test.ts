// A task is never "failed" while its article is live on Zhihu, a 10 MB article publishes, and a job whose
// lease is gone sends nothing more. Real parts: the simulator over HTTPS, real Chromium, the real Runner
// and SQLite store (through test/helpers/zhihu.ts).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prepareArticle } from "../src/article/index.js";
import { TaskFailure } from "../src/errors.js";
import type { CheckpointPatch, JobContext, TaskSnapshot } from "../src/platform.js";
import { type ZhihuWorld, zhihuWorld } from "./helpers/zhihu.js";

const article = (title: string, body = `Body of ${title}.`) =>
  `---\ntitle: "${title}"\ntopics: [编程]\n---\n\n${body}\n`;

const count = (w: ZhihuWorld, endpoint: string) =>
  w.sim.requests().filter((r) => r.endpoint === endpoint && !r.preflight).length;

function progress(logs: string[]) {
  return (e: { type: string; message?: string }) => {
    if (e.type === "progress" && e.message) logs.push(e.message);
  };
}

describe("a task is never failed while its article is live", { concurrency: false }, () => {
  test("the last attempt's publish answer is lost: read back, published, the task succeeds", async (t) => {
    const w = await zhihuWorld(t);
    const id = await w.enqueue(w.writeArticle("last.md", article("last attempt")), "work", {
      maxAttempts: 1,
    });
    w.sim.faults.set({ failNext: [{ endpoint: "publish", mode: "reset-after" }] });
    const logs: string[] = [];
    const summary = await w.run([id], { onEvent: progress(logs) });
    assert.deepEqual(summary.succeeded, [id], logs.join("\n"));
    const [a] = w.sim.articles();
    assert.equal(a?.state, "published");
    assert.equal(a.publishCount, 1);
    assert.equal(w.task(id).url, a.url);
    assert.ok(
      logs.some((m) => /but article \d+ is published with this text, so the task succeeded/.test(m)),
      logs.join("\n"),
    );
  });

  test("the session expires right after Zhihu published: the next attempt reads back without a session", async (t) => {
    const w = await zhihuWorld(t);
    const id = await w.enqueue(w.writeArticle("expired.md", article("published, then logged out")), "work");
    w.sim.faults.set({ failNext: [{ endpoint: "publish", mode: "reset-after" }] });
    const summary = await w.run([id], {
      onEvent: (e) => {
        // Between the attempts the account is logged out: every call needing a session now gets 401.
        if (e.type === "retrying") w.sim.revokeSessions("work");
      },
    });
    assert.deepEqual(summary.succeeded, [id]);
    const task = w.task(id);
    assert.equal(task.attempts, 2);
    assert.equal(count(w, "publish"), 1);
    assert.equal(w.sim.articles()[0]?.state, "published");
    // The second attempt did fail at the session check; only the read-back saw the article live.
    assert.ok(w.sim.requests().some((r) => r.endpoint === "me" && r.status === 401));
  });

  test("a refused update stays failed: the live article is the old text", async (t) => {
    const w = await zhihuWorld(t);
    const file = w.writeArticle("u.md", article("refused update", "First version."));
    const first = await w.enqueue(file, "work");
    await w.run([first]);
    const articleId = w.task(first).draftId!;
    w.writeArticle("u.md", article("refused update", "Second version with 违禁词."));
    const again = await w.enqueue(file, "work", { force: true });
    assert.equal(w.task(again).draftId, articleId, "the file's article, found by the database");
    await w.run([again]);
    const task = w.task(again);
    assert.equal(task.status, "failed");
    assert.equal(task.errorKind, "rejected");
    const [a] = w.sim.articles();
    assert.match(a?.html ?? "", /First version/);
    assert.equal(a?.publishCount, 1);
  });

  test("a read-back refused after Zhihu accepted the publish does not fail the task", async (t) => {
    const w = await zhihuWorld(t);
    const id = await w.enqueue(w.writeArticle("r.md", article("read-back refused")), "work", {
      maxAttempts: 1,
    });
    w.sim.faults.set({ rateLimit: { mode: "40352", endpoints: ["article.read"], count: 1 } });
    const logs: string[] = [];
    const summary = await w.run([id], { onEvent: progress(logs) });
    assert.deepEqual(summary.succeeded, [id], logs.join("\n"));
    assert.ok(
      logs.some((m) => /Zhihu accepted the article; reading it back failed \(.*40352/.test(m)),
      logs.join("\n"),
    );
  });
});

describe("big articles", { concurrency: false }, () => {
  test("a 10 MB article publishes end to end and its task succeeds", async (t) => {
    const w = await zhihuWorld(t);
    // Mostly ASCII, so the answer is ~10 M characters long: what overflowed the old regex reader.
    const paragraph = (i: number) =>
      `Paragraph ${i} (第${i}段): ${"A long article about publishing exactly once, whatever fails. ".repeat(16)}\n\n`;
    const paragraphs: string[] = [];
    for (let bytes = 0; bytes < 10 * 1024 * 1024; ) {
      const p = paragraph(paragraphs.length);
      paragraphs.push(p);
      bytes += Buffer.byteLength(p);
    }
    const body = paragraphs.join("");
    const file = w.writeArticle("big.md", article("十兆字节的文章", body));
    const id = await w.enqueue(file, "work", { maxAttempts: 1 });
    const t0 = performance.now();
    const logs: string[] = [];
    const summary = await w.run([id], { onEvent: progress(logs) });
    const ms = performance.now() - t0;
    t.diagnostic(
      `10 MB article (${(Buffer.byteLength(body) / 1024 / 1024).toFixed(1)} MB Markdown) published in ${Math.round(ms)} ms`,
    );
    assert.deepEqual(summary.succeeded, [id], w.task(id).errorMessage ?? "");
    const [a] = w.sim.articles();
    assert.equal(a?.state, "published");
    assert.ok(Buffer.byteLength(a.html) >= 10 * 1024 * 1024, `${a.html.length} chars arrived`);
    assert.match(a.html, /Paragraph 0 \(第0段\)/);
    assert.ok(a.html.includes(`Paragraph ${paragraphs.length - 1} (`), "the last paragraph arrived");
    assert.equal(w.task(id).url, a.url);
    assert.ok(!logs.some((m) => /reading it back failed|reads back as/.test(m)), logs.join("\n"));
  });
});

describe("ensureLease", { concurrency: false }, () => {
  test("awaited before every request; when it rejects, nothing more is sent and the rejection propagates", async (t) => {
    const w = await zhihuWorld(t);
    const file = w.writeArticle("lease.md", article("lease"));
    const prepared = await prepareArticle(file);
    const platform = w.platform();
    const snapshot: TaskSnapshot = {
      id: 1,
      platform: "zhihu",
      account: "work",
      file,
      contentHash: prepared.contentHash,
      title: prepared.title,
      attempt: 1,
      maxAttempts: 5,
      draftId: null,
      checkpoint: null,
      state: {},
      url: null,
      forceNew: false,
      mode: "publish",
    };
    // The whole run with a lease that never goes: how many requests it makes, one ensureLease before each.
    const full = jobContext(w, Number.POSITIVE_INFINITY);
    await platform.publish(snapshot, full.ctx);
    const sent = w.sim.requests("work").filter((r) => !r.preflight);
    assert.equal(full.calls(), sent.length, sent.map((r) => r.endpoint).join(", "));
    await platform.close();

    // Lost before the first, the third and the last request: exactly the ones before it went out.
    for (const allowed of [0, 2, full.calls() - 1]) {
      const mark = w.sim.lastSeq;
      const lease = jobContext(w, allowed);
      const p = w.platform();
      const error = await p.publish({ ...snapshot, id: 2 + allowed }, lease.ctx).then(
        () => null,
        (e: unknown) => e,
      );
      assert.equal(error, lease.rejection, `allowed ${allowed}: the very rejection propagates`);
      const after = w.sim.requests("work", { since: mark }).filter((r) => !r.preflight);
      assert.equal(after.length, allowed, after.map((r) => r.endpoint).join(", "));
      assert.equal(lease.calls(), allowed + 1);
      await p.close();
    }
  });
});

/** A job context whose lease holds for `allowed` requests and then is gone. */
function jobContext(w: ZhihuWorld, allowed: number) {
  let calls = 0;
  const rejection = new TaskFailure("lease_lost", "lease", "the lease was taken over (test)");
  const checkpoints: CheckpointPatch[] = [];
  const ctx: JobContext = {
    signal: new AbortController().signal,
    artifactsDir: `${w.home}/artifacts-test`,
    log: () => {},
    checkpoint: async (patch) => {
      checkpoints.push(patch);
    },
    ensureLease: async () => {
      calls++;
      if (calls > allowed) throw rejection;
    },
  };
  return { ctx, rejection, checkpoints, calls: () => calls };
}
