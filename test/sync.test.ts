// The parts of `topn sync` that need no browser: which files a folder holds (ignore files, hidden folders),
// how old each is (git, batched), what becomes of each file, wiki links, and the exit codes.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, test } from "node:test";
import { articleDigest } from "../src/article/digest.js";
import { renderArticle } from "../src/article/index.js";
import { prepareArticle } from "../src/article/prepare.js";
import { UsageError } from "../src/errors.js";
import type { PlannedFile } from "../src/plan/plan.js";
import { WikiLinks } from "../src/plan/wikilinks.js";
import type { ArticleRecord, NewTask, Task } from "../src/store/types.js";
import { ageOf, gitCommitTimes } from "../src/sync/age.js";
import { decide, type SyncRow } from "../src/sync/decide.js";
import { discover, gitToplevel } from "../src/sync/discover.js";
import { summaryLine, syncExit } from "../src/sync/report.js";
import type { SyncOutcome } from "../src/sync/sync.js";
import { tempDir } from "./helpers/run.js";

function write(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}

const git = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  execFileSync("git", args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t",
      ...env,
    },
  });

describe("which files a folder holds", () => {
  test("**/*.md below the folder, except hidden folders, node_modules and what ignore files exclude", async (t) => {
    const repo = tempDir(t, "topn-sync-");
    git(repo, ["init", "-q"]);
    const root = join(repo, "content");
    write(repo, { ".gitignore": "content/private/\n*.tmp.md\n" });
    write(root, {
      "a.md": "a",
      "sub/b.md": "b",
      "sub/deeper/c.md": "c",
      "notes.txt": "not markdown",
      ".obsidian/x.md": "hidden",
      ".trash/y.md": "hidden",
      "node_modules/pkg/README.md": "a package",
      "private/secret.md": "ignored by the repository's .gitignore above the folder",
      "scratch.tmp.md": "ignored by pattern",
      // A nested .gitignore: its rules are relative to its own folder, and a deeper ! re-includes.
      "sub/.gitignore": "*.md\n!keep.md\n",
      "sub/keep.md": "kept",
      "sub/deeper/.topnignore": "!c.md\nd.md\n",
      "sub/deeper/d.md": "ignored by .topnignore",
      ".topnignore": "README.md\ndrafts/\n",
      "README.md": "about this folder",
      "drafts/e.md": "ignored folder",
    });
    symlinkSync(join(root, "a.md"), join(root, "z-link.md"));
    const found = await discover([root], repo);
    assert.deepEqual(
      found.files.map((f) => relative(root, f)),
      ["a.md", "sub/deeper/c.md", "sub/keep.md", "z-link.md"],
    );
    assert.equal(found.gitRoots.get(root), await gitToplevel(repo));
  });

  test("a symlinked file comes after real files, so the file is shown under its own name", async (t) => {
    const root = tempDir(t, "topn-sync-");
    write(root, { "z/real.md": "x" });
    symlinkSync(join(root, "z/real.md"), join(root, "a-link.md"));
    const found = await discover([root], root);
    assert.deepEqual(
      found.files.map((f) => relative(root, f)),
      ["z/real.md", "a-link.md"],
    );
  });

  test("a missing folder or a file is a usage error with the fix", async (t) => {
    const root = tempDir(t, "topn-sync-");
    write(root, { "post.md": "x" });
    await assert.rejects(
      discover(["nope"], root),
      (e: unknown) => e instanceof UsageError && /nope: no such folder/.test(e.message),
    );
    await assert.rejects(
      discover(["post.md"], root),
      (e: unknown) =>
        e instanceof UsageError && /is a file/.test(e.message) && /topn publish post\.md/.test(e.hint ?? ""),
    );
  });
});

describe("how old a post is", () => {
  test("git's last commit time, for every file in one git log; front-matter date first; mtime last", async (t) => {
    const repo = tempDir(t, "topn-sync-");
    git(repo, ["init", "-q"]);
    write(repo, { "posts/旧 文章.md": "old", "posts/b.md": "b1" });
    git(repo, ["add", "."]);
    git(repo, ["commit", "-qm", "one"], { GIT_COMMITTER_DATE: "2001-01-01T00:00:00Z" });
    write(repo, { "posts/b.md": "b2" });
    git(repo, ["commit", "-qam", "two"], { GIT_COMMITTER_DATE: "2002-02-02T00:00:00Z" });
    write(repo, { "posts/new.md": "not committed" });
    utimesSync(
      join(repo, "posts/new.md"),
      new Date("2003-03-03T00:00:00Z"),
      new Date("2003-03-03T00:00:00Z"),
    );

    const top = (await gitToplevel(repo))!;
    const times = await gitCommitTimes(join(top, "posts"), top);
    const old = join(top, "posts/旧 文章.md");
    const b = join(top, "posts/b.md");
    assert.equal(times.get(old), Date.parse("2001-01-01T00:00:00Z"), "a name with spaces and CJK, as is");
    assert.equal(times.get(b), Date.parse("2002-02-02T00:00:00Z"), "the last commit, not the first");
    assert.deepEqual(ageOf(b, undefined, times), { at: Date.parse("2002-02-02T00:00:00Z"), from: "git" });
    assert.deepEqual(ageOf(b, 5, times), { at: 5, from: "date" });
    assert.deepEqual(ageOf(join(top, "posts/new.md"), undefined, times), {
      at: Date.parse("2003-03-03T00:00:00Z"),
      from: "mtime",
    });
    // Not a repository: no times, and no error.
    const plain = tempDir(t, "topn-sync-");
    assert.equal(await gitToplevel(plain), null);
  });
});

// ---- decide: what becomes of each file ----

let ids = 0;
function ready(file: string, over: Partial<NewTask> = {}, date?: number): PlannedFile {
  const task: NewTask = {
    platform: "zhihu",
    account: "work",
    file,
    contentHash: `h-${file}`,
    digest: `d-${file}`,
    title: file,
    runAt: null,
    maxAttempts: 5,
    articleId: null,
    aliases: [],
    ...over,
  };
  return {
    kind: "ready",
    display: file.slice(1),
    id: { real: file, fileId: `0:${++ids}` },
    article: { title: file, date } as never,
    task,
    notes: [],
  };
}

function record(articleId: string, file: string | null, over: Partial<ArticleRecord> = {}): ArticleRecord {
  return {
    platform: "zhihu",
    account: "work",
    articleId,
    url: `https://zhuanlan.zhihu.com/p/${articleId}`,
    title: `T${articleId}`,
    file,
    digest: file === null ? null : `d-${file}`,
    contentHash: null,
    state: "published",
    taskId: null,
    publishedAt: 1,
    ...over,
  };
}

function decideWith(
  plan: PlannedFile[],
  records: ArticleRecord[],
  active: Partial<Task>[] = [],
  gone: string[] = [],
): SyncRow[] {
  return decide({
    plan,
    fileOf: (d) => `/${d}`,
    ageOf: (_f, p) => ({ at: p.article.date ?? 1000, from: "date" }),
    records,
    active: active as Task[],
    roots: ["/p"],
    exists: (f) => !gone.includes(f),
    display: (f) => f.slice(1),
  });
}

describe("what a sync does with each file", () => {
  test("new, changed, unchanged, queued, draft, invalid, deleted", () => {
    const rows = decideWith(
      [
        ready("/p/new.md"),
        ready("/p/same.md"),
        ready("/p/edited.md", { digest: "d-edited-v2" }),
        ready("/p/named.md", { articleId: "77", digest: "other" }),
        ready("/p/busy.md"),
        { kind: "draft", display: "p/wip.md", key: "draft", line: 3 },
        { kind: "invalid", display: "p/bad.md", error: new UsageError("p/bad.md:1: no title", "add one") },
        { kind: "same", display: "p/link.md", as: "p/same.md" },
      ],
      [
        record("1", "/p/same.md"),
        record("2", "/p/edited.md"),
        record("3", "/p/gone.md"),
        record("4", "/elsewhere/gone.md"),
        record("5", "/p/still-here-but-ignored.md"),
        record("77", "/p/old-name-of-named.md"),
      ],
      [{ id: 9, identity: "path:/p/busy.md", status: "queued", runAt: 0 }],
      ["/p/gone.md", "/elsewhere/gone.md", "/p/old-name-of-named.md"],
    );
    const got = Object.fromEntries(rows.map((r) => [r.display, r.status]));
    assert.deepEqual(got, {
      "p/new.md": "new",
      "p/same.md": "unchanged",
      "p/edited.md": "changed",
      "p/named.md": "changed",
      "p/busy.md": "queued",
      "p/wip.md": "draft",
      "p/bad.md": "invalid",
      // Gone and inside the folder; the file that names article 77 is it now, so 77 is not deleted; a gone
      // file outside the synced folders is none of this sync's business.
      "p/gone.md": "deleted",
    });
    assert.equal(rows.find((r) => r.status === "queued")?.existing?.id, 9);
    assert.equal(rows.find((r) => r.status === "deleted")?.article?.url, "https://zhuanlan.zhihu.com/p/3");
  });

  test("a moved file (its old path is an alias) is unchanged and its old path is not deleted", () => {
    const rows = decideWith(
      [ready("/p/moved.md", { aliases: ["/p/old.md"], digest: "d-/p/old.md" })],
      [record("1", "/p/old.md")],
      [],
      ["/p/old.md"],
    );
    assert.deepEqual(
      rows.map((r) => [r.display, r.status]),
      [["p/moved.md", "unchanged"]],
    );
  });

  test("work first: updates, then new files oldest first; then the rest", () => {
    const rows = decideWith(
      [
        ready("/p/c.md", {}, 300),
        ready("/p/edited.md", { digest: "v2" }, 900),
        ready("/p/a.md", {}, 100),
        { kind: "draft", display: "p/0.md", key: "draft", line: 1 },
        ready("/p/b.md", {}, 200),
      ],
      [record("2", "/p/edited.md")],
    );
    assert.deepEqual(
      rows.map((r) => r.display),
      ["p/edited.md", "p/a.md", "p/b.md", "p/c.md", "p/0.md"],
    );
  });
});

describe("wiki links", () => {
  test("by file name or title, beside the linking file first, a folder to tell two apart; else why not", async (t) => {
    const root = tempDir(t, "topn-sync-");
    write(root, {
      "a/Note.md": "---\ntitle: 甲\n---\nA",
      "b/Note.md": "---\ntitle: 乙\n---\nB",
      "c/Other.md": "---\ntitle: Some Title\n---\nC",
      "c/Unpublished.md": "U",
      "d/from.md": "x",
    });
    const src = (rel: string) => ({ file: join(root, rel), real: join(root, rel), root });
    const links = await WikiLinks.build(
      ["a/Note.md", "b/Note.md", "c/Other.md", "c/Unpublished.md", "d/from.md"].map(src),
      [
        record("1", join(root, "a/Note.md")),
        record("2", join(root, "b/Note.md")),
        record("3", join(root, "c/Other.md")),
      ],
      root,
    );
    const fromA = links.resolverFor(join(root, "a/x.md"));
    assert.deepEqual(fromA("Note"), { url: "https://zhuanlan.zhihu.com/p/1" }, "the note beside the file");
    const fromD = links.resolverFor(join(root, "d/from.md"));
    assert.match((fromD("note") as { reason: string }).reason, /is ambiguous \(a\/Note\.md, b\/Note\.md\)/);
    assert.deepEqual(fromD("b/Note"), { url: "https://zhuanlan.zhihu.com/p/2" });
    assert.deepEqual(fromD("b/Note.md"), { url: "https://zhuanlan.zhihu.com/p/2" });
    assert.deepEqual(fromD("some title"), { url: "https://zhuanlan.zhihu.com/p/3" }, "by title, any case");
    assert.deepEqual(fromD("乙"), { url: "https://zhuanlan.zhihu.com/p/2" });
    assert.match((fromD("Nowhere") as { reason: string }).reason, /names no note/);
    assert.match((fromD("Unpublished") as { reason: string }).reason, /has no Zhihu article yet/);
    assert.deepEqual([...links.waitsFor(join(root, "d/from.md"))], [join(root, "c/Unpublished.md")]);
  });

  test("rendered: a link to the article, the text as written, and every way it cannot link warned about", async (t) => {
    const root = tempDir(t, "topn-sync-");
    const file = join(root, "post.md");
    writeFileSync(
      file,
      "---\ntitle: T\ntopics: [x]\n---\n\nSee [[Note]], [[Note#Part|that part]], [[Note#Part]] and [[#Here]].\n\n" +
        "Missing [[Gone]]; embed ![[pic.png]].\n\n| a | b |\n|---|---|\n| [[Note\\|cell]] | 2 |\n",
    );
    const resolve = (n: string) =>
      n === "Note" ? { url: "https://zhuanlan.zhihu.com/p/9" } : { reason: "names no note" };
    const a = await prepareArticle(file, { wikiLinks: resolve });
    const html = renderArticle(a, () => "");
    assert.match(
      html,
      /See <a href="https:\/\/zhuanlan\.zhihu\.com\/p\/9">Note<\/a>, <a href="https:\/\/zhuanlan\.zhihu\.com\/p\/9">that part<\/a>, <a href="[^"]+">Note &gt; Part<\/a> and Here\./,
    );
    assert.match(html, /Missing Gone; embed !\[\[pic\.png\]\]\./);
    assert.match(html, /<td>cell<\/td>/);
    assert.deepEqual(a.links, { Note: "https://zhuanlan.zhihu.com/p/9" });
    const w = a.warnings.join("\n");
    assert.match(w, /post\.md:6: wiki link \[\[#Here\]\] points into this article/);
    assert.match(w, /post\.md:8: wiki link \[\[Gone\]\] names no note: shown as plain text/);
    assert.match(w, /post\.md:8: Obsidian embed !\[\[pic\.png\]\] is not supported/);
    // The address is part of what is published: a note published later changes the digest.
    const before = articleDigest(await prepareArticle(file, { wikiLinks: () => ({ reason: "none yet" }) }));
    assert.notEqual(articleDigest(a), before);
  });
});

describe("exit codes and the summary line", () => {
  const outcome = (rows: Partial<SyncRow>[], driveCode: number | null = null): SyncOutcome => ({
    rows: rows as SyncRow[],
    warnings: new Map(),
    deferred: new Map(),
    tasks: [],
    driveCode,
  });

  test("0 in sync or queued; 1 failed, invalid or held for a person; 2 nothing could run", () => {
    assert.equal(syncExit(outcome([{ status: "unchanged" }, { status: "draft" }]), []), 0);
    assert.equal(syncExit(outcome([{ status: "new" }], 75), []), 0, "a retry waiting for its time is queued");
    assert.equal(syncExit(outcome([{ status: "new" }], 1), []), 1);
    assert.equal(syncExit(outcome([{ status: "new" }, { status: "invalid" }]), []), 1);
    assert.equal(
      syncExit(outcome([{ status: "invalid" }, { status: "invalid" }, { status: "deleted" }]), []),
      2,
    );
    assert.equal(syncExit(outcome([{ status: "new" }], 130), []), 130);
    const held = {
      task: { status: "queued" } as Task,
      row: undefined,
      hold: { line: "held: paused", until: null },
    };
    assert.equal(syncExit(outcome([{ status: "queued" }]), [held]), 1);
  });

  test("a sync with nothing to do says so in one line", () => {
    assert.equal(
      summaryLine(
        outcome([
          { status: "unchanged" },
          { status: "unchanged" },
          { status: "draft" },
          { status: "deleted" },
        ]),
        [],
        0,
      ),
      "sync: nothing to do — 2 unchanged, 1 draft, 1 deleted",
    );
  });
});
