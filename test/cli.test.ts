// The topn program as a person uses it: real processes, a real database, the fake platform.
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { SCHEMA_VERSION } from "../src/store/sqlite/migrations.js";
import { openConnection } from "../src/store/sqlite/open.js";
import { makePng } from "./fixtures/article/images.js";
import { collect, spawnTopn, tempDir, topn, waitFor } from "./helpers/run.js";
import { enqueueIds, fakeHome, newTask } from "./helpers/store.js";

async function setup(t: { after(fn: () => void | Promise<void>): void }, accounts = ["main"]) {
  const home = await fakeHome(t, { accounts });
  const write = (name: string, content: string | Buffer) => {
    writeFileSync(join(home.dir, name), content);
    return name;
  };
  return { ...home, write };
}

const article = (title: string) => `---\ntitle: ${title}\ntopics: [测试]\n---\n\n正文 body text.\n`;

test("publish runs the file in the foreground and prints its URL; tasks and show report it", async (t) => {
  const s = await setup(t);
  s.write("a.md", article("First"));
  const r = await s.run(["publish", "a.md", "--platform", "fake"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /#1 a\.md\s+running/);
  assert.match(r.stdout, /#1 a\.md\s+succeeded\s+https:\/\/fake\.example\/p\/draft-1/);

  const list = await s.run(["tasks", "--json"]);
  assert.equal(list.code, 0);
  const [task] = JSON.parse(list.stdout);
  for (const key of [
    "id",
    "status",
    "platform",
    "account",
    "file",
    "title",
    "attempts",
    "run_at",
    "created_at",
    "started_at",
    "finished_at",
    "url",
    "error",
  ]) {
    assert.ok(key in task, `tasks --json has ${key}`);
  }
  assert.equal(task.status, "succeeded");
  assert.equal(task.title, "First");
  assert.equal(task.account, "main", "the only account needs no --account");

  const shown = await s.run(["show", "1"]);
  assert.equal(shown.code, 0);
  assert.match(shown.stdout, /timeline:/);
  assert.match(shown.stdout, /draft draft-1 created/);
  assert.match(shown.stdout, /published: https:\/\/fake\.example\/p\/draft-1/);

  const table = await s.run(["tasks"]);
  assert.match(table.stdout, /First/);
});

test("publishing the same file again updates its article; --new makes another", async (t) => {
  const s = await setup(t);
  s.write("a.md", article("Once"));
  assert.equal((await s.run(["publish", "a.md", "--platform", "fake"])).code, 0);
  s.write("a.md", article("Once, edited"));
  assert.equal((await s.run(["publish", "a.md", "--platform", "fake"])).code, 0);
  assert.equal((await s.store.tasks.get(2))!.url, (await s.store.tasks.get(1))!.url, "same article");
  assert.equal((await s.run(["publish", "a.md", "--platform", "fake", "--new"])).code, 0);
  assert.notEqual((await s.store.tasks.get(3))!.url, (await s.store.tasks.get(1))!.url);
});

test("--no-wait and --at only enqueue; scheduled tasks show as scheduled and can be cancelled", async (t) => {
  const s = await setup(t);
  s.write("a.md", article("A"));
  s.write("b.md", article("B"));
  const r = await s.run(["publish", "a.md", "--platform", "fake", "--no-wait"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /task 1\s+queued/);
  const later = await s.run(["publish", "b.md", "--platform", "fake", "--at", "2099-12-01 09:00"]);
  assert.equal(later.code, 0, later.stderr);
  assert.match(later.stdout, /task 2\s+scheduled for 2099-12-01 09:00/);
  const scheduled = JSON.parse((await s.run(["tasks", "--status", "scheduled", "--json"])).stdout);
  assert.deepEqual(
    scheduled.map((x: { id: number }) => x.id),
    [2],
  );
  const again = await s.run(["publish", "b.md", "--platform", "fake"]);
  assert.equal(again.code, 2);
  assert.match(
    again.stderr,
    /b\.md is already queued as task 2; wait for it, or cancel it first: topn cancel 2/,
  );
  assert.equal((await s.run(["cancel", "2"])).code, 0);
  const once = await s.run(["run", "--once"]);
  assert.equal(once.code, 0, once.stderr);
  assert.equal((await s.store.tasks.get(1))!.status, "succeeded");
  assert.equal((await s.store.tasks.get(2))!.status, "cancelled");
});

test("a failed task can be retried; exit code 1 while it fails", async (t) => {
  const s = await setup(t);
  s.write("bad.md", article("Rejected"));
  const script = join(s.home, "script.json");
  writeFileSync(script, JSON.stringify({ "bad.md": { outcomes: ["permanent"] } }));
  const r = await s.run(["publish", "bad.md", "--platform", "fake"], { FAKE_SCRIPT: script });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /failed\s+rejected at publish: the fake platform rejected it/);
  const failed = JSON.parse((await s.run(["tasks", "--status", "failed", "--json"])).stdout);
  assert.equal(failed[0].error.kind, "rejected");
  assert.equal(failed[0].error.step, "publish");
  const retried = await s.run(["retry", "--failed"]);
  assert.equal(retried.code, 0, retried.stderr);
  const ok = await s.run(["run", "--once"]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const task = (await s.store.tasks.get(1))!;
  assert.equal(task.status, "succeeded");
  assert.equal(task.draftId, "draft-1", "the retry reused the first attempt's draft");
});

test("retry --failed skips a task whose file is gone; an explicit id retries it with a warning", async (t) => {
  const s = await setup(t);
  const script = join(s.home, "script.json");
  writeFileSync(
    script,
    JSON.stringify({ "old.md": { outcomes: ["permanent"] }, "kept.md": { outcomes: ["permanent"] } }),
  );
  s.write("old.md", article("Moved away"));
  s.write("kept.md", article("Still here"));
  const r = await s.run(["publish", "old.md", "kept.md", "--platform", "fake"], { FAKE_SCRIPT: script });
  assert.equal(r.code, 1, r.stderr);
  renameSync(join(s.dir, "old.md"), join(s.dir, "new.md"));

  const all = await s.run(["retry", "--failed"]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^task 2 queued again \(Still here\)$/m);
  assert.match(
    all.stdout,
    /^task 1 skipped: old\.md no longer exists \(publish the file where it is now; topn retry 1 forces it\)$/m,
  );
  assert.equal((await s.store.tasks.get(1))!.status, "failed");

  const one = await s.run(["retry", "1"]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(
    one.stderr.trim(),
    "topn: warning: task 1: old.md is not here; it will fail unless the runner's machine has it",
  );
  assert.equal((await s.store.tasks.get(1))!.status, "queued");
});

// Every bad input: exit 2, one line naming the thing and the fix, nothing enqueued or changed.
test("bad input is one line, exit 2, and changes nothing", async (t) => {
  const s = await setup(t, ["main", "alt"]);
  s.write("ok.md", article("Fine"));
  s.write("empty.md", "");
  s.write("binary.md", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
  s.write("gbk.md", Buffer.from([0x23, 0x20, 0xc4, 0xe3, 0xba, 0xc3, 0x0a, 0xc4, 0xe3]));
  s.write("notitle.md", "just a body, no heading\n");
  mkdirSync(join(s.dir, "folder.md"));
  const unreadable = s.write("secret.md", article("Hidden"));
  chmodSync(join(s.dir, unreadable), 0o000);
  const isRoot = process.getuid?.() === 0;

  const cases: [string[], RegExp][] = [
    [["publish", "missing.md", "--account", "main"], /missing\.md: file not found; check the path/],
    [["publish", "folder.md", "--account", "main"], /folder\.md: is a directory/],
    [["publish", "binary.md", "--account", "main"], /binary\.md: looks like a binary file/],
    [
      ["publish", "gbk.md", "--account", "main"],
      /gbk\.md:1: file is not valid UTF-8; re-save the file as UTF-8/,
    ],
    [["publish", "empty.md", "--account", "main"], /empty\.md: file is empty/],
    [["publish", "notitle.md", "--account", "main"], /notitle\.md:1: the article has no title/],
    [["publish", "ok.md", "empty.md", "--account", "main"], /empty\.md: file is empty/],
    [["publish", "ok.md"], /several fake accounts \(alt, main\); pick one with --account NAME/],
    [
      ["publish", "ok.md", "--account", "nobody"],
      /no fake account named "nobody".*topn login fake --account nobody/,
    ],
    [["publish", "ok.md", "--account", "main", "--at", "2001-01-01 09:00"], /is in the past/],
    [["publish", "ok.md", "--account", "main", "--at", "someday maybe"], /not a time topn understands/],
    [["publish", "posts/*.md", "--account", "main"], /posts\/\*\.md matches no files/],
    [["tasks", "--status", "stuck"], /argument 'stuck' is invalid/],
    [["show", "42"], /no task 42; list tasks with: topn tasks/],
    [["show", "abc"], /"abc" is not a task id/],
    [["retry", "42"], /task 42 does not exist/],
    [["cancel", "42"], /task 42 does not exist/],
    [["publish", "ok.md", "--bogus"], /unknown option '--bogus'/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ];
  if (!isRoot) cases.push([["publish", "secret.md", "--account", "main"], /secret\.md: .*permission/i]);
  for (const [args, re] of cases) {
    const r = await s.run(args[0] === "publish" ? [...args, "--platform", "fake"] : args);
    assert.equal(r.code, 2, `${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    const lines = r.stderr.trim().split("\n");
    assert.ok(lines.length <= 2, `one line (plus "nothing was enqueued"): ${r.stderr}`);
  }
  assert.equal((await s.store.tasks.list()).length, 0, "nothing was enqueued");
});

test("retrying a running task and cancelling a finished one are refused", async (t) => {
  const s = await setup(t);
  const [running, done] = await enqueueIds(s.store, [
    newTask({ account: "main", file: "/r.md", title: "R" }),
    newTask({ account: "other", file: "/d.md", title: "D" }),
  ]);
  const pacing = { gapMs: 0, dailyCap: 0 };
  await s.store.tasks.claim({ owner: "someone:1:x", token: "t1", leaseMs: 60_000, only: [running!], pacing });
  await s.store.tasks.claim({ owner: "someone:1:x", token: "t2", leaseMs: 60_000, only: [done!], pacing });
  await s.store.tasks.succeed(
    { id: done!, token: "t2" },
    { url: "u", articleId: "1", state: "published", contentHash: "h", digest: "d" },
  );
  const r = await s.run(["retry", String(running)]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /task 1 is running; wait for it to finish/);
  const c = await s.run(["cancel", String(done)]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /task 2 is succeeded; it is already published/);
  assert.equal((await s.store.tasks.get(running!))!.status, "running");
  assert.equal((await s.store.tasks.get(done!))!.status, "succeeded");
});

test("an unusable TOPN_HOME and a database from a newer topn are refused, untouched", async (t) => {
  const s = await setup(t);
  const file = join(s.dir, "plain-file");
  writeFileSync(file, "x");
  const r = await topn(["tasks"], { env: { TOPN_HOME: join(file, "home") } });
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /TOPN_HOME .* cannot be created: ENOTDIR \(part of the path is a file\); set TOPN_HOME to a folder you can write/,
  );
  const notDir = await topn(["tasks"], { env: { TOPN_HOME: file } });
  assert.equal(notDir.code, 2);
  assert.match(notDir.stderr, /is not a folder/);
  if (process.getuid?.() !== 0) {
    const ro = join(s.dir, "ro");
    mkdirSync(ro, { mode: 0o500 });
    const denied = await topn(["tasks"], { env: { TOPN_HOME: ro } });
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /not writable/);
    assert.deepEqual(readdirSync(ro), []);
  }

  const db = openConnection(join(s.home, "topn.db"));
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  const newer = await topn(["tasks"], { env: { TOPN_HOME: s.home } });
  assert.equal(newer.code, 2);
  assert.match(newer.stderr, /was written by a newer topn .*left untouched; upgrade topn/);
  assert.ok(existsSync(join(s.home, "topn.db")));
});

test("publishing without a browser on the machine is refused before anything is enqueued", async (t) => {
  const s = await setup(t);
  s.write("a.md", article("A"));
  const r = await topn(["publish", "a.md"], {
    env: { TOPN_HOME: s.home, TOPN_BROWSER: "/nonexistent/chrome" },
    cwd: s.dir,
  });
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /TOPN_BROWSER=\/nonexistent\/chrome does not exist; install one \(Debian\/Ubuntu: apt-get install chromium/,
  );
  assert.equal((await s.store.tasks.list()).length, 0);
});

test("--help lists every command and the exit codes", async () => {
  const r = await topn(["--help"]);
  assert.equal(r.code, 0);
  for (const c of [
    "publish",
    "tasks",
    "show",
    "run",
    "retry",
    "cancel",
    "login",
    "logout",
    "accounts",
    "doctor",
    "prune",
    "reschedule",
    "preview",
  ]) {
    assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`));
  }
  assert.match(r.stdout, /Exit codes:/);
  assert.match(r.stdout, /74 +a task.s outcome could not be written/);
  assert.match(r.stdout, /75 +run --once/);
});

test("--emoji and --no-captions reach preview, and the job through the task's state", async (t) => {
  const s = await setup(t);
  mkdirSync(join(s.dir, "img"));
  writeFileSync(join(s.dir, "img", "a.png"), makePng(4, 4));
  s.write("e.md", "---\ntitle: E\ntopics: [测试]\n---\n\nHi :smile:\n\n![架构图](img/a.png)\n");
  const plain = await s.run(["preview", "e.md", "-o", "plain.html"]);
  assert.equal(plain.code, 0, plain.stderr);
  const plainPage = readFileSync(join(s.dir, "plain.html"), "utf8");
  assert.match(plainPage, /Hi :smile:/);
  assert.match(plainPage, /data-caption="架构图"/);
  const flagged = await s.run(["preview", "e.md", "-o", "flagged.html", "--emoji", "--no-captions"]);
  assert.equal(flagged.code, 0, flagged.stderr);
  const page = readFileSync(join(s.dir, "flagged.html"), "utf8");
  assert.match(page, /Hi 😄/);
  assert.match(page, /data-caption=""/);

  const r = await s.run(["publish", "e.md", "--platform", "fake", "--no-wait", "--emoji", "--no-captions"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await s.store.tasks.get(1))!.state.render, { emoji: true, captions: false });
});

test("two `topn publish same.md` at the same moment: one task; the other exits 2 naming it", async (t) => {
  const s = await setup(t);
  s.write("same.md", article("Same"));
  const barrier = tempDir(t, "topn-barrier-");
  // Both processes wait at the platform's preflight until both are there, then race to the database.
  const env = { FAKE_BARRIER: `${barrier}:2` };
  const [a, b] = await Promise.all([
    s.run(["publish", "same.md", "--platform", "fake", "--no-wait"], env),
    s.run(["publish", "same.md", "--platform", "fake", "--no-wait"], env),
  ]);
  const codes = [a.code, b.code].sort();
  assert.deepEqual(codes, [0, 2], a.stdout + a.stderr + b.stdout + b.stderr);
  const loser = a.code === 2 ? a : b;
  assert.match(
    loser.stderr,
    /same\.md is already queued as task 1; wait for it, or cancel it first: topn cancel 1/,
  );
  assert.equal((await s.store.tasks.list()).length, 1);
});

test("publish in the foreground while another topn publishes for the same account: it waits its turn", async (t) => {
  const s = await setup(t);
  const script = join(s.home, "script.json");
  writeFileSync(script, JSON.stringify({ "slow.md": { delayMs: 1_500 } }));
  const log = join(s.home, "fake.log");
  s.write("slow.md", article("Slow"));
  s.write("next.md", article("Next"));
  const env = { FAKE_SCRIPT: script, FAKE_LOG: log };
  assert.equal((await s.run(["publish", "slow.md", "--platform", "fake", "--no-wait"], env)).code, 0);
  const background = spawnTopn(["run"], { env: { ...s.env, ...env }, cwd: s.dir, tsx: true });
  const stopped = collect(background);
  t.after(() => void background.kill("SIGKILL"));
  await waitFor(
    "the slow job to start",
    () => existsSync(log) && readFileSync(log, "utf8").includes('"start"'),
  );
  const fg = await s.run(["publish", "next.md", "--platform", "fake"], env);
  assert.equal(fg.code, 0, fg.stdout + fg.stderr);
  assert.match(fg.stdout, /task 2\s+succeeded/);
  assert.equal((await s.store.tasks.get(1))!.status, "succeeded", "the other runner's task finished first");
  background.kill("SIGTERM");
  assert.equal((await stopped).code, 130);
});

test("pacing in real time: the second publish of an account waits out the gap, and the wait is said", async (t) => {
  const s = await setup(t);
  s.write("p1.md", article("Paced one"));
  s.write("p2.md", article("Paced two"));
  const r = await s.run(["publish", "p1.md", "p2.md", "--platform", "fake"], { TOPN_GAP: "4s" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /waiting\s+the next task runs at/);
  const [one, two] = [(await s.store.tasks.get(1))!, (await s.store.tasks.get(2))!];
  assert.equal(two.status, "succeeded");
  assert.ok(two.startedAt! - one.finishedAt! >= 4_000, `gap ${two.startedAt! - one.finishedAt!} ms`);
});
