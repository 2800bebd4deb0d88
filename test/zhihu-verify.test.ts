// verifyArticle: before a file whose front matter names an article is enqueued, whose is that article?
// Against the simulator with real Chromium; nothing may be written on Zhihu while asking.

import assert from "node:assert/strict";
import { test } from "node:test";
import { TaskFailure, UsageError } from "../src/errors.js";
import type { Platform } from "../src/platform.js";
import { zhihuWorld } from "./helpers/zhihu.js";

const md = (title: string) => `---\ntitle: "${title}"\ntopics: [编程]\n---\n\nBody of ${title}.\n`;

test("ours (published or draft), another account's, unknown, deleted; nothing written; a dead session says so", async (t) => {
  const w = await zhihuWorld(t, { accounts: ["work", "other"] });
  const publishedBy = async (account: string, title: string) => {
    const id = await w.enqueue(w.writeArticle(`${account}-${title}.md`, md(title)), account);
    await w.run([id]);
    return w.task(id).draftId!;
  };
  const mine = await publishedBy("work", "mine");
  const theirs = await publishedBy("other", "theirs");
  const myDraft = w.sim.world.createArticle(w.sim.world.accounts.get("work")!, "my draft", "<p>x</p>").id;
  const theirDraft = w.sim.world.createArticle(
    w.sim.world.accounts.get("other")!,
    "their draft",
    "<p>x</p>",
  ).id;
  const deleted = w.sim.world.createArticle(w.sim.world.accounts.get("work")!, "gone", "<p>x</p>");
  deleted.deleted = true;

  const platform: Platform = w.platform();
  assert.ok(platform.verifyArticle, "the Zhihu platform offers verifyArticle");
  const verify = (id: string, account = "work") => platform.verifyArticle!(account, id);
  const mark = w.sim.lastSeq;
  const before = w.sim.articleCounts();

  assert.deepEqual(await verify(mine), {
    kind: "ours",
    url: `https://zhuanlan.zhihu.com/p/${mine}`,
    state: "published",
  });
  assert.deepEqual(await verify(myDraft), {
    kind: "ours",
    url: `https://zhuanlan.zhihu.com/p/${myDraft}`,
    state: "draft",
  });
  assert.deepEqual(await verify(theirs), { kind: "foreign", owner: "other" });
  // Another account's unpublished draft looks exactly like an id Zhihu never had.
  assert.deepEqual(await verify(theirDraft), { kind: "missing" });
  assert.deepEqual(await verify(deleted.id), { kind: "missing" });
  assert.deepEqual(await verify("1913000000000000001"), { kind: "missing" });
  assert.deepEqual(await verify(theirs, "other"), {
    kind: "ours",
    url: `https://zhuanlan.zhihu.com/p/${theirs}`,
    state: "published",
  });

  assert.deepEqual(w.sim.writes(undefined, { since: mark }), [], "asking wrote nothing on Zhihu");
  assert.deepEqual(w.sim.articleCounts(), before);

  await assert.rejects(verify("https://zhuanlan.zhihu.com/p/x"), (e: unknown) => {
    return e instanceof UsageError && /not a Zhihu article id/.test(e.message);
  });
  w.sim.revokeSessions("work");
  await assert.rejects(verify(mine), (e: unknown) => {
    return (
      e instanceof TaskFailure &&
      e.kind === "session_expired" &&
      /has expired/.test(e.message) &&
      /topn login zhihu --account work/.test(e.hint ?? "")
    );
  });
  await assert.rejects(verify(mine, "nobody"), (e: unknown) => {
    return e instanceof TaskFailure && e.kind === "session_expired";
  });
});
