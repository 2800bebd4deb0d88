// Files → what each would be as a task: every offline check (prepareArticle), the file's real identity
// (symlinks, hard links, moves), what its front matter says (an article id, a draft), and — asked live, only
// for files that name an article — whether that article is this account's. `publish` and `sync` both plan
// here and differ only in what they do with the answer.

import { articleOptionsState, type PreparedArticle, prepareArticle } from "../article/index.js";
import { articleDigest } from "../article/digest.js";
import type { WikiResolver } from "../article/wikilinks.js";
import { TaskFailure, UsageError } from "../errors.js";
import type { Platform, PlatformModule, PublishMode } from "../platform.js";
import type { ArticleRecord, NewTask, Store } from "../store/types.js";
import { displayFile } from "../ui/format.js";
import { type FileIdentity, findAliases, identify } from "./file-identity.js";

export interface PlanOptions {
  cwd: string;
  home: string;
  env: NodeJS.ProcessEnv;
  warn: (message: string) => void;
  store: Store;
  platform: PlatformModule;
  account: string;
  mode: PublishMode;
  /** `--new`: a new article even for a file published before. */
  forceNew: boolean;
  /** `--force`: publish even when nothing changed. */
  force: boolean;
  writeBack: boolean;
  maxAttempts: number;
  /** `--emoji`, `--no-captions`: how the HTML is made; the job renders with the same. */
  render: { emoji?: boolean | undefined; captions?: boolean | undefined };
  /** When the i-th ready file runs (null: now). */
  runAt: (index: number, article: PreparedArticle) => number | null;
  /** The resolver for wiki links (`[[Note]]`) written in a file (by absolute path); none: they stay text. */
  wikiLinks?: (file: string) => WikiResolver | undefined;
  signal?: AbortSignal;
}

export type PlannedFile =
  | {
      kind: "ready";
      display: string;
      id: FileIdentity;
      article: PreparedArticle;
      task: NewTask;
      notes: string[];
    }
  /** The front matter says draft and this is not a `--draft` run. */
  | { kind: "draft"; display: string; key: string; line: number }
  | { kind: "invalid"; display: string; error: UsageError }
  /** The same file as one earlier in the list (a symlink, a hard link, the same path twice). */
  | { kind: "same"; display: string; as: string };

export async function planFiles(files: readonly string[], opts: PlanOptions): Promise<PlannedFile[]> {
  const { store, account } = opts;
  const platformName = opts.platform.name;
  let known: ArticleRecord[] | undefined;
  const seen = new Map<string, string>();
  const out: PlannedFile[] = [];
  let ready = 0;
  for (const abs of files) {
    const display = displayFile(abs, opts.cwd);
    let article: PreparedArticle;
    let id: FileIdentity;
    try {
      const wikiLinks = opts.wikiLinks?.(abs);
      article = await prepareArticle(display, {
        cwd: opts.cwd,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(wikiLinks ? { wikiLinks } : {}),
      });
      id = identify(abs);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      out.push({ kind: "invalid", display, error: e });
      continue;
    }
    const twin = seen.get(id.real) ?? seen.get(id.fileId);
    if (twin !== undefined) {
      out.push({ kind: "same", display, as: twin });
      continue;
    }
    seen.set(id.real, display).set(id.fileId, display);
    if (article.draft && opts.mode !== "draft") {
      out.push({ kind: "draft", display, key: article.draft.key, line: article.draft.line });
      continue;
    }
    if (article.zhihuId !== undefined && opts.forceNew) {
      const at = `${display}:${article.zhihuLine ?? 1}`;
      out.push({
        kind: "invalid",
        display,
        error: new UsageError(
          `${at}: the front matter names article ${article.zhihuId}, and --new would make a second one`,
          "remove the zhihu: line to publish the file as a new article, or drop --new to update it",
        ),
      });
      continue;
    }
    for (const w of article.warnings) opts.warn(w);
    const digest = articleDigest(article);
    const notes: string[] = [];
    let aliases: string[] = [];
    if (article.zhihuId === undefined && !opts.forceNew) {
      known ??= await store.tasks.articles(platformName, account);
      if (!known.some((a) => a.file === id.real)) {
        const found = findAliases(
          id,
          { contentHash: article.contentHash, digest, title: article.title },
          known,
        );
        aliases = found.paths;
        if (found.movedFrom)
          notes.push(
            `${display} was published from ${displayFile(found.movedFrom.file ?? "", opts.cwd)}, which is gone: it keeps its article ${found.movedFrom.url ?? found.movedFrom.articleId}`,
          );
        else if (found.lookalike) {
          opts.warn(
            `${display}: has the title of ${found.lookalike.url ?? found.lookalike.articleId}, whose file ${found.lookalike.file} is gone; ` +
              `publishing it as a new article (to update that one instead, add "zhihu: ${found.lookalike.url ?? found.lookalike.articleId}" to its front matter)`,
          );
        }
      }
    }
    out.push({
      kind: "ready",
      display,
      id,
      article,
      notes,
      task: {
        platform: platformName,
        account,
        file: id.real,
        contentHash: article.contentHash,
        digest,
        title: article.title,
        runAt: opts.runAt(ready++, article),
        maxAttempts: opts.maxAttempts,
        articleId: article.zhihuId ?? null,
        aliases,
        forceNew: opts.forceNew,
        force: opts.force,
        mode: opts.mode,
        writeBack: opts.writeBack,
        state: articleOptionsState({ ...opts.render, links: article.links }),
      },
    });
  }
  await verifyNamedArticles(out, opts);
  return out;
}

/**
 * A file whose front matter names an article is checked with the platform before anything is written: the
 * article must exist and be this account's. Refusing here is cheaper than updating the wrong article.
 */
async function verifyNamedArticles(plan: PlannedFile[], opts: PlanOptions): Promise<void> {
  const named = plan.flatMap((p, i) => (p.kind === "ready" && p.article.zhihuId !== undefined ? [i] : []));
  if (named.length === 0) return;
  let platform: Platform | undefined;
  try {
    for (const i of named) {
      const p = plan[i] as Extract<PlannedFile, { kind: "ready" }>;
      const articleId = p.article.zhihuId!;
      // One the database already knows as this account's needs no question to Zhihu.
      if (await opts.store.tasks.article(opts.platform.name, opts.account, articleId)) continue;
      platform ??= await opts.platform.create({ home: opts.home, env: opts.env, warn: opts.warn });
      if (!platform.verifyArticle) return;
      const at = `${p.display}:${p.article.zhihuLine ?? 1}`;
      let owner: Awaited<ReturnType<NonNullable<Platform["verifyArticle"]>>>;
      try {
        owner = await platform.verifyArticle(opts.account, articleId, opts.signal);
      } catch (e) {
        if (!(e instanceof TaskFailure) && !(e instanceof UsageError)) throw e;
        // Not knowing whose the article is, topn does not guess: the file waits for the answer.
        plan[i] = {
          kind: "invalid",
          display: p.display,
          error: new UsageError(
            `${at}: could not check article ${articleId} with ${opts.platform.label}: ${e.message}`,
            e.hint ?? "try again in a moment",
          ),
        };
        continue;
      }
      if (owner.kind === "ours") {
        if (owner.state === "published")
          p.task = { ...p.task, state: { ...p.task.state, updates: articleId } };
        continue;
      }
      plan[i] = {
        kind: "invalid",
        display: p.display,
        error:
          owner.kind === "missing"
            ? new UsageError(
                `${at}: article ${articleId} does not exist on ${opts.platform.label} (deleted, or a typo)`,
                "fix the zhihu: line, or remove it to publish the file as a new article",
              )
            : new UsageError(
                `${at}: article ${articleId} belongs to ${owner.owner}, not to account ${opts.account}`,
                `publish with the account that owns it (--account NAME), or remove the zhihu: line to publish a new article`,
              ),
      };
    }
  } finally {
    await platform?.close();
  }
}
