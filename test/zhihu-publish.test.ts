// Publishing to Zhihu through the browser, against the simulator with real Chromium, the real SQLite store
// and the real Runner. What must hold: exactly one article per task whatever fails when, ids exact, failures
// classified with what the person must do, nothing secret in what is left behind.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { artifactsDir } from "../src/store/home.js";
import { makePng } from "./fixtures/article/images.js";
import { type ZhihuWorld, zhihuWorld } from "./helpers/zhihu.js";

/** A distinct PNG per seed (distinct md5), so each article has its own image to upload. */
const png = (seed: number) =>
  makePng(8 + (seed % 5), 6, (x, y) => [(x * 31 + seed) % 256, (y * 17 + seed * 7) % 256, seed % 256]);

function article(
  title: string,
  opts: { topics?: string[]; image?: string; extra?: string; column?: string } = {},
) {
  const fm = [`title: "${title}"`, `topics: [${(opts.topics ?? ["编程"]).join(", ")}]`];
  if (opts.column) fm.push(`column: "${opts.column}"`);
  return `---\n${fm.join("\n")}\n---\n\nBody of ${title}.\n\n${opts.image ? `![figure](${opts.image})\n\n` : ""}${opts.extra ?? ""}`;
}

const count = (w: ZhihuWorld, endpoint: string, account?: string) =>
  w.sim.requests(account).filter((r) => r.endpoint === endpoint && !r.preflight).length;

const published = (w: ZhihuWorld, title: string) =>
  w.sim.articles().filter((a) => a.title === title && a.state === "published");

describe("publishing to Zhihu", { concurrency: false }, () => {
  test("an article with an image used twice, math, code, a table and topics arrives as Zhihu HTML", async (t) => {
    const w = await zhihuWorld(t);
    const md = [
      "---",
      "title: 第一篇",
      "topics: [编程, Python]",
      "---",
      "",
      "Euler: $e^{i\\pi}+1=0$.",
      "",
      "![chart](chart.png)",
      "",
      "```python",
      "print('<hi>')",
      "```",
      "",
      "| a | b |",
      "|---|---|",
      "| 1 | 2 |",
      "",
      "![the same chart again](./chart.png)",
      "",
    ].join("\n");
    const file = w.writeArticle("first.md", md, { "chart.png": png(1) });
    const id = await w.enqueue(file, "work");
    const summary = await w.run([id]);
    assert.deepEqual(summary.succeeded, [id]);

    const task = w.task(id);
    const [a] = w.sim.articles();
    assert.ok(a);
    // The 19-digit id above 2^53 survives exactly: database, URL and Zhihu agree.
    assert.match(a.id, /^\d{19}$/);
    assert.equal(task.draftId, a.id);
    assert.equal(task.url, `https://zhuanlan.zhihu.com/p/${a.id}`);
    assert.equal(a.state, "published");
    assert.equal(a.publishCount, 1);
    assert.deepEqual(a.topics, ["编程", "Python"]);
    assert.equal(a.title, "第一篇");

    const [image] = w.sim.images();
    assert.ok(image?.uploaded);
    const zhimg = `https://pic4.zhimg.com/v2-${image.md5}`;
    assert.equal(a.html.split(`<img src="${zhimg}"`).length - 1, 2, "both references point at zhimg.com");
    assert.ok(!a.html.includes("chart.png"), "no local path reaches Zhihu");
    assert.match(
      a.html,
      /<pre lang="python">print\(&#39;&lt;hi&gt;&#39;\)<\/pre>|<pre lang="python">print\('&lt;hi&gt;'\)<\/pre>/,
    );
    assert.match(a.html, /<img eeimg="1" src="\/\/www\.zhihu\.com\/equation\?tex=e%5E%7Bi%5Cpi%7D%2B1%3D0"/);
    assert.match(
      a.html,
      /<table data-draft-node="block" data-draft-type="table" data-size="normal"><tbody><tr><th>a<\/th><th>b<\/th><\/tr>/,
    );
    // The same bytes twice: registered and uploaded once.
    assert.equal(count(w, "image.register"), 1);
    assert.equal(count(w, "image.upload"), 1);
    assert.equal(count(w, "draft.create"), 1);

    // Another article with the same image: Zhihu already has it (state 1), nothing is uploaded again.
    const second = w.writeArticle("second.md", article("第二篇", { image: "chart.png" }));
    const id2 = await w.enqueue(second, "work");
    assert.deepEqual((await w.run([id2])).succeeded, [id2]);
    assert.equal(count(w, "image.upload"), 1);
    assert.ok(published(w, "第二篇")[0]?.html.includes(zhimg));
  });

  test("a transient failure at any step: the retry resumes the same draft and publishes once", async (t) => {
    const w = await zhihuWorld(t);
    const platform = w.platform();
    const cases: Array<{ endpoint: string; mode: "500" | "reset" | "reset-after" }> = [
      { endpoint: "me", mode: "500" },
      { endpoint: "draft.create", mode: "reset" },
      { endpoint: "draft.create", mode: "reset-after" },
      { endpoint: "image.register", mode: "500" },
      { endpoint: "image.upload", mode: "reset" },
      { endpoint: "image.upload", mode: "reset-after" },
      { endpoint: "image.status", mode: "500" },
      { endpoint: "draft.save", mode: "reset-after" },
      { endpoint: "topic.search", mode: "500" },
      { endpoint: "topic.bind", mode: "reset-after" },
      { endpoint: "publish", mode: "500" },
      { endpoint: "publish", mode: "reset" },
      { endpoint: "article.read", mode: "reset" },
    ];
    for (const [i, c] of cases.entries()) {
      const title = `resume ${i} ${c.endpoint} ${c.mode}`;
      const file = w.writeArticle(`resume-${i}.md`, article(title, { image: `img${i}.png` }), {
        [`img${i}.png`]: png(100 + i),
      });
      const id = await w.enqueue(file, "work");
      const creates = count(w, "draft.create");
      w.sim.faults.set({ failNext: [{ endpoint: c.endpoint, mode: c.mode }] });
      const summary = await w.run([id], { platform });
      assert.deepEqual(summary.succeeded, [id], title);
      const task = w.task(id);
      // image.status failures are polled through in place, and a failed read-back after Zhihu accepted the
      // article changes nothing; every other step costs one attempt.
      const inPlace = c.endpoint === "image.status" || c.endpoint === "article.read";
      assert.equal(task.attempts, inPlace ? 1 : 2, title);
      const done = published(w, title);
      assert.equal(done.length, 1, title);
      assert.equal(done[0]!.publishCount, 1, title);
      assert.equal(task.draftId, done[0]!.id, title);
      // Only a draft whose creation was never confirmed is made again; every other retry reused the draft.
      const expectedCreates = c.endpoint === "draft.create" ? 2 : 1;
      assert.equal(count(w, "draft.create") - creates, expectedCreates, title);
    }
    assert.deepEqual(w.sim.duplicateTitles(), []);
  });

  test("published but the answer was lost: the next attempt reads back and does not publish again", async (t) => {
    const w = await zhihuWorld(t);
    const file = w.writeArticle("lost.md", article("answer lost"));
    const id = await w.enqueue(file, "work");
    w.sim.faults.set({ failNext: [{ endpoint: "publish", mode: "reset-after" }] });
    const logs: string[] = [];
    const summary = await w.run([id], { onEvent: (e) => e.type === "progress" && logs.push(e.message) });
    assert.deepEqual(summary.succeeded, [id]);
    const task = w.task(id);
    assert.equal(task.attempts, 2);
    const [a] = published(w, "answer lost");
    assert.equal(a?.publishCount, 1);
    assert.equal(count(w, "publish"), 1, "the second attempt never called publish");
    assert.equal(task.url, `https://zhuanlan.zhihu.com/p/${a.id}`);
    assert.ok(
      logs.some((m) => /already published by the last attempt/.test(m)),
      logs.join("\n"),
    );
  });

  test("an expired session holds the account at once and says how to log in again", async (t) => {
    const w = await zhihuWorld(t, { accounts: ["work", "gone"] });
    w.sim.revokeSessions("work", 101);
    const a = await w.enqueue(w.writeArticle("a.md", article("expired")), "work");
    const a2 = await w.enqueue(w.writeArticle("a2.md", article("expired too")), "work");
    // An account that never logged in on this machine: its task waits for a machine that holds its session.
    const b = await w.enqueue(w.writeArticle("b.md", article("never logged in")), "nobody");
    await w.run([a, a2, b]);
    const task = w.task(a);
    assert.equal(task.status, "queued", "held, not failed");
    assert.equal(task.attempts, 0, "not the task's fault");
    assert.equal(task.errorKind, "session_expired");
    assert.equal(task.errorStep, "check session");
    assert.ok(task.errorMessage?.includes("topn login zhihu --account work"), task.errorMessage ?? "");
    const account = await w.store.accounts.get("zhihu", "work");
    assert.equal(account?.pause?.kind, "session_expired");
    assert.equal(account?.pause?.fix, "topn login zhihu --account work");
    assert.equal(w.task(a2).attempts, 0, "the account's other task never started");
    // A revoked session no longer names its account in the log: count every session check.
    assert.equal(w.sim.requests().filter((r) => r.endpoint === "me").length, 1, "one request to Zhihu");
    assert.equal(w.task(b).attempts, 0, "no session here: never claimed");
    assert.equal(w.sim.articles().length, 0);
  });

  test("anti-bot verification (40352) and phone binding (4031) hold the account with their message and URL", async (t) => {
    const w = await zhihuWorld(t, { accounts: ["bot", "phoneless"] });
    w.sim.faults.set({
      rateLimit: { mode: "40352", endpoints: ["draft.create"], accounts: ["bot"] },
      phoneBinding: ["phoneless"],
    });
    const a = await w.enqueue(w.writeArticle("a.md", article("verify me")), "bot");
    const b = await w.enqueue(w.writeArticle("b.md", article("bind a phone")), "phoneless");
    await w.run([a, b]);

    const ta = w.task(a);
    assert.equal(ta.status, "queued", "held, not failed");
    assert.equal(ta.attempts, 0);
    assert.equal(ta.errorKind, "needs_verification");
    assert.equal(ta.errorStep, "create draft");
    assert.match(ta.errorMessage ?? "", /40352/);
    assert.match(ta.errorMessage ?? "", /open https:\/\/www\.zhihu\.com\/account\/unhuman\?type=unhuman/);
    assert.equal(count(w, "draft.create", "bot"), 1, "never retried in a loop");
    const bot = await w.store.accounts.get("zhihu", "bot");
    assert.match(bot?.pause?.fix ?? "", /unhuman.*then: topn accounts --resume bot$/);

    const tb = w.task(b);
    assert.equal(tb.status, "queued", "held, not failed");
    assert.equal(tb.attempts, 0);
    assert.equal(tb.errorKind, "phone_binding");
    assert.match(tb.errorMessage ?? "", /请先完成手机号绑定/);
    assert.match(tb.errorMessage ?? "", /open https:\/\/www\.zhihu\.com\/settings/);

    // The artifacts are there and hold no cookie value, nor does the database.
    const secrets = [...w.accounts.values()].flatMap((acc) => acc.cookies.map((c) => c.value));
    for (const id of [a, b]) {
      const dir = artifactsDir(w.home, id);
      const files = readdirSync(dir).sort();
      assert.deepEqual(files, ["last-exchange.json", "page.html", "screenshot.png"]);
      const exchange = JSON.parse(readFileSync(join(dir, "last-exchange.json"), "utf8"));
      assert.equal(exchange.response.status, 403);
      assert.equal(exchange.request.headers["x-xsrftoken"], "[redacted]");
      assert.equal(exchange.step, "create draft");
      for (const f of files) {
        const text = readFileSync(join(dir, f), "latin1");
        for (const s of secrets) assert.ok(!text.includes(s), `${f} of task ${id} holds a cookie value`);
      }
    }
    const db = readFileSync(w.store.location, "latin1") + readFileSync(`${w.store.location}-wal`, "latin1");
    for (const s of secrets) assert.ok(!db.includes(s), "the database holds a cookie value");
  });

  test("bad input found at publish time: an unknown topic, a column the account lacks, a file that broke", async (t) => {
    const w = await zhihuWorld(t);
    const a = await w.enqueue(
      w.writeArticle("a.md", article("odd topic", { topics: ["编程", "不存在的话题"] })),
      "work",
    );
    const b = await w.enqueue(
      w.writeArticle("b.md", article("odd column", { column: "别人的专栏" })),
      "work",
    );
    const brokenFile = w.writeArticle("c.md", article("will break"));
    const c = await w.enqueue(brokenFile, "work");
    writeFileSync(brokenFile, "");
    const said: string[] = [];
    await w.run([a, b, c], {
      onEvent: (e) => {
        if (e.type === "progress") said.push(`${e.task.id}: ${e.message}`);
      },
    });

    const ta = w.task(a);
    assert.equal(ta.status, "failed");
    assert.equal(ta.errorKind, "bad_input");
    assert.equal(ta.errorStep, "bind topic 不存在的话题");
    assert.match(ta.errorMessage ?? "", /no topic named "不存在的话题"/);

    const tb = w.task(b);
    assert.equal(tb.errorKind, "bad_input");
    assert.match(tb.errorMessage ?? "", /no column named "别人的专栏".*work的专栏/);

    const tc = w.task(c);
    assert.equal(tc.errorKind, "bad_input");
    assert.match(tc.errorMessage ?? "", /file is empty/);
    assert.equal(published(w, "odd topic").length + published(w, "odd column").length, 0);
    // Zhihu's answer explains a refusal; a file that broke has nothing on Zhihu's side to show.
    assert.ok(existsSync(join(artifactsDir(w.home, a), "last-exchange.json")));
    assert.ok(!existsSync(artifactsDir(w.home, c)), "no artifacts for a file that broke");
    assert.ok(said.some((m) => m.startsWith(`${a}: failure details saved`)));
    assert.ok(!said.some((m) => m.startsWith(`${c}: failure details saved`)), said.join("\n"));
  });

  test("Zhihu refuses the content; a rate limit is waited out by the account; a column goes through the legacy endpoint", async (t) => {
    const w = await zhihuWorld(t);
    const rejected = await w.enqueue(w.writeArticle("r.md", article("含有违禁词的标题")), "work");
    await w.run([rejected]);
    const tr = w.task(rejected);
    assert.equal(tr.status, "failed");
    assert.equal(tr.errorKind, "rejected");
    assert.equal(tr.errorStep, "publish");
    assert.match(tr.errorMessage ?? "", /code 10007.*内容包含敏感信息/);
    assert.equal(tr.attempts, 1);

    w.sim.faults.set({ rateLimit: { mode: "429", endpoints: ["draft.save"], count: 1, retryAfterSec: 0 } });
    const limited = await w.enqueue(w.writeArticle("l.md", article("slow down")), "work");
    await w.run([limited]);
    assert.equal(w.task(limited).status, "succeeded");
    assert.equal(w.task(limited).attempts, 1, "a rate limit costs the account time, not the task an attempt");

    const columnTask = await w.enqueue(
      w.writeArticle("c.md", article("into the column", { column: "work的专栏" })),
      "work",
    );
    await w.run([columnTask]);
    assert.equal(w.task(columnTask).status, "succeeded");
    const [a] = published(w, "into the column");
    assert.equal(a?.column?.title, "work的专栏");
    assert.deepEqual(a.publishedVia, ["legacy"]);
  });

  test("publishing the same file again updates its article; a draft deleted on Zhihu is replaced", async (t) => {
    const w = await zhihuWorld(t);
    const file = w.writeArticle("u.md", article("updated article", { extra: "First version.\n" }));
    const first = await w.enqueue(file, "work");
    await w.run([first]);
    const articleId = w.task(first).draftId!;

    // The database knows the file's article: the new task updates it (forced: the text is the same so far).
    const again = await w.enqueue(file, "work", { force: true });
    // Edited after it was queued: the current text is what gets published, and the person is told.
    w.writeArticle("u.md", article("updated article", { extra: "Second version.\n" }));
    const logs: string[] = [];
    await w.run([again], { onEvent: (e) => e.type === "progress" && logs.push(e.message) });
    assert.ok(logs.some((m) => /changed since it was queued; publishing the current version/.test(m)));
    assert.ok(logs.some((m) => m === `updating article ${articleId}`));
    const ta = w.task(again);
    assert.equal(ta.status, "succeeded");
    assert.equal(ta.draftId, articleId);
    const all = w.sim.articles();
    assert.equal(all.length, 1, "no new article");
    assert.equal(all[0]!.publishCount, 2);
    assert.match(all[0]!.html, /Second version/);

    // A draft left by a task held back (Zhihu wanted a person), deleted on Zhihu meanwhile.
    const orphan = w.writeArticle("o.md", article("orphan"));
    const heldOnce = await w.enqueue(orphan, "work");
    w.sim.faults.set({ rateLimit: { mode: "40352", endpoints: ["publish"], count: 1 } });
    await w.run([heldOnce]);
    assert.equal(w.task(heldOnce).status, "queued", "held, not failed");
    const gone = w.task(heldOnce).draftId!;
    deleteOnZhihu(w, gone);
    assert.ok(await w.store.accounts.resume("zhihu", "work"));
    await w.run([heldOnce]);
    const tr = w.task(heldOnce);
    assert.equal(tr.status, "succeeded");
    assert.notEqual(tr.draftId, gone);
    assert.equal(published(w, "orphan").length, 1);
  });

  test("20% faults (500, resets before and after the work) across 30 articles and 3 accounts: each published once", async (t) => {
    const accounts = ["a1", "a2", "a3"];
    const w = await zhihuWorld(t, { accounts });
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) {
      const file = w.writeArticle(`load/${i}.md`, article(`load ${i}`, { image: `p${i}.png` }), {
        [`p${i}.png`]: png(1000 + i),
      });
      ids.push(await w.enqueue(file, accounts[i % 3]!, { maxAttempts: 40 }));
    }
    // The simulator draws one failure mode per spec: rotate modes (each with its own seed) as attempts start.
    const modes = ["500", "reset", "reset-after"] as const;
    let turn = 0;
    const rotate = () => {
      turn++;
      w.sim.faults.set({ seed: turn, failures: { rate: 0.2, mode: modes[turn % modes.length]! } });
    };
    rotate();
    const summary = await w.run(ids, { onEvent: (e) => e.type === "claimed" && rotate() });
    w.sim.faults.clear();

    assert.deepEqual(
      [...summary.succeeded].sort((x, y) => x - y),
      ids,
    );
    const faults = w.sim.requests().filter((r) => r.fault).length;
    assert.ok(faults >= 30, `faults were injected (${faults})`);
    const retried = ids.filter((id) => w.task(id).attempts > 1).length;
    assert.ok(retried >= 10, `many tasks needed retries (${retried})`);
    assert.deepEqual(w.sim.duplicateTitles(), []);
    const pub = w.sim.articles().filter((a) => a.state === "published");
    assert.equal(pub.length, 30);
    for (const a of pub) assert.equal(a.publishCount, 1, a.title);
    for (const id of ids) {
      const task = w.task(id);
      assert.equal(pub.find((a) => a.title === task.title)?.id, task.draftId);
    }
    const inFlight = w.sim.maxInFlight();
    for (const acc of accounts) assert.equal(inFlight[acc], 1, `account ${acc}: one call at a time`);
  });
});

/** The person deletes the draft on the site. */
function deleteOnZhihu(w: ZhihuWorld, id: string): void {
  const a = w.sim.world.articles.get(id);
  assert.ok(a, `draft ${id} exists`);
  a.deleted = true;
}
