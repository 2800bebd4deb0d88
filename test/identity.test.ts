// One file, one article — whatever the person does. Real `topn` processes against the simulator (real
// Chromium, real SQLite): every story ends in exactly one article on Zhihu for the file.
import assert from "node:assert/strict";
import { linkSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { topn } from "./helpers/run.js";
import { type ZhihuWorld, zhihuWorld } from "./helpers/zhihu.js";

const article = (title: string, body = "正文。") => `---\ntitle: ${title}\ntopics: [写作]\n---\n\n${body}\n`;

function cli(w: ZhihuWorld) {
  return (args: string[], input?: string) =>
    topn(args, { env: w.env, cwd: w.docs, ...(input === undefined ? {} : { input }) });
}

/** Published articles with this title, and how many times Zhihu was asked to publish. */
function onZhihu(w: ZhihuWorld, title: string) {
  const all = w.sim.articles().filter((a) => a.title === title && a.state === "published");
  return {
    count: all.length,
    publishes: all.reduce((n, a) => n + a.publishCount, 0),
    ids: all.map((a) => a.id),
  };
}

const publishCalls = (w: ZhihuWorld, since: number) =>
  w.sim
    .requests(undefined, { since })
    .filter((r) => r.endpoint === "publish" || r.endpoint === "publish.legacy").length;

describe("one file, one article", { concurrency: false }, () => {
  test("retry after a newer publish: the old failed task is refused, `retry --failed` skips it", async (t) => {
    const w = await zhihuWorld(t);
    const run = cli(w);
    // Task 1 fails for good: Zhihu refuses the banned word.
    w.writeArticle("s.md", article("重试的故事", "含有违禁词。"));
    const first = await run(["publish", "s.md"]);
    assert.equal(first.code, 1, first.stdout + first.stderr);
    // The person fixes the file and publishes again: task 2 succeeds.
    writeFileSync(join(w.docs, "s.md"), article("重试的故事", "改好了。"));
    const second = await run(["publish", "s.md", "--no-write-back"]);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const explicit = await run(["retry", "1"]);
    assert.equal(explicit.code, 2);
    assert.match(
      explicit.stderr,
      /task 1 is superseded: the newer task 2 already published this file's article/,
    );
    const all = await run(["retry", "--failed"]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /task 1 skipped: is superseded/);
    const drained = await run(["run", "--once"]);
    assert.equal(drained.code, 0, drained.stdout + drained.stderr);
    assert.equal(onZhihu(w, "重试的故事").count, 1);
    assert.equal((await w.store.tasks.get(1))!.status, "failed");
  });

  test("a symlink and its target in one command: one task, one article", async (t) => {
    const w = await zhihuWorld(t);
    const run = cli(w);
    w.writeArticle("目录/文章.md", article("符号链接"));
    symlinkSync(join(w.docs, "目录/文章.md"), join(w.docs, "link.md"));
    const r = await run(["publish", "link.md", "目录/文章.md"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /目录\/文章\.md is the same file as link\.md: published once/);
    assert.equal((await w.store.tasks.list()).length, 1);
    assert.equal(onZhihu(w, "符号链接").count, 1);
    // The link, published later on its own, is the same article: nothing changed, nothing sent.
    const since = w.sim.lastSeq;
    const again = await run(["publish", "link.md"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged since https:\/\/zhuanlan\.zhihu\.com\/p\//);
    assert.equal(publishCalls(w, since), 0);
  });

  test("a hard link published after its twin, with and without write-back: the same article", async (t) => {
    for (const writeBack of [true, false]) {
      const w = await zhihuWorld(t);
      const run = cli(w);
      const title = `硬链接 ${writeBack}`;
      w.writeArticle("a.md", article(title));
      linkSync(join(w.docs, "a.md"), join(w.docs, "b.md"));
      const flag = writeBack ? [] : ["--no-write-back"];
      assert.equal((await run(["publish", "a.md", ...flag])).code, 0);
      if (writeBack) {
        // Written in place: both names still see one file, with the article's URL.
        assert.equal(readFileSync(join(w.docs, "b.md"), "utf8"), readFileSync(join(w.docs, "a.md"), "utf8"));
        assert.match(
          readFileSync(join(w.docs, "b.md"), "utf8"),
          /^zhihu: https:\/\/zhuanlan\.zhihu\.com\/p\/\d+$/m,
        );
      }
      const since = w.sim.lastSeq;
      const b = await run(["publish", "b.md", ...flag]);
      assert.equal(b.code, 0, b.stdout + b.stderr);
      assert.match(b.stdout, /unchanged since/);
      assert.equal(publishCalls(w, since), 0);
      assert.equal(onZhihu(w, title).count, 1);
    }
  });

  test("a renamed file keeps its article: with write-back through its front matter, without by its content", async (t) => {
    const w = await zhihuWorld(t);
    const run = cli(w);
    // With write-back (the default): the URL travels in the file.
    w.writeArticle("old.md", article("改名有回写"));
    assert.equal((await run(["publish", "old.md"])).code, 0);
    renameSync(join(w.docs, "old.md"), join(w.docs, "new.md"));
    writeFileSync(
      join(w.docs, "new.md"),
      readFileSync(join(w.docs, "new.md"), "utf8").replace("正文。", "改过了。"),
    );
    const edited = await run(["publish", "new.md"]);
    assert.equal(edited.code, 0, edited.stdout + edited.stderr);
    const withWb = onZhihu(w, "改名有回写");
    assert.equal(withWb.count, 1, "an update, not a second article");
    assert.equal(withWb.publishes, 2);
    // Without write-back: the database finds it by the content the gone file had.
    w.writeArticle("x.md", article("改名无回写"));
    assert.equal((await run(["publish", "x.md", "--no-write-back"])).code, 0);
    renameSync(join(w.docs, "x.md"), join(w.docs, "y.md"));
    const since = w.sim.lastSeq;
    const moved = await run(["publish", "y.md", "--no-write-back"]);
    assert.equal(moved.code, 0, moved.stdout + moved.stderr);
    assert.match(moved.stderr, /y\.md was published from .*x\.md, which is gone: it keeps its article/);
    assert.match(moved.stdout, /unchanged since/);
    assert.equal(publishCalls(w, since), 0);
    writeFileSync(join(w.docs, "y.md"), article("改名无回写", "新内容。"));
    assert.equal((await run(["publish", "y.md", "--no-write-back"])).code, 0);
    assert.deepEqual(
      { count: onZhihu(w, "改名无回写").count, publishes: onZhihu(w, "改名无回写").publishes },
      { count: 1, publishes: 2 },
    );
  });

  test("zhihu: in the front matter: this account's article is updated; another's or an unknown one is refused, nothing written", async (t) => {
    const w = await zhihuWorld(t, { accounts: ["work", "other"] });
    const run = cli(w);
    w.writeArticle("theirs.md", article("别人的文章"));
    assert.equal((await run(["publish", "theirs.md", "--account", "other"])).code, 0);
    const theirs = onZhihu(w, "别人的文章").ids[0]!;
    w.writeArticle("mine.md", article("我的文章"));
    assert.equal((await run(["publish", "mine.md", "--account", "work", "--no-write-back"])).code, 0);
    const mine = onZhihu(w, "我的文章").ids[0]!;

    // A copy in another folder that names the article in its front matter updates that article.
    const copy = `---\ntitle: 我的文章\ntopics: [写作]\nzhihu: https://zhuanlan.zhihu.com/p/${mine}\n---\n\n新版本。\n`;
    w.writeArticle("copy/mine.md", copy);
    const updated = await run(["publish", "copy/mine.md", "--account", "work"]);
    assert.equal(updated.code, 0, updated.stdout + updated.stderr);
    assert.equal(onZhihu(w, "我的文章").count, 1);
    assert.equal(onZhihu(w, "我的文章").publishes, 2);

    const before = w.sim.lastSeq;
    w.writeArticle("wrong.md", `---\ntitle: 冒名\ntopics: [写作]\nzhihu: ${theirs}\n---\n\n x\n`);
    const foreign = await run(["publish", "wrong.md", "--account", "work"]);
    assert.equal(foreign.code, 2);
    assert.match(
      foreign.stderr,
      new RegExp(`wrong\\.md:4: article ${theirs} belongs to .*, not to account work`),
    );
    w.writeArticle(
      "gone.md",
      `---\ntitle: 不存在\ntopics: [写作]\nzhihu_id: 1999999999999999999\n---\n\n x\n`,
    );
    const unknown = await run(["publish", "gone.md", "--account", "work"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /gone\.md:4: article 1999999999999999999 does not exist on Zhihu/);
    assert.equal(w.sim.writes(undefined, { since: before }).length, 0, "nothing written on Zhihu");
    assert.equal((await w.store.tasks.list()).length, 3, "nothing enqueued");
  });

  test("an unchanged file is not published again; --force does; removed topics are unbound", async (t) => {
    const w = await zhihuWorld(t);
    const run = cli(w);
    w.writeArticle("u.md", `---\ntitle: 不变\ntopics: [写作, 编程]\n---\n\n正文。\n`);
    assert.equal((await run(["publish", "u.md"])).code, 0);
    const since = w.sim.lastSeq;
    const same = await run(["publish", "u.md"]);
    assert.equal(same.code, 0);
    assert.match(same.stdout, /u\.md: unchanged since https:\/\/zhuanlan\.zhihu\.com\/p\/\d+; nothing to do/);
    assert.equal(w.sim.requests(undefined, { since }).length, 0, "not one request to Zhihu");
    const forced = await run(["publish", "u.md", "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(publishCalls(w, since), 1);
    // Topics removed from the front matter leave the article.
    const text = readFileSync(join(w.docs, "u.md"), "utf8").replace("topics: [写作, 编程]", "topics: [写作]");
    writeFileSync(join(w.docs, "u.md"), text);
    assert.equal((await run(["publish", "u.md"])).code, 0);
    const [a] = w.sim.articles().filter((x) => x.title === "不变");
    assert.deepEqual(a!.topics, ["写作"]);
    assert.equal(onZhihu(w, "不变").count, 1);
  });

  test("draft: true is refused naming the key; --draft saves it into a Zhihu draft without publishing", async (t) => {
    const w = await zhihuWorld(t);
    const run = cli(w);
    w.writeArticle("d.md", `---\ntitle: 草稿\ntopics: [写作]\ndraft: true\n---\n\n还没写完。\n`);
    const refused = await run(["publish", "d.md"]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /d\.md:4: the front matter says draft: true — it is a draft; save it into a Zhihu draft with --draft/,
    );
    assert.equal(w.sim.articles().length, 0);
    const saved = await run(["publish", "d.md", "--draft"]);
    assert.equal(saved.code, 0, saved.stdout + saved.stderr);
    assert.match(saved.stdout, /succeeded\s+https:\/\/zhuanlan\.zhihu\.com\/p\/\d+\/edit/);
    const [a] = w.sim.articles();
    assert.equal(a!.state, "draft", "not published");
    assert.doesNotMatch(
      readFileSync(join(w.docs, "d.md"), "utf8"),
      /^zhihu:/m,
      "a draft is not written back",
    );
  });

  test("write-back into a CRLF file with a BOM: byte for byte the same but for the one new line", async (t) => {
    const w = await zhihuWorld(t);
    const run = cli(w);
    const original = "\ufeff---\r\ntitle: 回写\r\ntopics: [写作]\r\n---\r\n\r\n第一段。\r\n\r\n第二段。\r\n";
    w.writeArticle("crlf.md", original);
    const r = await run(["publish", "crlf.md"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [a] = w.sim.articles();
    const line = `zhihu: https://zhuanlan.zhihu.com/p/${a!.id}\r\n`;
    const expected = original.replace("topics: [写作]\r\n", `topics: [写作]\r\n${line}`);
    assert.deepEqual(readFileSync(join(w.docs, "crlf.md")), Buffer.from(expected, "utf8"));
    assert.match(r.stdout, /recorded "zhihu: https:\/\/zhuanlan\.zhihu\.com\/p\/\d+" in crlf\.md/);
    // The written file is the same article from now on, wherever it goes.
    const since = w.sim.lastSeq;
    assert.match((await run(["publish", "crlf.md"])).stdout, /unchanged since/);
    assert.equal(publishCalls(w, since), 0);
  });
});
