// Zhihu as a topn platform: the account's saved session in its own browser context, the publish flow run
// from a zhuanlan.zhihu.com page, and on failure the artifacts `topn show` lists. The publish flow and the
// pre-checks (which bring the Markdown renderer) load on first use: `topn accounts` needs neither.

import type { Page } from "puppeteer-core";
import { BrowserPool, type PoolLease } from "../browser/pool.js";
import { type CredentialStore, openCredentialStore } from "../credentials/index.js";
import { TaskFailure, UsageError } from "../errors.js";
import type {
  ArticleOwnership,
  JobContext,
  Platform,
  PlatformOptions,
  PrecheckItem,
  PrecheckProblem,
  PublishResult,
  TaskSnapshot,
} from "../platform.js";
import { ZhihuApi } from "./api.js";
import { writeArtifacts } from "./artifacts.js";
import { pageBroken } from "./classify.js";
import { toPuppeteerCookies } from "./cookies.js";
import { sessionCookies, zhuanlanPage } from "./session.js";
import { hasLoginCookie } from "./session-check.js";
import { ZhihuSessions } from "./sessions.js";
import { checkArticleId, verifyArticle } from "./verify.js";

export interface ZhihuTuning {
  /** A shared pool (tests and benchmarks keep one browser warm across runners): the platform leaves it open. */
  pool?: BrowserPool;
}

export class ZhihuPlatform implements Platform {
  readonly name = "zhihu";
  private readonly pool: BrowserPool;
  private readonly ownsPool: boolean;
  private credentials: Promise<CredentialStore> | null = null;
  readonly sessions: ZhihuSessions;

  constructor(
    readonly opts: PlatformOptions,
    tuning: ZhihuTuning = {},
  ) {
    this.ownsPool = tuning.pool === undefined;
    this.pool = tuning.pool ?? new BrowserPool({ env: opts.env });
    this.sessions = new ZhihuSessions(opts, () => this.store(), this.pool);
  }

  async publish(task: TaskSnapshot, ctx: JobContext): Promise<PublishResult> {
    const cookies = await sessionCookies(await this.store(), task.account);
    const secrets = cookies.map((c) => c.value);
    const lease = await this.acquire(task.account, cookies);
    let page: Page | null = null;
    let api: ZhihuApi | null = null;
    try {
      const ensureLease = () => ctx.ensureLease();
      page = await zhuanlanPage(lease, ensureLease);
      api = new ZhihuApi(page, { account: task.account, signal: ctx.signal, ensureLease });
      return await (await import("./publish.js")).publishFlow(api, task, ctx);
    } catch (e) {
      await this.afterFailure(e, lease, ctx, { page, exchange: api?.lastExchange ?? null, secrets });
      throw e;
    } finally {
      lease.release();
    }
  }

  /** A saved session with its login cookie: whether it is still alive only Zhihu can say, at publish time. */
  async hasSession(account: string): Promise<boolean> {
    const session = await (await this.store()).get("zhihu", account);
    return session !== null && hasLoginCookie(session.cookies);
  }

  async verifyArticle(account: string, articleId: string, signal?: AbortSignal): Promise<ArticleOwnership> {
    checkArticleId(articleId);
    const cookies = await sessionCookies(await this.store(), account);
    const lease = await this.acquire(account, cookies);
    try {
      const page = await zhuanlanPage(lease);
      return await verifyArticle(new ZhihuApi(page, { account, ...(signal ? { signal } : {}) }), articleId);
    } catch (e) {
      if (!(e instanceof TaskFailure) || pageBroken.has(e)) await lease.discardPage();
      throw e;
    } finally {
      lease.release();
    }
  }

  async precheck(
    account: string,
    items: readonly PrecheckItem[],
    signal?: AbortSignal,
  ): Promise<PrecheckProblem[]> {
    const cookies = await sessionCookies(await this.store(), account);
    const lease = await this.acquire(account, cookies);
    try {
      const page = await zhuanlanPage(lease);
      const { precheck } = await import("./precheck.js");
      return await precheck(new ZhihuApi(page, { account, ...(signal ? { signal } : {}) }), items);
    } catch (e) {
      if (!(e instanceof TaskFailure) || pageBroken.has(e)) await lease.discardPage();
      throw e;
    } finally {
      lease.release();
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.close();
  }

  private store(): Promise<CredentialStore> {
    this.credentials ??= openCredentialStore({
      home: this.opts.home,
      env: this.opts.env,
      warn: this.opts.warn,
    });
    const pending = this.credentials;
    pending.catch(() => {
      if (this.credentials === pending) this.credentials = null;
    });
    return pending;
  }

  private async acquire(
    account: string,
    cookies: Parameters<typeof toPuppeteerCookies>[0],
  ): Promise<PoolLease> {
    try {
      return await this.pool.acquire(account, toPuppeteerCookies(cookies));
    } catch (e) {
      if (e instanceof UsageError) {
        throw new TaskFailure("internal", "start browser", e.message, {
          ...(e.hint ? { hint: e.hint } : {}),
        });
      }
      throw new TaskFailure(
        "transient",
        "start browser",
        `the browser did not start: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  /** Artifacts for the person (not when the task was taken away: then it is not ours to report). */
  private async afterFailure(
    e: unknown,
    lease: PoolLease,
    ctx: JobContext,
    input: Parameters<typeof writeArtifacts>[1],
  ): Promise<void> {
    const lost = e instanceof TaskFailure && e.kind === "lease_lost";
    // The file itself failed (publish.ts's "read article"): Zhihu's page and last answer have nothing to show.
    const local = e instanceof TaskFailure && e.step === "read article";
    if (!lost && !local) {
      const files = await writeArtifacts(ctx.artifactsDir, input).catch(() => []);
      if (files.length > 0) ctx.log(`failure details saved: ${files.join(", ")} in ${ctx.artifactsDir}`);
    }
    // A page that is broken or may still have a call in flight (stopped job) is replaced; after an ordinary
    // refusal or reset the page is fine and the next task reuses it.
    if (!(e instanceof TaskFailure) || lost || pageBroken.has(e)) await lease.discardPage();
  }
}
