// The contract between the runner (which knows nothing of Zhihu) and a publishing platform.
// A second platform (Juejin, CSDN…) is one more implementation of `Platform`; the runner never changes.

/** What a job sees of its task: a snapshot read before the work starts. */
export interface TaskSnapshot {
  readonly id: number;
  readonly platform: string;
  readonly account: string;
  readonly file: string;
  readonly contentHash: string;
  readonly title: string;
  readonly attempt: number; // 1-based number of this attempt
  readonly maxAttempts: number;
  /** Platform-side id of the draft/article, once created. Survives crashes and retries. */
  readonly draftId: string | null;
  /** Last checkpoint name the job committed (e.g. "draft_created", "content_saved", "publishing"). */
  readonly checkpoint: string | null;
  /** Platform-specific progress data committed with checkpoints (e.g. uploaded image ids). */
  readonly state: Readonly<Record<string, unknown>>;
  readonly url: string | null;
  /** Publish as a new article even if this file was published before. */
  readonly forceNew: boolean;
  /** "publish", or "draft": save the text into the platform's draft and stop there (`--draft`). */
  readonly mode: PublishMode;
}

export type PublishMode = "publish" | "draft";

export interface CheckpointPatch {
  checkpoint: string;
  draftId?: string;
  url?: string;
  state?: Record<string, unknown>;
  message?: string;
}

export interface JobContext {
  readonly signal: AbortSignal;
  /** Progress line for the person watching (never secrets). */
  log(message: string): void;
  /**
   * Commit a checkpoint in its own short transaction before the next step starts.
   * Rejects with TaskFailure("lease_lost") if another runner has taken the task over: stop at once.
   */
  checkpoint(patch: CheckpointPatch): Promise<void>;
  /**
   * Call right before every request to the platform. Resolves when the lease is still this job's (renewing
   * it when a renewal is due, e.g. after the process was paused); rejects with TaskFailure("lease_lost") when
   * it is gone, so a job that wakes from a long pause never sends a request for a task it no longer holds.
   */
  ensureLease(): Promise<void>;
  /** Where the platform may write failure artifacts (screenshot, redacted HTML, last API exchange). */
  readonly artifactsDir: string;
}

export interface PublishResult {
  url: string;
  articleId: string;
  /** "published", or "draft" when the task only saved the text into the draft (mode "draft"). */
  state: "published" | "draft";
  /** sha256 of the file bytes this job read and published (write-back skips a file that changed since). */
  contentHash: string;
  /** articleDigest() of what was published: the next `publish` of an unchanged file has nothing to do. */
  digest: string;
}

/** Whose an article named in a file's front matter is, as the account sees it on the platform. */
export type ArticleOwnership =
  | { kind: "ours"; url: string; state: "published" | "draft" }
  | { kind: "missing" }
  | { kind: "foreign"; owner: string };

export interface Platform {
  readonly name: string;
  /** Publish one task. Throws TaskFailure on failure; anything else is classified as internal. */
  publish(task: TaskSnapshot, ctx: JobContext): Promise<PublishResult>;
  /**
   * Whether this machine holds a session for the account. A runner claims only tasks of accounts it can
   * publish for, leaving the others to a machine that can (several machines may share one queue).
   * A platform without sessions leaves it out.
   */
  hasSession?(account: string): Promise<boolean>;
  /**
   * Before enqueueing a file whose front matter names an article: is it this account's, unknown (deleted,
   * or another account's unpublished draft), or another account's? Writes nothing on the platform.
   * Throws UsageError for an id the platform cannot have, TaskFailure when the platform cannot be asked
   * (kind session_expired, needs_verification, rate_limited, transient…, with its hint).
   */
  verifyArticle?(account: string, articleId: string, signal?: AbortSignal): Promise<ArticleOwnership>;
  /**
   * Before a task is scheduled for later: what only the platform can say about the files now (the session is
   * alive, the topics exist, the column is the account's), so a mistake is refused at the prompt instead of
   * failing at 3 a.m. One problem per thing wrong; [] when all is well. Writes nothing on the platform.
   * Throws TaskFailure when the platform cannot be asked (a dead session, a verification, the network).
   */
  precheck?(
    account: string,
    items: readonly PrecheckItem[],
    signal?: AbortSignal,
  ): Promise<PrecheckProblem[]>;
  /** Accounts with sessions (PlatformModule.usesSessions): login, logout, checks. */
  readonly sessions?: SessionManager;
  /** Release browsers/contexts. Called once when the runner stops. */
  close(): Promise<void>;
}

/** What precheck looks at in one file. */
export interface PrecheckItem {
  /** The file as the person named it (for messages). */
  display: string;
  topics: readonly string[];
  column?: string | undefined;
}

export interface PrecheckProblem {
  /** Index into the items. */
  index: number;
  message: string;
  hint?: string;
}

// ---- Sessions ---------------------------------------------------------------------------------------
// What `login`, `logout`, `accounts` and `doctor` ask of a platform whose accounts log in. The session itself
// (cookies, tokens) never leaves the platform: the commands see who it belongs to, where it is kept and
// when it ends.

/** Who a session belongs to on the platform. Not secret. */
export interface PlatformUser {
  name: string;
  uid: string | null;
  urlToken: string | null;
}

/** ok; missing (nothing saved on this machine); expired (log in again); needs_verification (a person must
 * pass a check in a browser); error (the platform could not be asked: network, an odd answer). */
export type SessionState = "ok" | "missing" | "expired" | "needs_verification" | "error";

export interface SessionHealth {
  state: SessionState;
  user?: PlatformUser;
  /** When the saved session says it ends (ms since the epoch); null: it does not say. */
  expiresAt: number | null;
  /** Why it is not ok, for the person (never a secret). */
  message?: string;
  /** What to do about it, e.g. "log in again: topn login zhihu --account work". */
  fix?: string;
  /** A page the person must open (anti-bot verification). */
  url?: string;
}

export type LoginMethod =
  /** A browser window on the platform's sign-in page. */
  | { kind: "browser" }
  /** A QR code in the terminal, scanned with the platform's app. */
  | { kind: "qr" }
  /** A cookie export (JSON, cookies.txt or a Cookie header) from the person's own browser. */
  | { kind: "cookies"; text: string };

export interface LoginRequest {
  account: string;
  method: LoginMethod;
  /** A line for the person (instructions, a QR code). Never given a secret. */
  print(line: string): void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface LoginOutcome {
  user: PlatformUser;
  /** When the new session says it ends (ms); null: it does not say. */
  expiresAt: number | null;
}

/** Where an account's session is kept on this machine. */
export interface SessionPlace {
  /** "keychain" or "file". */
  store: string;
  /** For the person: "the OS keychain (topn:zhihu)" or the file's path. */
  where: string;
  /** A session is saved there. */
  saved: boolean;
  /** When the saved session says it ends (ms); null: unknown or nothing saved. */
  expiresAt: number | null;
}

export interface SessionManager {
  /**
   * Asks the platform whether the account's saved session is alive: at most one request to the platform's
   * API. Never throws for a dead session: that is a state.
   */
  check(account: string, signal?: AbortSignal): Promise<SessionHealth>;
  /**
   * Logs in by `method` and saves the session, verified live, before resolving. Throws UsageError for a bad
   * request (an unusable cookie export, no display for a window), LoginError when the login did not happen.
   */
  login(req: LoginRequest): Promise<LoginOutcome>;
  /** Deletes the saved session; `deleted` is false when there was none. */
  logout(account: string): Promise<{ deleted: boolean; where: string }>;
  place(account: string): Promise<SessionPlace>;
  /** What a person types to log this account in again. */
  loginCommand(account: string): string;
}

export interface PlatformOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  /** One-line notices for the person (e.g. "using the file credential store"). */
  warn: (message: string) => void;
}

/** What the registry knows of a platform before anything heavy is loaded. */
export interface PlatformModule {
  readonly name: string;
  /** Human name, e.g. "Zhihu". */
  readonly label: string;
  /** Publishing needs a per-account session held by the machine (`topn login`): tasks wait for one. */
  readonly usesSessions?: boolean;
  /** The front-matter key that names an article of this platform (`zhihu:`): write-back writes it. */
  readonly frontMatterKey?: string;
  /** Cheap checks that this machine can publish at all (e.g. a browser exists); throws UsageError. */
  preflight?(env: NodeJS.ProcessEnv): Promise<void>;
  create(opts: PlatformOptions): Promise<Platform>;
}
