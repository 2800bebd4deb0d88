// `topn sync` as cron and CI see it, with the fake platform (no browser): exit codes, plain timestamped lines,
// --json, --no-wait, and pacing that trickles a backlog out instead of sending it at once.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FAKE_PLATFORM, topn } from "./helpers/run.js";
import { fakeHome } from "./helpers/store.js";

async function setup(t: { after(fn: () => void | Promise<void>): void }) {
  const { home, dir, store, run: topn } = await fakeHome(t, { folder: "topn-sync-" });
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    topn(["sync", ...args, "--platform", "fake"], extra);
  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  return { home, dir, store, run, write };
}

const post = (title: string, date: string) =>
  `---\ntitle: ${title}\ndate: ${date}\ntopics: [测试]\n---\n\nBody of ${title}.\n`;
const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z /;

test("exit 2 when nothing could run: a missing folder, a file, a folder of invalid files", async (t) => {
  const s = await setup(t);
  const missing = await s.run(["nope"]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim(), "topn: nope: no such folder; check the path");

  s.write("posts/one.md", "no title at all\n");
  s.write("posts/two.md", "---\ntitle: [unclosed\n---\nbody\n");
  const invalid = await s.run(["posts"]);
  assert.equal(invalid.code, 2, invalid.stderr);
  assert.match(invalid.stderr, /topn: posts\/one\.md:1: the article has no title; add "title: …"/);
  assert.match(invalid.stderr, /topn: posts\/two\.md:\d+: front matter is not valid YAML/);
  assert.equal((await s.store.tasks.list()).length, 0);
});

test("off a terminal every line starts with the time; the plan comes first; oldest files first", async (t) => {
  const s = await setup(t);
  s.write("posts/b.md", post("Bee", "2021-01-01"));
  s.write("posts/a.md", post("Ay", "2022-01-01"));
  s.write("posts/old/c.md", post("Sea", "2020-01-01"));
  const r = await s.run(["posts"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  for (const l of lines) assert.match(l, STAMP, l);
  assert.match(lines[0]!, /new {2}posts\/old\/c\.md {2}"Sea" {2}publish now$/);
  assert.match(r.stdout, /plan: 3 new/);
  assert.match(lines.at(-1)!, /sync: 3 published$/);
  const tasks = (await s.store.tasks.list()).sort((a, b) => a.id - b.id);
  assert.deepEqual(
    tasks.map((x) => x.title),
    ["Sea", "Bee", "Ay"],
    "published oldest first",
  );
  assert.ok(tasks.every((x) => x.status === "succeeded"));
});

test("pacing: a backlog trickles out; the summary says when the rest runs; exit 0", async (t) => {
  const s = await setup(t);
  for (let i = 1; i <= 4; i++) s.write(`posts/p${i}.md`, post(`Post ${i}`, `2020-0${i}-01`));
  const r = await s.run(["posts"], { TOPN_GAP: "1h" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /pacing for account main: one publish every 3600 s/);
  const tasks = (await s.store.tasks.list()).sort((a, b) => a.id - b.id);
  assert.deepEqual(
    tasks.map((x) => x.status),
    ["succeeded", "queued", "queued", "queued"],
  );
  assert.match(
    r.stdout,
    /#2 posts\/p2\.md {2}queued {2}held: pacing \(the account published recently\); runs at \d{4}-\d{2}-\d{2} \d{2}:\d{2}/,
  );
  assert.match(r.stdout, /sync: 1 published, 3 queued \(next at \d{4}-\d{2}-\d{2} \d{2}:\d{2}: pacing/);

  // The next sync does not queue them again, and sends nothing while pacing holds them.
  const again = await s.run(["posts"], { TOPN_GAP: "1h" });
  assert.equal(again.code, 0, again.stderr);
  // (p1 may be queued again as an update: the fake platform records the file's hash as its digest.)
  const held = (await s.store.tasks.list()).filter((x) => !x.file.endsWith("p1.md"));
  assert.deepEqual(
    held.map((x) => [x.title, x.status]).sort(),
    [
      ["Post 2", "queued"],
      ["Post 3", "queued"],
      ["Post 4", "queued"],
    ],
    "the queued files are not enqueued twice",
  );
});

test("--no-wait only enqueues; --json says every file's fate; --dry-run enqueues nothing", async (t) => {
  const s = await setup(t);
  s.write("posts/a.md", post("Ay", "2020-01-01"));
  s.write("posts/later.md", post("Later", "2099-06-01"));
  s.write("posts/wip.md", "---\ntitle: WIP\ndraft: true\n---\nx\n");

  const dry = await s.run(["posts", "--dry-run", "--json"]);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout);
  assert.equal(plan.dry_run, true);
  assert.deepEqual(
    plan.files.map((f: { status: string }) => f.status),
    ["new", "new", "draft"],
  );
  assert.equal(plan.files[1].run_at, "2099-06-01T00:00:00.000Z", "a future date schedules the file");
  assert.equal((await s.store.tasks.list()).length, 0);

  const queued = await s.run(["posts", "--no-wait"]);
  assert.equal(queued.code, 0, queued.stderr);
  const tasks = await s.store.tasks.list();
  assert.equal(tasks.length, 2);
  assert.ok(tasks.every((x) => x.status === "queued"));

  const json = await s.run(["posts", "--json", "--at", "2098-01-01 09:00"]);
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout);
  assert.deepEqual(Object.keys(out), ["dry_run", "files", "counts", "tasks", "exit"]);
  assert.deepEqual(out.counts, {
    new: 0,
    changed: 0,
    queued: 2,
    unchanged: 0,
    draft: 1,
    invalid: 0,
    deleted: 0,
  });
  // --at says when, whatever the dates: the queued tasks follow it.
  assert.ok(
    out.tasks.every((x: { run_at: string }) => x.run_at === new Date(2098, 0, 1, 9, 0).toISOString()),
  );
});

test("--help lists sync with its flags and exit codes", async () => {
  const r = await topn(["sync", "--help"]);
  assert.equal(r.code, 0);
  for (const flag of [
    "--account",
    "--dry-run",
    "--at",
    "--no-wait",
    "--json",
    "--no-write-back",
    "--concurrency",
  ])
    assert.ok(r.stdout.includes(flag), flag);
  assert.match(
    r.stdout,
    /Exit 0: in sync or queued; 1: something failed or is invalid;\s+2: nothing could run/,
  );
  assert.match((await topn(["--help"])).stdout, /sync \[options\] <dirs\.\.\.>/);
});

test("topn publish links [[Note]] to a note beside the file that has an article", async (t) => {
  const s = await setup(t);
  s.write("b.md", post("Bee", "2020-01-01"));
  s.write("a.md", `${post("Ay", "2020-01-01")}\nSee [[b]] and [[c]].\n`);
  const publish = (file: string) =>
    topn(["publish", file, "--platform", "fake"], {
      env: { TOPN_HOME: s.home, TOPN_EXTRA_PLATFORM: FAKE_PLATFORM, TOPN_GAP: "0", TOPN_CAP: "0" },
      cwd: s.dir,
      tsx: true,
    });
  assert.equal((await publish("b.md")).code, 0);
  const r = await publish("a.md");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /a\.md:\d+: wiki link \[\[c\]\] names no note in the folders being published/);
  const [task] = (await s.store.tasks.list()).filter((x) => x.title === "Ay");
  const b = (await s.store.tasks.list()).find((x) => x.title === "Bee")!;
  assert.deepEqual(
    (task!.state.render as { links: unknown }).links,
    { b: b.url },
    "the job renders the same link",
  );
});
