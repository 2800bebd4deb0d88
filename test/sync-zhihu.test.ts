// `topn sync` as a person runs it from cron: real topn processes, real Chromium, the Zhihu simulator. What
// Zhihu received is read from the simulator (its articles and its request log), never from topn's word.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, test } from "node:test";
import { collect, spawnTopn, topn, waitFor } from "./helpers/run.js";
import { type ZhihuWorld, zhihuWorld } from "./helpers/zhihu.js";

const post = (fm: Record<string, string>, body: string): string =>
  `---\n${Object.entries(fm)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n---\n\n${body}\n`;

/** The folder of the issue: 12 Markdown files, nested, with every kind of file a sync meets. */
function writeFolder(root: string): void {
  const files: Record<string, string> = {
    "2019/first.md": post({ title: "第一篇", date: "2019-01-01", topics: "[编程]" }, "The oldest post."),
    "2019/second.md": post({ title: "第二篇", date: "2019-06-01", topics: "[编程]" }, "Second, version 1."),
    "2020/third.md": post({ title: "第三篇", date: "2020-01-01", tags: "[Python, 没有这个话题]" }, "Tagged."),
    "2021/fourth.md": post({ title: "第四篇", date: "2021-01-01", topics: "[写作]" }, "To be deleted."),
    "notes/a/Note.md": post({ title: "笔记甲", topics: "[写作]" }, "Note A."),
    "notes/b/Note.md": post({ title: "笔记乙", topics: "[写作]" }, "Note B."),
    "notes/a/links.md": post(
      { title: "链接", topics: "[写作]" },
      "See [[Note]] and [[b/Note|the other one]] and [[Nowhere]].",
    ),
    "deep/er/nested.md": post({ title: "很深", topics: "[编程]" }, "Nested."),
    "draft.md": post({ title: "草稿", draft: "true", topics: "[写作]" }, "Not yet."),
    "invalid.md": "No front matter and no heading: this article has no title.\n",
    "future.md": post({ title: "未来", date: "2099-01-01T09:00:00Z", topics: "[写作]" }, "Later."),
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  // The twelfth file: a symlink to the first (one article for both).
  symlinkSync(join(root, "2019/first.md"), join(root, "first-link.md"));
  // Not articles: a hidden folder, a file the .topnignore names, a folder the .gitignore names.
  mkdirSync(join(root, ".obsidian"));
  writeFileSync(join(root, ".obsidian/workspace.md"), post({ title: "hidden" }, "no"));
  writeFileSync(join(root, "README.md"), post({ title: "readme" }, "no"));
  writeFileSync(join(root, ".topnignore"), "README.md\n");
  mkdirSync(join(root, "build"));
  writeFileSync(join(root, "build/out.md"), post({ title: "built" }, "no"));
  writeFileSync(join(root, ".gitignore"), "build/\n");
}

/** Every file's bytes, by path: "the folder did not change" is this, equal before and after. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile())
        out[relative(root, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(root);
  return out;
}

async function login(w: ZhihuWorld): Promise<void> {
  const r = await topn(["login", "zhihu", "--account", "work", "--cookies", "-"], {
    env: w.env,
    input: w.accounts.get("work")!.cookieHeader,
  });
  assert.equal(r.code, 0, r.stderr);
}

const published = (w: ZhihuWorld) =>
  w.sim.articles({ account: "work" }).filter((a) => a.state === "published");
const byTitle = (w: ZhihuWorld, title: string) =>
  w.sim.articles({ account: "work" }).find((a) => a.title === title);
const stdoutLines = (s: string) => s.split("\n").filter((l) => l.trim() !== "");

describe("topn sync against the simulator", { concurrency: false }, () => {
  test("first sync publishes each file once; the second sends nothing; edit, rename, delete: one update", async (t) => {
    const w = await zhihuWorld(t);
    await login(w);
    const root = join(w.docs, "posts");
    writeFolder(root);
    const sync = (...args: string[]) => topn(["sync", "posts", ...args], { env: w.env, cwd: w.docs });

    // --- first sync ---
    const first = await sync();
    assert.equal(first.code, 1, `an invalid file makes the run exit 1\n${first.stdout}\n${first.stderr}`);
    const articles = published(w);
    const titles = articles.map((a) => a.title).sort();
    assert.deepEqual(
      titles,
      ["很深", "第一篇", "第三篇", "第二篇", "第四篇", "笔记乙", "笔记甲", "链接"].sort(),
      "one article per distinct publishable file; the symlink adds none; nothing ignored was published",
    );
    assert.equal(w.sim.articleCounts().work, 8, "no stray drafts either");
    for (const a of articles) assert.equal(a.publishCount, 1, `${a.title} published once`);
    assert.match(first.stdout, /draft\s+posts\/draft\.md.*draft: true/);
    assert.match(first.stdout, /new\s+posts\/future\.md.*scheduled for 2099-01-01/);
    assert.match(first.stderr, /topn: posts\/invalid\.md:1: the article has no title; add "title: …"/);
    assert.match(first.stdout, /sync: 8 published, 1 scheduled .*1 draft, 1 invalid/);
    assert.doesNotMatch(first.stdout + first.stderr, /README|build\/out|\.obsidian/);

    // Oldest first: the dated posts went out in date order, before the undated ones.
    const tasks = (await w.store.tasks.list()).sort((a, b) => a.id - b.id);
    const order = tasks.map((x) => relative(root, x.file));
    assert.deepEqual(order.slice(0, 4), [
      "2019/first.md",
      "2019/second.md",
      "2020/third.md",
      "2021/fourth.md",
    ]);

    // Tags: the one Zhihu knows is bound, the other is left out with a warning, and the task succeeded.
    assert.deepEqual(byTitle(w, "第三篇")?.topics, ["Python"]);
    assert.match(first.stdout, /third\.md.*warning: tag "没有这个话题" is not a Zhihu topic: left out/);

    // Wiki links: [[Note]] is the note beside the file, [[b/Note|…]] the other one; both were published
    // before links.md, so its first publish already links them. [[Nowhere]] stays text, with a warning.
    const noteA = byTitle(w, "笔记甲")!;
    const noteB = byTitle(w, "笔记乙")!;
    const links = byTitle(w, "链接")!;
    assert.match(links.html, new RegExp(`<a href="https://zhuanlan.zhihu.com/p/${noteA.id}">Note</a>`));
    assert.match(
      links.html,
      new RegExp(`<a href="https://zhuanlan.zhihu.com/p/${noteB.id}">the other one</a>`),
    );
    assert.match(links.html, /and Nowhere\./);
    assert.match(first.stderr, /posts\/notes\/a\/links\.md:\d+: wiki link \[\[Nowhere\]\] names no note/);

    // Write-back: every published file names its article now.
    assert.match(
      readFileSync(join(root, "2019/second.md"), "utf8"),
      /^zhihu: https:\/\/zhuanlan\.zhihu\.com\/p\/\d+$/m,
    );

    // --- second sync: nothing to send, one line to say so ---
    const mark = w.sim.lastSeq;
    const second = await sync();
    assert.equal(second.code, 1, second.stderr);
    assert.deepEqual(w.sim.requests(undefined, { since: mark }), [], "not one request reached Zhihu");
    const lines = stdoutLines(second.stdout);
    assert.equal(lines.length, 1, second.stdout);
    assert.match(lines[0]!, /sync: nothing to do — 1 scheduled .*8 unchanged, 1 draft, 1 invalid$/);

    // --- edit one, rename one, delete one; a dry run first changes nothing anywhere ---
    const secondFile = join(root, "2019/second.md");
    writeFileSync(secondFile, readFileSync(secondFile, "utf8").replace("version 1", "version 2"));
    renameSync(join(root, "2020/third.md"), join(root, "2020/third-renamed.md"));
    rmSync(join(root, "2021/fourth.md"));

    const folderBefore = snapshot(root);
    const tasksBefore = JSON.stringify(await w.store.tasks.list());
    const articlesBefore = JSON.stringify(await w.store.tasks.articles("zhihu", "work"));
    const dryMark = w.sim.lastSeq;
    const dry = await sync("--dry-run");
    assert.equal(dry.code, 1, dry.stderr);
    assert.match(dry.stdout, /changed\s+posts\/2019\/second\.md/);
    assert.match(dry.stdout, /unchanged\s+posts\/2020\/third-renamed\.md/);
    assert.match(dry.stdout, /deleted\s+posts\/2021\/fourth\.md.*stays on Zhihu/);
    assert.match(dry.stdout, /dry run: nothing was enqueued, published or written/);
    assert.deepEqual(snapshot(root), folderBefore, "the folder is byte for byte the same");
    assert.equal(JSON.stringify(await w.store.tasks.list()), tasksBefore, "no task was added or changed");
    assert.equal(JSON.stringify(await w.store.tasks.articles("zhihu", "work")), articlesBefore);
    assert.deepEqual(w.sim.requests(undefined, { since: dryMark }), [], "the simulator heard nothing");

    const third = await sync();
    assert.equal(third.code, 1, third.stderr);
    const after = published(w);
    assert.equal(after.length, 8, "no new article: the renamed file kept its own");
    for (const a of after) assert.equal(a.publishCount, a.title === "第二篇" ? 2 : 1, `${a.title}`);
    assert.match(byTitle(w, "第二篇")!.html, /version 2/);
    assert.equal(byTitle(w, "第四篇")?.state, "published", "a deleted file's article is never unpublished");
    assert.equal(stdoutLines(third.stdout).filter((l) => /\bdeleted\s/.test(l)).length, 1, third.stdout);
    assert.match(third.stdout, /sync: 1 updated, 1 scheduled .*6 unchanged, 1 draft, 1 invalid, 1 deleted$/m);
  });

  test("kill -9 while a sync publishes, then sync again: each file is exactly one article", async (t) => {
    const w = await zhihuWorld(t);
    await login(w);
    const root = join(w.docs, "posts");
    mkdirSync(root);
    const names = ["一", "二", "三", "四"];
    for (const [i, n] of names.entries()) {
      const text = post({ title: `崩溃 ${n}`, date: `2020-0${i + 1}-01`, topics: "[编程]" }, n);
      writeFileSync(join(root, `p${i}.md`), text);
    }
    // The second file's publish call is slow: the sync is killed while Zhihu is handling it.
    w.sim.faults.set({ latencyMs: { publish: 1_500 } });
    const child = spawnTopn(["sync", "posts"], { env: w.env, cwd: w.docs });
    const exited = collect(child);
    await waitFor(
      "the second publish call",
      () => w.sim.activeCalls("work").includes("publish") && published(w).length === 1,
      { timeoutMs: 60_000 },
    );
    child.kill("SIGKILL");
    assert.equal((await exited).signal, "SIGKILL");
    await waitFor("the simulator to finish that call", () => !w.sim.activeCalls("work").includes("publish"));
    w.sim.faults.clear();

    const again = await topn(["sync", "posts"], { env: w.env, cwd: w.docs });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const mine = w.sim.articles({ account: "work" });
    assert.deepEqual(mine.map((a) => a.title).sort(), names.map((n) => `崩溃 ${n}`).sort());
    for (const a of mine) {
      assert.equal(a.state, "published");
      assert.equal(a.publishCount, 1, `${a.title} published once`);
    }
    assert.equal(w.sim.duplicateTitles().length, 0);
    // The interrupted task was resumed, not queued a second time.
    const tasks = await w.store.tasks.list();
    assert.equal(tasks.length, 4, tasks.map((x) => `${x.id} ${x.file} ${x.status}`).join("\n"));
    assert.ok(tasks.every((x) => x.status === "succeeded"));

    const mark = w.sim.lastSeq;
    const quiet = await topn(["sync", "posts"], { env: w.env, cwd: w.docs });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.deepEqual(w.sim.requests(undefined, { since: mark }), []);
    assert.match(quiet.stdout, /sync: nothing to do — 4 unchanged/);
  });
});
