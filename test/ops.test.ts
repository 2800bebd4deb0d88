// Running topn for months without looking (issue 11), with the fake platform: pacing set per account and
// honoured (an injected clock, and once in real time through real processes), pauses lifted by hand, a
// default account, reschedule, prune, and alerts by webhook and command that never break a run.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { TaskFailure } from "../src/errors.js";
import { type Alert, alertOfRunnerEvent } from "../src/notify/alert.js";
import { Notifier } from "../src/notify/notifier.js";
import type { Platform, TaskSnapshot } from "../src/platform.js";
import { Runner } from "../src/runner/runner.js";
import { openConnection } from "../src/store/sqlite/open.js";
import type { Task } from "../src/store/types.js";
import { formatTime } from "../src/ui/format.js";
import { holdOf } from "../src/ui/holds.js";
import { parsePacingSettings } from "../src/ui/pacing.js";
import { readFakeLog } from "./fixtures/fake-platform.js";
import { startHook } from "./helpers/hook.js";
import { collect, spawnTopn, waitFor } from "./helpers/run.js";
import { enqueueIds, fakeHome, newTask, testStore } from "./helpers/store.js";

async function setup(t: { after(fn: () => void | Promise<void>): void }, accounts = ["a"]) {
  const { home, dir, store, env, run } = await fakeHome(t, {
    accounts,
    env: (home) => ({
      FAKE_LOG: join(home, "fake.log"),
      FAKE_SCRIPT: join(home, "script.json"),
      TOPN_POLL_MS: "50",
    }),
  });
  const log = env.FAKE_LOG;
  const write = (name: string, title = name) => {
    writeFileSync(join(dir, name), `---\ntitle: ${title}\ntopics: [测试]\n---\n\nBody of ${title}.\n`);
    return name;
  };
  const script = (s: Record<string, unknown>) => writeFileSync(env.FAKE_SCRIPT, JSON.stringify(s));
  const tasks = async () => JSON.parse((await run(["tasks", "--json", "--limit", "0"])).stdout) as TaskRow[];
  return { home, dir, store, env, run, write, script, tasks, log: () => readFakeLog(log) };
}

interface TaskRow {
  id: number;
  status: string;
  account: string;
  run_at: string;
  held: { reason: string; until: string | null } | null;
}

test("accounts --set, --default and --resume", async (t) => {
  const s = await setup(t, ["a", "b"]);
  let r = await s.run(["accounts", "--set", "a", "gap=5m", "cap=20"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "account a: 5m, 20 a day\n");
  r = await s.run(["accounts", "--json"]);
  const rows = JSON.parse(r.stdout) as Array<{ name: string; pacing: unknown; default: boolean }>;
  assert.deepEqual(
    rows.map((x) => [x.name, x.pacing]),
    [
      ["a", { gap_ms: 300_000, daily_cap: 20, own: { gap_ms: 300_000, daily_cap: 20 } }],
      ["b", { gap_ms: 0, daily_cap: 0, own: { gap_ms: null, daily_cap: null } }],
    ],
  );
  r = await s.run(["accounts"]);
  assert.match(r.stdout, /^ACCOUNT\s+USER\s+SESSION\s+CHECKED\s+EXPIRES\s+PACING\s+STORED\s+MACHINES$/m);
  assert.match(r.stdout, /^fake:a\s+a\s+ok\s.*5m, 20 a day\s+-\s+-$/m);
  assert.match(r.stdout, /^fake:b\s+b\s+ok\s.*no gap, no cap\s+-\s+-$/m);
  r = await s.run(["accounts", "--set", "a", "gap=default"], { TOPN_GAP: "90s" });
  assert.equal(r.stdout, "account a: 1m30s, 20 a day\n");
  r = await s.run(["accounts", "--set", "a", "cap=default"]);
  assert.equal(r.stdout, "account a: no gap, no cap (the defaults)\n");

  for (const [args, error] of [
    [["accounts", "--set", "a", "speed=3"], /^topn: "speed=3" is not a pacing setting; write gap=5m/],
    [["accounts", "--set", "a"], /^topn: --set needs settings after the account/],
    [["accounts", "--set", "a", "gap=soon"], /^topn: gap "soon" is not a duration/],
    [["accounts", "--set", "a", "cap=-1"], /^topn: cap "-1" is not a whole number/],
    [["accounts", "gap=1m"], /^topn: unexpected "gap=1m"; settings go after --set NAME/],
    [
      ["accounts", "--set", "zed", "gap=1m"],
      /^topn: no account named "zed" \(known: a, b\); list them with: topn accounts/,
    ],
    [
      ["accounts", "--resume", "a", "--default", "b"],
      /^topn: --check, --resume, --set and --default do one thing each/,
    ],
    [["accounts", "--default", "fake:zed"], /^topn: no account named "fake:zed"/],
  ] as const) {
    r = await s.run([...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, error);
  }

  // Platforms are asked, not imported: one without logins says so.
  r = await s.run(["login", "fake"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^topn: Fake has no accounts to log in; /m);
  r = await s.run(["login", "juejin"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^topn: unknown platform "juejin"; topn knows: zhihu$/m);

  // Several accounts: a default makes --account optional.
  s.write("x.md");
  r = await s.run(["publish", "x.md", "--platform", "fake", "--no-wait"]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /several fake accounts \(a, b\); pick one with --account NAME, or set a default: topn accounts --default NAME/,
  );
  r = await s.run(["accounts", "--default", "fake:b"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "account b is now the default fake account\n");
  r = await s.run(["publish", "x.md", "--platform", "fake", "--no-wait"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await s.tasks())[0]!.account, "b");
  r = await s.run(["accounts"]);
  assert.match(r.stdout, /^fake:b \(default\)\s/m);

  // A pause lifted by hand says what it was; the account's tasks wait until then.
  r = await s.run(["accounts", "--resume", "a"]);
  assert.equal(r.stdout, "account a is not paused; nothing to do\n");
  await s.store.accounts.pause("fake", "a", {
    kind: "needs_verification",
    reason: "the fake platform wants a person",
    fix: "open https://fake.example/verify, then: topn accounts --resume a",
    forMs: null,
  });
  s.write("y.md");
  r = await s.run(["publish", "y.md", "--platform", "fake", "--account", "a", "--no-wait"]);
  assert.equal(r.code, 0, r.stderr);
  r = await s.run(["run", "--once"]);
  assert.equal(r.code, 0, r.stderr);
  r = await s.run(["tasks"]);
  assert.match(
    r.stdout,
    /^2\s+queued\s+a\s.*held: account paused, verification needed; fix: open https:\/\/fake\.example\/verify, then: topn accounts --resume a$/m,
  );
  r = await s.run(["show", "2"]);
  assert.match(r.stdout, /^ {2}runs at {3}once the hold below is lifted$/m);
  assert.match(r.stdout, /^ {2}held: account paused — the fake platform wants a person; fix: open/m);
  r = await s.run(["accounts"]);
  assert.match(
    r.stdout,
    /^a: paused since .* — the fake platform wants a person; fix: open https:\/\/fake\.example\/verify/m,
  );
  r = await s.run(["accounts", "--resume", "a"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^account a resumed; it was paused since \d{4}-\d\d-\d\d \d\d:\d\d — the fake platform wants a person$/m,
  );
  assert.match(r.stdout, /^1 queued task\(s\) of a run with the next: topn run --once$/m);
  r = await s.run(["run", "--once"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    (await s.tasks()).map((x) => [x.id, x.status]),
    [
      [2, "succeeded"],
      [1, "succeeded"],
    ],
  );
});

test("pacing with an injected clock: the words --set takes, the gap, then the 24-hour cap; each held task says when", async (t) => {
  const start = 1_800_000_000_000;
  let now = start;
  const { home, store } = testStore(t, { clock: () => now });
  const defaults = { gapMs: 60_000, dailyCap: 10 };
  await store.accounts.setPacing("fake", "a", parsePacingSettings(["gap=5m", "cap=2"]));
  const ids = await enqueueIds(store, [newTask(), newTask(), newTask()]);
  const platform: Platform = {
    name: "fake",
    publish: async (task: TaskSnapshot) => ({
      url: `u${task.id}`,
      articleId: String(task.id),
      state: "published",
      contentHash: task.contentHash,
      digest: "d",
    }),
    close: async () => {},
  };
  const runOnce = async () =>
    (
      await new Runner({
        tasks: store.tasks,
        home,
        platform: async () => platform,
        pacing: defaults,
        pollMs: 10,
      }).run({
        once: true,
      })
    ).succeeded;
  const holdLine = async (id: number) => {
    const task = (await store.tasks.get(id)) as Task;
    const hold = (await store.tasks.holds(defaults)).find((h) => h.account === task.account);
    return holdOf(task, hold, { usesSessions: false, now })?.line ?? null;
  };

  assert.deepEqual(await runOnce(), [ids[0]]);
  assert.equal(
    await holdLine(ids[1]!),
    `held: pacing (the account published recently); runs at ${formatTime(now + 300_000)}`,
  );
  now += 299_000;
  assert.deepEqual(await runOnce(), [], "5 minutes between two publishes of the account");
  now += 1_000;
  assert.deepEqual(await runOnce(), [ids[1]]);
  now += 300_000;
  assert.deepEqual(await runOnce(), [], "two a day");
  assert.equal(
    await holdLine(ids[2]!),
    `held: the account's daily cap is reached; runs at ${formatTime(start + 86_400_000)}`,
  );
  now = start + 86_400_000;
  assert.deepEqual(await runOnce(), [ids[2]]);
});

test("pacing in real time through real processes: a 5 s gap between two publishes, then a cap", async (t) => {
  const s = await setup(t);
  let r = await s.run(["accounts", "--set", "a", "gap=5s"]);
  assert.equal(r.code, 0, r.stderr);
  r = await s.run(["publish", s.write("p1.md"), s.write("p2.md"), "--platform", "fake", "--no-wait"]);
  assert.equal(r.code, 0, r.stderr);
  r = await s.run(["run", "--once"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1 succeeded, 0 failed/);
  const waiting = (await s.store.tasks.list({ status: "queued" }))[0]!;
  // Read at once, in this process: a process of its own may start after the gap has passed on a busy machine.
  const [hold] = await s.store.tasks.holds({ gapMs: 0, dailyCap: 0 });
  const first = (await s.store.tasks.list({ status: "succeeded" }))[0]!;
  assert.ok(hold?.gapUntil, "held by the gap");
  assert.ok(
    Math.abs(hold.gapUntil - (first.finishedAt! + 5_000)) < 1_000,
    `${hold.gapUntil - first.finishedAt!}`,
  );

  const child = spawnTopn(["run"], { env: s.env, cwd: s.dir, tsx: true });
  t.after(() => void child.kill("SIGKILL"));
  const done = collect(child);
  await waitFor(
    "the second publish",
    async () => (await s.store.tasks.get(waiting.id))?.status === "succeeded",
    {
      timeoutMs: 30_000,
    },
  );
  child.kill("SIGTERM");
  assert.equal((await done).code, 130);
  const log = s.log();
  const end1 = log.find((l) => l.event === "end" && l.task !== waiting.id)!.at;
  const start2 = log.find((l) => l.event === "start" && l.task === waiting.id)!.at;
  assert.ok(start2 - end1 >= 4_900, `the second started ${start2 - end1} ms after the first ended`);

  r = await s.run(["accounts", "--set", "a", "gap=0", "cap=2"]);
  assert.equal(r.stdout, "account a: no gap, 2 a day\n");
  r = await s.run(["publish", s.write("p3.md"), "--platform", "fake", "--no-wait"]);
  assert.equal(r.code, 0, r.stderr);
  r = await s.run(["run", "--once"]);
  assert.equal(r.code, 0, r.stderr);
  const capped = (await s.tasks()).find((x) => x.status === "queued")!;
  assert.match(capped.held?.reason ?? "", /^the account's daily cap is reached; runs at /);
  assert.ok(Date.parse(capped.held!.until!) > Date.now() + 86_000_000);
});

test("reschedule moves a queued task, and refuses what it cannot move", async (t) => {
  const s = await setup(t);
  let r = await s.run([
    "publish",
    s.write("later.md", "Later"),
    "--platform",
    "fake",
    "--at",
    "2099-01-01 09:00",
  ]);
  assert.equal(r.code, 0, r.stderr);
  r = await s.run(["reschedule", "1", "--at", "2099-02-01 10:30"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "task 1 rescheduled for 2099-02-01 10:30 (Later)\n");
  assert.equal((await s.tasks())[0]!.run_at, new Date(2099, 1, 1, 10, 30).toISOString());
  r = await s.run(["show", "1"]);
  assert.match(r.stdout, /rescheduled for 2099-02-01T/);

  r = await s.run(["publish", s.write("now.md", "Now"), "--platform", "fake"]);
  assert.equal(r.code, 0, r.stderr);
  for (const [args, error] of [
    [["reschedule", "2", "--at", "2099-01-01 09:00"], /^topn: task 2 is succeeded; it is already published/],
    [
      ["reschedule", "9", "--at", "2099-01-01 09:00"],
      /^topn: task 9 does not exist; list tasks with: topn tasks/,
    ],
    [["reschedule", "1", "--at", "2001-01-01 09:00"], /^topn: --at "2001-01-01 09:00" is in the past/],
    [["reschedule", "1"], /required option '--at <when>' not specified/],
  ] as const) {
    r = await s.run([...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, error);
  }
});

test("prune forgets old finished tasks and their artifacts, never which article a file became", async (t) => {
  const s = await setup(t);
  s.script({ "bad.md": { outcomes: ["permanent"] } });
  let r = await s.run(["publish", s.write("good.md"), "--platform", "fake", "--no-write-back"]);
  assert.equal(r.code, 0, r.stderr);
  r = await s.run(["publish", s.write("bad.md"), "--platform", "fake"]);
  assert.equal(r.code, 1, r.stderr);
  r = await s.run(["publish", s.write("recent.md"), "--platform", "fake", "--no-write-back"]);
  assert.equal(r.code, 0, r.stderr);
  r = await s.run(["publish", s.write("waiting.md"), "--platform", "fake", "--at", "2099-01-01 09:00"]);
  assert.equal(r.code, 0, r.stderr);
  const artifacts = join(s.home, "artifacts");
  for (const id of [2, 3]) {
    mkdirSync(join(artifacts, String(id)), { recursive: true });
    writeFileSync(join(artifacts, String(id), "page.html"), "<html>");
  }
  const db = openConnection(join(s.home, "topn.db"));
  db.prepare("UPDATE tasks SET finished_at = finished_at - 40 * 86400000 WHERE id IN (1, 2)").run();
  db.close();

  r = await s.run(["prune", "--older-than", "30d"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    "pruned 2 finished task(s) older than 30d and 1 artifact folder(s); the article records are kept\n",
  );
  assert.equal(existsSync(join(artifacts, "2")), false);
  assert.equal(existsSync(join(artifacts, "3")), true, "a recent task keeps its artifacts");
  assert.deepEqual(
    (await s.tasks()).map((x) => x.id),
    [4, 3],
  );
  // The article record outlives its task: the file still knows its article.
  const record = await s.store.tasks.articleForFile("fake", "a", [realpathSync(join(s.dir, "good.md"))]);
  assert.equal(record?.articleId, "draft-1");
  assert.equal(record?.taskId, 1);
  r = await s.run(["prune", "--older-than", "30d"]);
  assert.equal(r.stdout, "no finished task is older than 30d\n");
  r = await s.run(["prune"]);
  assert.equal(r.code, 2);
  r = await s.run(["prune", "--older-than", "a while"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--older-than "a while" is not a duration/);
});

test("run --notify and config.yaml notify: a task that fails for good is one POST and one command; a failed delivery is one line", async (t) => {
  const s = await setup(t);
  const hook = await startHook(t);
  s.script({ "bad.md": { outcomes: ["permanent"] }, "worse.md": { outcomes: ["permanent"] } });
  const out = join(s.home, "alert.json");
  let r = await s.run(["publish", s.write("bad.md", "Bad"), "--platform", "fake", "--no-wait"]);
  r = await s.run(["run", "--once", "--notify", hook.url, "--notify-cmd", `cat > '${out}'`]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(hook.bodies.length, 1);
  const alert = hook.alerts()[0] as unknown as Alert;
  assert.equal(alert.event, "task_failed");
  assert.deepEqual(alert.task, {
    id: 1,
    title: "Bad",
    file: join(s.dir, "bad.md"),
    attempts: 1,
    error: { kind: "rejected", step: "publish", message: "the fake platform rejected it" },
  });
  assert.equal(alert.fix, "see: topn show 1; then: topn retry 1");
  assert.equal(alert.text, "topn: task 1 (Bad) failed for good at publish: the fake platform rejected it");
  assert.deepEqual(Object.keys(alert).sort(), [
    "account",
    "at",
    "event",
    "fix",
    "host",
    "pause",
    "platform",
    "session",
    "task",
    "text",
    "topn",
  ]);
  await waitFor("the command's copy", () => existsSync(out));

  // The config file's notify, and deliveries that fail: said in one line each, the run's outcome unchanged.
  writeFileSync(join(s.home, "config.yaml"), `notify: ${hook.url}\nnotify_cmd: echo nope >&2; exit 3\n`);
  r = await s.run(["publish", s.write("worse.md", "Worse"), "--platform", "fake", "--no-wait"]);
  r = await s.run(["run", "--once"]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(hook.bodies.length, 2);
  assert.match(r.stderr, /^topn: notify: the notify command failed: it exited with 3: nope$/m);
  hook.status = 500;
  r = await s.run(["retry", "2"]);
  r = await s.run(["run", "--once", "--notify", "http://127.0.0.1:9/secret-path", "--notify-cmd", "true"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^topn: notify: the POST to 127\.0\.0\.1:9 failed: fetch failed/m);
  assert.doesNotMatch(r.stderr, /secret-path/);
  assert.equal((r.stderr.match(/topn: notify:/g) ?? []).length, 1);
  assert.match(r.stdout, /#2 worse\.md\s+failed/);

  r = await s.run(["run", "--once", "--notify", "ftp://example.com/x"]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^topn: the notify URL is not an http\(s\) URL \(--notify\); give the webhook's full address/m,
  );
});

test("alerts hold no secret, an account's repeated pause is sent once an hour, a dead hook is one line", async (t) => {
  const hook = await startHook(t);
  const logged: string[] = [];
  const notifier = new Notifier({ url: hook.url, cmd: null, log: (l) => logged.push(l) });
  const ticket = "2|1:0|10:1735689600|4:z_c0|92:bm90LWEtcmVhbC1zZXNzaW9uLWF0LWFsbA==|0123456789abcdef";
  const task = {
    id: 7,
    platform: "fake",
    account: "a",
    title: "T",
    file: "/p/t.md",
    attempts: 1,
    runAt: 0,
  } as Task;
  const failure = new TaskFailure("session_expired", "check session", `the server echoed z_c0=${ticket}`);
  const held = alertOfRunnerEvent(
    { type: "held", task, failure, fix: "topn login fake --account a" },
    "host1",
  );
  notifier.send(held);
  notifier.send(held);
  notifier.send(alertOfRunnerEvent({ type: "failed", task, failure }, "host1"));
  await notifier.flush();
  assert.deepEqual(
    hook.alerts().map((a) => a.event),
    ["account_paused", "task_failed"],
  );
  for (const b of hook.bodies) assert.ok(!b.includes("bm90LWEtcmVhbC1zZXNzaW9u"), b);
  assert.deepEqual(logged, []);

  hook.status = 503;
  notifier.send(alertOfRunnerEvent({ type: "failed", task: { ...task, id: 8 }, failure }, "host1"));
  await notifier.flush();
  assert.deepEqual(logged, [
    `topn: notify: the POST to ${new URL(hook.url).host} failed: it answered HTTP 503`,
  ]);
});
