// The store's contract on a real database: identity, leases, recovery, retry history, holds and pacing.
// Engine-specific checks (SQLite migrations, pragmas) are at the end.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { UsageError } from "../src/errors.js";
import { MIGRATIONS, migrate, SCHEMA_VERSION } from "../src/store/sqlite/migrations.js";
import { openConnection, openSqliteStore } from "../src/store/sqlite/open.js";
import {
  type ClaimRequest,
  EnqueueConflict,
  type Lease,
  type Outcome,
  type Store,
  TransitionRefused,
} from "../src/store/types.js";
import { bothEngines, type Engine, engines } from "./helpers/engines.js";
import { tempDir } from "./helpers/run.js";
import { enqueueIds, newTask, testStore } from "./helpers/store.js";

const ENGINES = await engines();
const both = (name: string, fn: (t: TestContext, e: Engine) => Promise<void>) =>
  bothEngines(ENGINES, name, fn);
/** What each engine says when a unique index refuses a row. */
const UNIQUE = /UNIQUE constraint failed|duplicate key value violates unique constraint/;

const NO_PACING = { gapMs: 0, dailyCap: 0 };
let tokens = 0;
const claimReq = (over: Partial<ClaimRequest> = {}): ClaimRequest => ({
  owner: "host:1:aa",
  token: `tok-${++tokens}`,
  leaseMs: 60_000,
  pacing: NO_PACING,
  ...over,
});
const outcome = (articleId: string, over: Partial<Outcome> = {}): Outcome => ({
  url: `https://zhuanlan.zhihu.com/p/${articleId}`,
  articleId,
  state: "published",
  contentHash: "h",
  digest: "d",
  ...over,
});

async function claim(store: Store, over: Partial<ClaimRequest> = {}): Promise<Lease & { task: number }> {
  const req = claimReq(over);
  const t = await store.tasks.claim(req);
  assert.ok(t, "a task was claimable");
  return { id: t.id, token: req.token, task: t.id };
}

both("enqueue is all or nothing", async (t, e) => {
  const { store } = await e.open(t);
  const bad = { ...newTask(), title: null as unknown as string };
  await assert.rejects(store.tasks.enqueue([newTask(), bad]));
  assert.equal((await store.tasks.list()).length, 0);
  const ids = await enqueueIds(store, [newTask(), newTask()]);
  assert.equal(ids.length, 2);
  assert.equal((await store.tasks.events(ids[0]!))[0]!.status, "queued");
});

both(
  "one queued or running task per article identity: a second enqueue conflicts and changes nothing",
  async (t, e) => {
    const { store, raw } = await e.open(t);
    const [first] = await enqueueIds(store, [newTask({ file: "/p/a.md" })]);
    await assert.rejects(
      store.tasks.enqueue([newTask({ file: "/p/b.md" }), newTask({ file: "/p/a.md" })]),
      (e: unknown) =>
        e instanceof EnqueueConflict && e.conflicts[0]!.index === 1 && e.conflicts[0]!.id === first,
    );
    assert.equal((await store.tasks.list()).length, 1, "b.md was rolled back with it");
    // Not atomic (sync): the conflict is reported and the others go in.
    const out = await store.tasks.enqueue([newTask({ file: "/p/b.md" }), newTask({ file: "/p/a.md" })], {
      atomic: false,
    });
    assert.deepEqual(
      out.map((o) => o.kind),
      ["queued", "active"],
    );
    // Even a hand-written insert cannot break the rule.
    await assert.rejects(
      raw(
        `INSERT INTO tasks (platform, account, file, identity, content_hash, title, status, run_at, created_at, updated_at)
       VALUES ('fake', 'a', '/p/a.md', 'path:/p/a.md', 'h', 'T', 'queued', 0, 0, 0)`,
      ),
      UNIQUE,
    );
  },
);

both(
  "after a publish the file is its article: the same content is unchanged, an edit updates it, --new makes another",
  async (t, e) => {
    const { store } = await e.open(t);
    const [id] = await enqueueIds(store, [newTask({ file: "/p/a.md", digest: "v1" })]);
    const lease = await claim(store);
    assert.ok(await store.tasks.succeed(lease, outcome("1001", { digest: "v1" })));
    assert.equal((await store.tasks.get(id!))!.status, "succeeded");

    const [same] = await store.tasks.enqueue([newTask({ file: "/p/a.md", digest: "v1" })]);
    assert.deepEqual(same, {
      kind: "unchanged",
      articleId: "1001",
      url: "https://zhuanlan.zhihu.com/p/1001",
    });
    const [forced] = await store.tasks.enqueue([newTask({ file: "/p/a.md", digest: "v1", force: true })]);
    assert.equal(forced!.kind, "queued");
    await store.tasks.cancel([forced!.kind === "queued" ? forced!.task.id : 0]);

    const [edited] = await store.tasks.enqueue([newTask({ file: "/p/a.md", digest: "v2" })]);
    assert.equal(edited!.kind, "queued");
    const update = edited!.kind === "queued" ? edited!.task : undefined;
    assert.equal(update!.identity, "article:1001");
    assert.equal(update!.draftId, "1001", "an edit updates the same article");
    assert.deepEqual(update!.state, { updates: "1001" });
    await store.tasks.cancel([update!.id]);

    const [fresh] = await store.tasks.enqueue([newTask({ file: "/p/a.md", digest: "v2", forceNew: true })]);
    assert.equal(fresh!.kind === "queued" && fresh!.task.draftId, null, "--new starts a new article");
  },
);

both(
  "a hard link or a moved file finds its article through an alias; the move is remembered",
  async (t, e) => {
    const { store } = await e.open(t);
    await enqueueIds(store, [newTask({ file: "/p/old.md", digest: "v1" })]);
    await store.tasks.succeed(await claim(store), outcome("2002", { digest: "v1" }));
    const [moved] = await store.tasks.enqueue([
      newTask({ file: "/p/new.md", digest: "v1", aliases: ["/p/old.md"] }),
    ]);
    assert.equal(moved!.kind, "unchanged");
    assert.equal((await store.tasks.articleForFile("fake", "a", ["/p/new.md"]))?.articleId, "2002");
    const [edited] = await store.tasks.enqueue([newTask({ file: "/p/new.md", digest: "v2" })]);
    assert.equal(edited!.kind === "queued" && edited!.task.identity, "article:2002");
  },
);

both("the article named in the front matter is the identity, whatever the path", async (t, e) => {
  const { store } = await e.open(t);
  const [a] = await enqueueIds(store, [newTask({ file: "/p/x.md", articleId: "3003" })]);
  assert.equal((await store.tasks.get(a!))!.identity, "article:3003");
  assert.equal((await store.tasks.get(a!))!.draftId, "3003");
  const [b] = await store.tasks.enqueue([newTask({ file: "/elsewhere/copy.md", articleId: "3003" })], {
    atomic: false,
  });
  assert.deepEqual(b, { kind: "active", id: a, status: "queued" });
});

both(
  "claims skip an account that has a running task, and the database refuses a second one",
  async (t, e) => {
    const { store, raw } = await e.open(t);
    const [a1, a2, b1] = await enqueueIds(store, [newTask(), newTask(), newTask({ account: "b" })]);
    const first = await store.tasks.claim(claimReq());
    assert.equal(first!.id, a1);
    assert.equal(first!.attempts, 1);
    const second = await store.tasks.claim(claimReq());
    assert.equal(second!.id, b1, "account a is busy, so b's task is next");
    assert.equal(await store.tasks.claim(claimReq()), undefined);
    assert.equal(
      await store.tasks.nextClaimIn({ pacing: NO_PACING }),
      null,
      "nothing claimable until one ends",
    );
    await assert.rejects(raw(`UPDATE tasks SET status='running' WHERE id=${a2}`), UNIQUE);
  },
);

both("every write after a claim needs its lease token; a lost lease records nothing", async (t, e) => {
  const { store } = await e.open(t);
  const [id] = await enqueueIds(store, [newTask({ file: "/p/l.md" })]);
  const lease = await claim(store);
  const intruder = { id: id!, token: "not-mine" };
  assert.equal(await store.tasks.heartbeat(intruder, 60_000), false);
  assert.equal(await store.tasks.checkpoint(intruder, { checkpoint: "x", draftId: "d" }), undefined);
  assert.equal(await store.tasks.succeed(intruder, outcome("d")), undefined);
  assert.equal(await store.tasks.fail(intruder, { kind: "k", step: "s", message: "m" }, "m"), undefined);
  assert.equal((await store.tasks.get(id!))!.draftId, null);
  assert.equal(await store.tasks.checkpoint(lease, { checkpoint: "draft_created", draftId: "d1" }), 1);
  const done = (await store.tasks.succeed(lease, outcome("d1")))!;
  assert.equal(done.status, "succeeded");
  assert.equal(done.leaseToken, null);
  assert.equal((await store.tasks.articleForFile("fake", "a", ["/p/l.md"]))?.articleId, "d1");
});

both(
  "recovery: an expired lease goes back with its attempt counted, never a lease in `keep`; out of attempts it fails",
  async (t, e) => {
    let now = 1_800_000_000_000;
    const { store } = await e.open(t, { clock: () => now });
    const [id] = await enqueueIds(store, [newTask({ maxAttempts: 2 })]);
    const lease = await claim(store, { owner: "gone:1:x", leaseMs: 1000 });
    now += 500;
    assert.deepEqual(await store.tasks.recover({ deadOwners: [], keep: [] }), [], "lease still live");
    now += 1000;
    assert.deepEqual(
      await store.tasks.recover({ deadOwners: [], keep: [lease.token] }),
      [],
      "our own job's lease",
    );
    const [back] = await store.tasks.recover({ deadOwners: [], keep: [] });
    assert.equal(back!.status, "queued");
    assert.equal(back!.attempts, 1);
    assert.match((await store.tasks.events(id!)).at(-1)!.message, /recovered/);
    assert.equal(await store.tasks.heartbeat(lease, 1000), false, "the old holder finds its lease gone");
    await claim(store, { owner: "gone:2:y", leaseMs: 60_000 });
    const [failed] = await store.tasks.recover({ deadOwners: ["gone:2:y"], keep: [] });
    assert.equal(failed!.status, "failed");
    assert.equal(failed!.errorKind, "interrupted");
  },
);

both(
  "retry respects history: a task superseded by a newer publish of its article is refused or skipped",
  async (t, e) => {
    const { store } = await e.open(t);
    // A fails (Zhihu flagged the account); the person publishes the file again as B, which succeeds.
    const [a] = await enqueueIds(store, [newTask({ file: "/p/s.md" })]);
    await store.tasks.fail(await claim(store), { kind: "rejected", step: "publish", message: "40352" }, "x");
    const [b] = await enqueueIds(store, [newTask({ file: "/p/s.md" })]);
    await store.tasks.succeed(await claim(store), outcome("4004"));
    await assert.rejects(
      store.tasks.retry([a!]),
      (e: unknown) =>
        e instanceof TransitionRefused &&
        e.status === "superseded" &&
        new RegExp(`task ${b}`).test(e.message),
    );
    const r = await store.tasks.retry([a!], { skipSuperseded: true });
    assert.deepEqual(r.retried, []);
    assert.equal(r.skipped[0]!.id, a);
    assert.equal((await store.tasks.get(a!))!.status, "failed", "unchanged");
  },
);

both(
  "retry --failed never queues two tasks of one article: the newest goes back, the older is skipped",
  async (t, e) => {
    const { store } = await e.open(t);
    const fail = async () =>
      store.tasks.fail(await claim(store), { kind: "transient", step: "publish", message: "502" }, "x");
    const [a] = await enqueueIds(store, [newTask({ file: "/p/twin.md" })]);
    await fail();
    const [b] = await enqueueIds(store, [newTask({ file: "/p/twin.md" })]);
    await fail();
    await assert.rejects(store.tasks.retry([a!, b!]), /superseded|older attempt/);
    const r = await store.tasks.retry(await store.tasks.failedIds(), { skipSuperseded: true });
    assert.deepEqual(
      r.retried.map((x) => x.id),
      [b],
    );
    assert.deepEqual(
      r.skipped.map((x) => x.id),
      [a],
    );
  },
);

both(
  "retry and cancel refuse impossible transitions and change nothing; cancel dismisses a failed task",
  async (t, e) => {
    const { store } = await e.open(t);
    const [q, r] = await enqueueIds(store, [newTask(), newTask({ account: "b" })]);
    await claim(store, { only: [r!] });
    await assert.rejects(store.tasks.retry([q!]), TransitionRefused);
    await assert.rejects(store.tasks.retry([r!]), /running/);
    await assert.rejects(store.tasks.cancel([q!, r!]), /running/);
    assert.equal((await store.tasks.get(q!))!.status, "queued", "all or nothing");
    assert.equal((await store.tasks.cancel([q!]))[0]!.task.status, "cancelled");
    await assert.rejects(store.tasks.cancel([q!]), /cancelled/);
    assert.equal((await store.tasks.retry([q!])).retried[0]!.status, "queued");
    await assert.rejects(store.tasks.retry([999]), /does not exist/);
    const [f] = await enqueueIds(store, [newTask({ account: "c" })]);
    await store.tasks.fail(
      await claim(store, { only: [f!] }),
      { kind: "rejected", step: "s", message: "m" },
      "m",
    );
    const [dismissed] = await store.tasks.cancel([f!]);
    assert.equal(dismissed!.was, "failed");
    assert.deepEqual(await store.tasks.failedIds(), []);
  },
);

both("an account-level failure holds the task and pauses the account; resume lets it run", async (t, e) => {
  const { store } = await e.open(t);
  const [first, second, other] = await enqueueIds(store, [newTask(), newTask(), newTask({ account: "b" })]);
  const lease = await claim(store);
  const held = await store.tasks.hold(
    lease,
    { kind: "session_expired", reason: "401", fix: "topn login fake --account a", forMs: null },
    { kind: "session_expired", step: "check session", message: "401" },
  );
  assert.equal(held!.status, "queued");
  assert.equal(held!.attempts, 0, "the attempt is refunded");
  const next = await store.tasks.claim(claimReq());
  assert.equal(next!.id, other, "account a's tasks wait");
  const [hold] = (await store.tasks.holds(NO_PACING)).filter((h) => h.account === "a");
  assert.equal(hold!.pause?.fix, "topn login fake --account a");
  assert.equal((await store.accounts.get("fake", "a"))!.sessionState, "expired");
  assert.ok(await store.accounts.resume("fake", "a"));
  assert.equal((await store.tasks.claim(claimReq()))!.id, first);
  void second;
});

both(
  "a rate limit pauses the account for Retry-After, doubled for each limit in a row; it lifts by itself",
  async (t, e) => {
    let now = 1_800_000_000_000;
    const { store } = await e.open(t, { clock: () => now });
    await enqueueIds(store, [newTask(), newTask()]);
    const pause = { kind: "rate_limited", reason: "429", fix: "wait", forMs: 10_000 };
    const failure = { kind: "rate_limited", step: "publish", message: "429" };
    await store.tasks.hold(await claim(store), pause, failure);
    assert.equal(await store.tasks.nextClaimIn({ pacing: NO_PACING }), 10_000);
    now += 10_001;
    await store.tasks.hold(await claim(store), pause, failure);
    assert.equal(await store.tasks.nextClaimIn({ pacing: NO_PACING }), 20_000, "second in a row: doubled");
    now += 20_001;
    await store.tasks.succeed(await claim(store), outcome("5005"));
    assert.equal((await store.accounts.get("fake", "a"))!.pause, null);
  },
);

both(
  "accounts.pause (a session check found it dead): its tasks wait, a timed one doubles, login lifts it",
  async (t, e) => {
    const now = 1_800_000_000_000;
    const { store } = await e.open(t, { clock: () => now });
    await enqueueIds(store, [newTask()]);
    const dead = { kind: "session_expired", reason: "401", fix: "topn login fake --account a", forMs: null };
    await store.accounts.pause("fake", "a", dead);
    assert.equal(
      await store.tasks.nextClaimIn({ pacing: NO_PACING }),
      null,
      "nothing claimable until a person acts",
    );
    const paused = (await store.accounts.get("fake", "a"))!;
    assert.deepEqual(paused.pause, {
      kind: "session_expired",
      reason: "401",
      fix: dead.fix,
      at: now,
      until: null,
    });
    assert.equal(paused.sessionState, "expired", "the listing marks the session");
    const expires = now + 90 * 86_400_000;
    await store.accounts.login({
      platform: "fake",
      name: "a",
      displayName: "A",
      uid: null,
      urlToken: null,
      sessionExpiresAt: expires,
    });
    assert.equal((await store.accounts.get("fake", "a"))!.pause, null);
    assert.equal((await store.accounts.get("fake", "a"))!.sessionExpiresAt, expires);
    const limited = { kind: "rate_limited", reason: "429", fix: "wait", forMs: 10_000 };
    await store.accounts.pause("fake", "b", limited);
    await store.accounts.pause("fake", "b", limited);
    assert.equal(
      (await store.accounts.get("fake", "b"))!.pause?.until,
      now + 20_000,
      "second in a row: doubled",
    );
  },
);

both(
  "pacing: a gap after each publish and a cap per 24 hours, with the time each held task runs",
  async (t, e) => {
    let now = 1_800_000_000_000;
    const { store } = await e.open(t, { clock: () => now });
    const pacing = { gapMs: 60_000, dailyCap: 2 };
    await enqueueIds(store, [newTask(), newTask(), newTask(), newTask({ mode: "draft" })]);
    const publishOne = async () => store.tasks.succeed(await claim(store, { pacing }), outcome(`${now}`));
    await publishOne();
    const wait = await store.tasks.nextClaimIn({ pacing });
    assert.equal(wait, 0, "the draft is not paced");
    const draft = await store.tasks.claim(claimReq({ pacing }));
    assert.equal(draft!.mode, "draft");
    await store.tasks.succeed({ id: draft!.id, token: `tok-${tokens}` }, outcome("d", { state: "draft" }));
    assert.equal(await store.tasks.nextClaimIn({ pacing }), 60_000);
    assert.equal(await store.tasks.claim(claimReq({ pacing })), undefined);
    const [hold] = await store.tasks.holds(pacing);
    assert.equal(hold!.gapUntil, now + 60_000);
    now += 60_000;
    await publishOne();
    now += 60_000;
    assert.equal(await store.tasks.claim(claimReq({ pacing })), undefined, "cap of 2 per 24 h reached");
    const [capped] = await store.tasks.holds(pacing);
    assert.equal(capped!.capUntil, 1_800_000_000_000 + 86_400_000);
    assert.equal(await store.tasks.nextClaimIn({ pacing }), 86_400_000 - 120_000);
    await store.accounts.setPacing("fake", "a", { dailyCap: 0 });
    assert.ok(await store.tasks.claim(claimReq({ pacing })), "the account's own setting wins");
  },
);

both(
  "a runner claims only accounts it holds a session for; hosts say which machine can serve which",
  async (t, e) => {
    const { store } = await e.open(t);
    await enqueueIds(store, [
      newTask({ platform: "zhihu", account: "x" }),
      newTask({ platform: "fake", account: "y" }),
    ]);
    const mine = { zhihu: ["other"] };
    const got = await store.tasks.claim(claimReq({ accounts: mine }));
    assert.equal(got!.account, "y", "platforms not listed are not restricted");
    assert.equal(await store.tasks.claim(claimReq({ accounts: mine })), undefined);
    assert.equal(await store.tasks.nextClaimIn({ accounts: mine, pacing: NO_PACING }), null);
    await store.accounts.registerHost("m1", "zhihu", ["x"]);
    const hold = (await store.tasks.holds(NO_PACING)).find((h) => h.account === "x");
    assert.deepEqual(
      hold!.hosts.map((h) => h.host),
      ["m1"],
    );
    assert.ok(await store.tasks.claim(claimReq({ accounts: { zhihu: ["x"] } })));
    // `topn accounts` lists them: a login registers its machine, a logout unregisters it.
    await store.accounts.login({
      platform: "zhihu",
      name: "x",
      displayName: null,
      uid: null,
      urlToken: null,
      sessionExpiresAt: null,
    });
    await store.accounts.setHost("m2", "zhihu", "x", true);
    assert.deepEqual((await store.accounts.get("zhihu", "x"))!.hosts.map((h) => h.host).sort(), ["m1", "m2"]);
    await store.accounts.registerHost("m1", "zhihu", []);
    assert.deepEqual(
      (await store.accounts.list("zhihu")).map((a) => a.hosts.map((h) => h.host)),
      [["m2"]],
    );
  },
);

both("prune removes finished tasks and their events, never the article records", async (t, e) => {
  let now = 1_800_000_000_000;
  const { store } = await e.open(t, { clock: () => now });
  const [done, waiting] = await enqueueIds(store, [
    newTask({ file: "/p/old.md" }),
    newTask({ account: "b" }),
  ]);
  await store.tasks.succeed(await claim(store, { only: [done!] }), outcome("6006"));
  now += 31 * 86_400_000;
  assert.deepEqual(await store.tasks.prune(30 * 86_400_000), [done]);
  assert.equal(await store.tasks.get(done!), undefined);
  assert.deepEqual(await store.tasks.events(done!), []);
  assert.ok(await store.tasks.get(waiting!));
  assert.equal((await store.tasks.articleForFile("fake", "a", ["/p/old.md"]))?.articleId, "6006");
});

both(
  "the database clock decides, not the caller's: runAt null is now, a requeue delay is added to the database's now",
  async (t, e) => {
    let now = 1_800_000_000_000;
    const { store } = await e.open(t, { clock: () => now });
    const [id] = await enqueueIds(store, [newTask()]);
    assert.equal((await store.tasks.get(id!))!.runAt, now);
    const lease = await claim(store);
    const back = await store.tasks.requeue(lease, 5_000, "retry");
    assert.equal(back!.runAt, now + 5_000);
    assert.equal(await store.tasks.nextClaimIn({ pacing: NO_PACING }), 5_000);
    now += 5_000;
    assert.equal(await store.tasks.nextClaimIn({ pacing: NO_PACING }), 0);
  },
);

// SQLite only: the file itself.

test("sqlite: a new database gets every migration, WAL, durable commits and foreign keys", async (t) => {
  const home = tempDir(t);
  await openSqliteStore(home).close();
  const db = openConnection(join(home, "topn.db"));
  t.after(() => void db.close());
  assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(db.pragma("synchronous", { simple: true }), 2, "synchronous=FULL");
  assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").pluck().all();
  assert.deepEqual(tables, ["accounts", "articles", "hosts", "publishes", "task_events", "tasks"]);
});

test("sqlite: a database at schema 2 is upgraded: rows kept, identities set, a duplicate queued task cancelled", async (t) => {
  const home = tempDir(t);
  const db = openConnection(join(home, "topn.db"));
  migrate(db, 2);
  const insert = db.prepare(
    `INSERT INTO tasks (platform, account, file, content_hash, title, status, run_at, created_at, updated_at)
     VALUES ('zhihu', 'a', ?, 'h', ?, ?, 1, 1, 1)`,
  );
  insert.run("/x.md", "Old", "failed");
  insert.run("/dup.md", "Dup 1", "queued");
  insert.run("/dup.md", "Dup 2", "queued");
  insert.run("/pub.md", "Pub", "succeeded");
  db.prepare(
    "INSERT INTO articles (platform, account, file, article_id, url, title, task_id, published_at) VALUES ('zhihu','a','/pub.md','77','u','Pub',4,1)",
  ).run();
  db.close();
  const store = openSqliteStore(home);
  t.after(() => store.close());
  const old = (await store.tasks.get(1))!;
  assert.equal(old.title, "Old");
  assert.equal(old.identity, "path:/x.md");
  assert.equal((await store.tasks.get(2))!.status, "cancelled", "the older duplicate");
  assert.equal((await store.tasks.get(3))!.status, "queued");
  assert.equal((await store.tasks.get(4))!.identity, "article:77");
  assert.equal((await store.tasks.articleForFile("zhihu", "a", ["/pub.md"]))?.articleId, "77");
  assert.equal(MIGRATIONS.length, SCHEMA_VERSION);
});

test("sqlite: a database from a newer topn is refused and left byte-for-byte untouched", async (t) => {
  const home = tempDir(t);
  await openSqliteStore(home).close();
  const db = openConnection(join(home, "topn.db"));
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  const before = readFileSync(join(home, "topn.db"));
  assert.throws(
    () => openSqliteStore(home),
    (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /newer topn/);
      assert.match(e.hint ?? "", /upgrade topn/);
      return true;
    },
  );
  assert.deepEqual(readFileSync(join(home, "topn.db")), before);
});

test("sqlite: a write that stays busy past busy_timeout is retried, not turned into a failure", async (t) => {
  const { store } = testStore(t);
  const [id] = await enqueueIds(store, [newTask()]);
  const lease = await claim(store);
  const blocker = openConnection(store.location);
  t.after(() => void blocker.close());
  blocker.pragma("busy_timeout = 0");
  blocker.exec("BEGIN IMMEDIATE");
  // Held past SQLite's own 5 s wait, released during the store's back-off.
  const release = setTimeout(() => blocker.exec("COMMIT"), 5_300);
  t.after(() => clearTimeout(release));
  assert.ok(await store.tasks.succeed(lease, outcome("7007")));
  assert.equal((await store.tasks.get(id!))!.status, "succeeded");
});
