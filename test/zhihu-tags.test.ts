// Hugo/Jekyll `tags` offered as topics: the ones Zhihu knows are bound, the others left out with a warning,
// never a failed task; an update keeps the article equal to the file, tags included.
import assert from "node:assert/strict";
import { test } from "node:test";
import { zhihuWorld } from "./helpers/zhihu.js";

test("tags: known ones bound, unknown and past-the-cap ones warned about, removed ones unbound", async (t) => {
  const w = await zhihuWorld(t);
  const file = w.writeArticle(
    "tags.md",
    "---\ntitle: 标签\ntags: [Python, 没有这个话题, 写作, 编程, SQLite]\n---\n\nTagged.\n",
  );
  const logs: string[] = [];
  const onEvent = (e: { type: string; message?: string }) => e.type === "progress" && logs.push(e.message!);
  const first = await w.enqueue(file, "work");
  await w.run([first], { onEvent });
  assert.equal(w.task(first).status, "succeeded", w.task(first).errorMessage ?? "");
  assert.deepEqual(w.sim.articles()[0]?.topics, ["Python", "写作", "编程"]);
  assert.ok(logs.includes('warning: tag "没有这个话题" is not a Zhihu topic: left out'), logs.join("\n"));
  assert.ok(logs.includes('warning: tag "SQLite" left out: Zhihu takes at most 3 topics'), logs.join("\n"));

  // Tags edited: the one dropped is unbound, a new one bound; then topics: replace the tags altogether.
  w.writeArticle("tags.md", "---\ntitle: 标签\ntags: [写作, SQLite]\n---\n\nTagged.\n");
  const second = await w.enqueue(file, "work");
  await w.run([second]);
  assert.equal(w.task(second).status, "succeeded", w.task(second).errorMessage ?? "");
  assert.deepEqual([...w.sim.articles()[0]!.topics].sort(), ["SQLite", "写作"].sort());

  w.writeArticle("tags.md", "---\ntitle: 标签\ntopics: [编程]\ntags: [写作]\n---\n\nTagged.\n");
  const third = await w.enqueue(file, "work");
  await w.run([third]);
  assert.equal(w.task(third).status, "succeeded", w.task(third).errorMessage ?? "");
  assert.deepEqual(w.sim.articles()[0]?.topics, ["编程"], "topics win; tags are only offered without them");
  assert.equal(w.sim.articles().length, 1);
});
