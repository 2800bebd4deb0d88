import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UsageError } from "../src/errors.js";
import { openConnection, openStore } from "../src/store/db.js";
import { MIGRATIONS, migrate, SCHEMA_VERSION } from "../src/store/migrations.js";
import type { NewTask } from "../src/store/tasks.js";
import { TransitionRefused } from "../src/store/tasks.js";
import { tempDir } from "./helpers/run.js";
import { testStore } from "./helpers/store.js";

const task = (over: Partial<NewTask> = {}): NewTask => ({
  platform: "fake",
  account: "a",
  file: "/tmp/a.md",
  contentHash: "h",
  title: "T",
  runAt: Date.now() - 1,
  maxAttempts: 3,
  ...over,
});

test("a new database gets every migration, WAL, durable commits and foreign keys", (t) => {
  const home = tempDir(t);
  const store = openStore(home);
  store.close();
  const db = openConnection(join(home, "topn.db"));
  t.after(() => db.close());
  assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(db.pragma("synchronous", { simple: true }), 2, "synchronous=FULL");
  assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").pluck().all();
  assert.deepEqual(tables, ["accounts", "articles", "task_events", "tasks"]);
});

test("a database at the previous schema is upgraded and keeps its rows", (t) => {
  const home = tempDir(t);
  const db = openConnection(join(home, "topn.db"));
  migrate(db, SCHEMA_VERSION - 1);
  db.prepare(
    `INSERT INTO tasks (platform, account, file, content_hash, title, status, run_at, created_at, updated_at)
     VALUES ('zhihu', 'a', '/x.md', 'h', 'Old', 'failed', 1, 1, 1)`,
  ).run();
  db.close();
  const store = openStore(home);
  t.after(() => store.close());
  const old = store.tasks.get(1)!;
  assert.equal(old.title, "Old");
  assert.equal(old.status, "failed");
  assert.deepEqual(old.state, {});
  assert.equal(old.forceNew, false);
  assert.equal(MIGRATIONS.length, SCHEMA_VERSION);
});

test("a database from a newer topn is refused and left byte-for-byte untouched", (t) => {
  const home = tempDir(t);
  openStore(home).close();
  const db = openConnection(join(home, "topn.db"));
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  const before = readFileSync(join(home, "topn.db"));
  assert.throws(
    () => openStore(home),
    (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /newer topn/);
      assert.match(e.hint ?? "", /upgrade topn/);
      return true;
    },
  );
  assert.deepEqual(readFileSync(join(home, "topn.db")), before);
});

test("enqueue is all or nothing", (t) => {
  const { store } = testStore(t);
  const bad = { ...task(), title: null as unknown as string };
  assert.throws(() => store.tasks.enqueue([task(), bad]));
  assert.equal(store.tasks.list().length, 0);
  const ids = store.tasks.enqueue([task(), task({ file: "/tmp/b.md" })]);
  assert.equal(ids.length, 2);
  assert.equal(store.tasks.events(ids[0]!)[0]!.status, "queued");
});

test("claims skip an account that has a running task, and the database refuses a second one", (t) => {
  const { store } = testStore(t);
  const [a1, a2, b1] = store.tasks.enqueue([
    task(),
    task({ file: "/2" }),
    task({ account: "b", file: "/3" }),
  ]);
  const first = store.tasks.claim("o1", 60_000)!;
  assert.equal(first.id, a1);
  assert.equal(first.attempts, 1);
  const second = store.tasks.claim("o2", 60_000)!;
  assert.equal(second.id, b1, "account a is busy, so b's task is next");
  assert.equal(store.tasks.claim("o3", 60_000), undefined);
  // Even a hand-written update cannot break the one-running-per-account rule.
  const raw = openConnection(store.path);
  t.after(() => raw.close());
  assert.throws(
    () => raw.prepare("UPDATE tasks SET status='running' WHERE id=?").run(a2),
    /UNIQUE constraint failed/,
  );
});

test("writes after a claim need the lease; a lost lease records nothing", (t) => {
  const { store } = testStore(t);
  const [id] = store.tasks.enqueue([task()]);
  store.tasks.claim("owner-1", 60_000);
  assert.equal(store.tasks.heartbeat(id!, "intruder", 60_000), false);
  assert.equal(store.tasks.checkpoint(id!, "intruder", { checkpoint: "x", draftId: "d" }), false);
  assert.equal(store.tasks.succeed(id!, "intruder", { url: "u", articleId: "d" }), undefined);
  assert.equal(store.tasks.get(id!)!.draftId, null);
  assert.ok(store.tasks.checkpoint(id!, "owner-1", { checkpoint: "draft_created", draftId: "d1" }));
  const done = store.tasks.succeed(id!, "owner-1", { url: "https://x/p/d1", articleId: "d1" })!;
  assert.equal(done.status, "succeeded");
  assert.deepEqual(store.tasks.articleFor("fake", "a", "/tmp/a.md"), {
    articleId: "d1",
    url: "https://x/p/d1",
  });
});

test("expired leases go back to the queue with the attempt counted; out of attempts they fail", (t) => {
  const { store } = testStore(t);
  const [id] = store.tasks.enqueue([task({ maxAttempts: 2 })]);
  const now = Date.now();
  store.tasks.claim("gone:1:x", 1000, { now });
  assert.deepEqual(
    store.tasks.recover(() => false, now + 500),
    [],
    "lease still live",
  );
  const [back] = store.tasks.recover(() => false, now + 1001);
  assert.equal(back!.status, "queued");
  assert.equal(back!.attempts, 1);
  assert.match(store.tasks.events(id!).at(-1)!.message, /recovered/);
  store.tasks.claim("gone:2:y", 1000, { now: now + 2000 });
  const [failed] = store.tasks.recover((o) => o === "gone:2:y", now + 2001);
  assert.equal(failed!.status, "failed");
  assert.equal(failed!.errorKind, "interrupted");
});

test("retry and cancel refuse impossible transitions and change nothing", (t) => {
  const { store } = testStore(t);
  const [q, r] = store.tasks.enqueue([task(), task({ account: "b", file: "/b" })]);
  store.tasks.claim("o", 60_000, { only: [r!] });
  assert.throws(() => store.tasks.retry([q!]), TransitionRefused);
  assert.throws(() => store.tasks.retry([r!]), /running/);
  assert.throws(() => store.tasks.cancel([q!, r!]), /running/);
  assert.equal(store.tasks.get(q!)!.status, "queued", "all or nothing");
  assert.equal(store.tasks.cancel([q!])[0]!.status, "cancelled");
  assert.throws(() => store.tasks.cancel([q!]), /cancelled/);
  assert.equal(store.tasks.retry([q!])[0]!.status, "queued");
  assert.throws(() => store.tasks.retry([999]), /does not exist/);
});
