// An update makes the article equal to the file (topics, cover, comment permission, column where Zhihu
// allows it), and `--draft` saves the text into Zhihu's draft without publishing or touching a live article.
// Real parts: the simulator over HTTPS, real Chromium, the real Runner and SQLite store.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Platform, PublishResult } from "../src/platform.js";
import { makePng } from "./fixtures/article/images.js";
import { type ZhihuWorld, zhihuWorld } from "./helpers/zhihu.js";

const COVER = makePng(12, 8, (x, y) => [x * 20, y * 30, 90]);

function article(
  title: string,
  body: string,
  fm: { topics: string[]; cover?: string; comments?: string; column?: string },
): string {
  const lines = [`title: "${title}"`, `topics: [${fm.topics.join(", ")}]`];
  if (fm.cover) lines.push(`cover: ${fm.cover}`);
  if (fm.comments) lines.push(`comments: ${fm.comments}`);
  if (fm.column) lines.push(`column: "${fm.column}"`);
  return `---\n${lines.join("\n")}\n---\n\n${body}\n`;
}

const calls = (w: ZhihuWorld, endpoints: string[], since = 0) =>
  w.sim.requests("work", { since }).filter((r) => endpoints.includes(r.endpoint) && !r.preflight);

/** The same Zhihu platform, with every task run in `--draft` mode; the results it returned are kept. */
function draftMode(p: Platform, results: PublishResult[]): Platform {
  return {
    name: p.name,
    publish: async (task, ctx) => {
      const result = await p.publish({ ...task, mode: "draft" }, ctx);
      results.push(result);
      return result;
    },
    close: () => p.close(),
  };
}

/** Publishes `file` once (as a new article), then returns its article id. */
async function publishOnce(w: ZhihuWorld, file: string): Promise<string> {
  const id = await w.enqueue(file, "work");
  assert.deepEqual((await w.run([id])).succeeded, [id], w.task(id).errorMessage ?? "");
  return w.task(id).draftId!;
}

describe("an update makes the article equal to the file", { concurrency: false }, () => {
  test("removed topics are unbound, a removed cover is cleared, comments follow; the column stays (with a note)", async (t) => {
    const w = await zhihuWorld(t);
    const file = w.writeArticle(
      "a.md",
      article("跟着文件走", "First version.", {
        topics: ["编程", "Python", "写作"],
        cover: "cover.png",
        comments: "anyone",
        column: "work的专栏",
      }),
      { "cover.png": COVER },
    );
    const articleId = await publishOnce(w, file);
    const [before] = w.sim.articles();
    assert.deepEqual(before?.topics, ["编程", "Python", "写作"]);
    assert.match(before.cover, /^https:\/\/pic4\.zhimg\.com\/v2-[0-9a-f]{32}$/);
    assert.equal(before.column?.title, "work的专栏");

    w.writeArticle(
      "a.md",
      article("跟着文件走", "Second version.", { topics: ["Python"], comments: "no_one" }),
    );
    const again = await w.enqueue(file, "work", { force: true });
    assert.equal(w.task(again).draftId, articleId, "the file's article, found by the database");
    const logs: string[] = [];
    await w.run([again], { onEvent: (e) => e.type === "progress" && logs.push(e.message) });
    assert.equal(w.task(again).status, "succeeded", w.task(again).errorMessage ?? "");

    const all = w.sim.articles();
    assert.equal(all.length, 1);
    const a = all[0]!;
    assert.equal(a.id, articleId);
    assert.match(a.html, /Second version/);
    assert.deepEqual(a.topics, ["Python"]);
    assert.equal(a.cover, "");
    assert.equal(a.commentPermission, "no_one");
    assert.equal(a.publishCount, 2);
    // Zhihu offers no way out of a column: the article stays, and the person is told where to do it.
    assert.equal(a.column?.title, "work的专栏");
    assert.ok(
      logs.some((m) => /stays in column "work的专栏".*on zhihu\.com/.test(m)),
      logs.join("\n"),
    );
  });

  test("an unknown topic fails the update before any topic is unbound", async (t) => {
    const w = await zhihuWorld(t);
    const file = w.writeArticle("b.md", article("未知话题", "v1", { topics: ["编程", "写作"] }));
    const articleId = await publishOnce(w, file);
    const mark = w.sim.lastSeq;
    w.writeArticle("b.md", article("未知话题", "v2", { topics: ["编程", "没有这个话题"] }));
    const again = await w.enqueue(file, "work", { force: true });
    assert.equal(w.task(again).draftId, articleId, "the file's article, found by the database");
    await w.run([again]);
    const task = w.task(again);
    assert.equal(task.status, "failed");
    assert.equal(task.errorKind, "bad_input");
    assert.deepEqual(calls(w, ["topic.unbind", "topic.bind", "publish"], mark), []);
    assert.deepEqual(w.sim.articles()[0]?.topics, ["编程", "写作"]);
  });
});

describe("--draft", { concurrency: false }, () => {
  test("a new file: text, images and topics saved into a draft; nothing published; the edit URL", async (t) => {
    const w = await zhihuWorld(t);
    const results: PublishResult[] = [];
    const file = w.writeArticle(
      "d.md",
      article("只存草稿", "Draft body.\n\n![c](cover.png)", { topics: ["编程"], cover: "cover.png" }),
      { "cover.png": COVER },
    );
    const id = await w.enqueue(file, "work");
    const summary = await w.run([id], { platform: draftMode(w.platform(), results) });
    assert.deepEqual(summary.succeeded, [id], w.task(id).errorMessage ?? "");

    const [a] = w.sim.articles();
    assert.equal(a?.state, "draft");
    assert.match(a.draftHtml, /Draft body/);
    assert.match(a.draftHtml, /<img src="https:\/\/pic4\.zhimg\.com\/v2-/);
    assert.deepEqual(a.topics, ["编程"]);
    assert.notEqual(a.draftCover, "");
    assert.deepEqual(calls(w, ["publish", "publish.legacy"]), []);
    const [result] = results;
    assert.deepEqual(
      { state: result?.state, url: result?.url, articleId: result?.articleId },
      { state: "draft", url: `https://zhuanlan.zhihu.com/p/${a.id}/edit`, articleId: a.id },
    );
    assert.match(result?.contentHash ?? "", /^[0-9a-f]{64}$/);
    assert.match(result?.digest ?? "", /^[0-9a-f]{32}$/);
  });

  test("a live article: only its draft changes; the live text, topics and cover stay as published", async (t) => {
    const w = await zhihuWorld(t);
    const file = w.writeArticle("live.md", article("在线文章", "Live text.", { topics: ["编程", "写作"] }));
    const articleId = await publishOnce(w, file);
    const mark = w.sim.lastSeq;

    w.writeArticle(
      "live.md",
      article("在线文章（修改中）", "Work in progress.", { topics: ["Python"], cover: "cover.png" }),
      { "cover.png": COVER },
    );
    const results: PublishResult[] = [];
    const again = await w.enqueue(file, "work", { force: true });
    assert.equal(w.task(again).draftId, articleId, "the file's article, found by the database");
    const summary = await w.run([again], { platform: draftMode(w.platform(), results) });
    assert.deepEqual(summary.succeeded, [again], w.task(again).errorMessage ?? "");

    const [a] = w.sim.articles();
    assert.equal(a?.state, "published");
    assert.equal(a.publishCount, 1);
    assert.equal(a.title, "在线文章");
    assert.match(a.html, /Live text/);
    assert.equal(a.cover, "");
    assert.deepEqual(a.topics, ["编程", "写作"]);
    assert.equal(a.draftTitle, "在线文章（修改中）");
    assert.match(a.draftHtml, /Work in progress/);
    assert.notEqual(a.draftCover, "");
    assert.deepEqual(
      calls(w, ["publish", "publish.legacy", "topic.bind", "topic.unbind"], mark).map((r) => r.endpoint),
      [],
    );
    assert.equal(results[0]?.state, "draft");
    assert.equal(results[0]?.url, `https://zhuanlan.zhihu.com/p/${articleId}/edit`);
  });
});
