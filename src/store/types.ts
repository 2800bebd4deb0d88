// The store's contract: what the runner and the commands may ask of the database, whichever engine holds it
// (SQLite embedded by default, PostgreSQL when several machines share one queue). Every method is async so
// both engines fit; every time that decides something (due, lease expired, paced) is the database's clock,
// never a machine's, so a machine whose clock is off still claims correctly.

import type { PublishMode } from "../platform.js";

export const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type TaskStatus = (typeof STATUSES)[number];

export interface Task {
  id: number;
  platform: string;
  account: string;
  /** Real path of the Markdown file (symlinks resolved). */
  file: string;
  /**
   * The article this task is about, as one key: `article:<id>` once the article is known (front matter,
   * or an earlier publish of this file), else `path:<real path>`. At most one queued or running task per
   * (platform, account, identity): a database fact.
   */
  identity: string;
  contentHash: string;
  /** articleDigest() at enqueue: what would be published. */
  digest: string | null;
  title: string;
  status: TaskStatus;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  /** host:pid:tag of the runner process holding the lease (liveness on the same host). */
  leaseOwner: string | null;
  /** Random per claim: every write after the claim carries it. */
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  draftId: string | null;
  checkpoint: string | null;
  state: Record<string, unknown>;
  url: string | null;
  forceNew: boolean;
  mode: PublishMode;
  /** Record the article's URL in the file's front matter after the first publish. */
  writeBack: boolean;
  errorKind: string | null;
  errorStep: string | null;
  errorMessage: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

export interface TaskEvent {
  id: number;
  taskId: number;
  at: number;
  status: TaskStatus;
  attempt: number;
  message: string;
}

export interface NewTask {
  platform: string;
  account: string;
  /** Real path (symlinks resolved, case as on disk). */
  file: string;
  contentHash: string;
  digest: string;
  title: string;
  /** When to run (ms since the epoch); null: now, by the database's clock. */
  runAt: number | null;
  maxAttempts: number;
  /** The article named in the file's front matter (already checked against the account). */
  articleId?: string | null;
  /**
   * Other paths that are this file too: hard links to it right now, or the path it was moved from (its
   * content matches an article whose file is gone). The first one the database knows gives the article.
   */
  aliases?: readonly string[];
  /** Publish as a new article even if this file was published before (`--new`). */
  forceNew?: boolean;
  /** Publish even if the content equals what was last published (`--force`). */
  force?: boolean;
  mode?: PublishMode;
  writeBack?: boolean;
  /** Platform progress data the first attempt starts from. */
  state?: Record<string, unknown>;
}

export type EnqueueOutcome =
  | { kind: "queued"; task: Task }
  | { kind: "unchanged"; articleId: string; url: string | null }
  /** A queued or running task already holds this article's identity. */
  | { kind: "active"; id: number; status: TaskStatus };

/** Thrown by an all-or-nothing enqueue when a task of the batch conflicts: nothing was enqueued. */
export class EnqueueConflict extends Error {
  constructor(readonly conflicts: readonly { index: number; id: number; status: TaskStatus }[]) {
    super(`${conflicts.length} file(s) already have a queued or running task`);
  }
}

/** What a job holds after its claim; every later write names it. */
export interface Lease {
  id: number;
  token: string;
}

export interface Failure {
  kind: string;
  step: string;
  message: string;
}

/** What a checkpoint and an outcome record: exactly what the platform hands the runner. */
export type { CheckpointPatch, PublishResult as Outcome } from "../platform.js";
import type { CheckpointPatch, PublishResult as Outcome } from "../platform.js";

/** Pacing for accounts that set none of their own. */
export interface PacingDefaults {
  /** Minimum time between two publishes of one account (0: none). */
  gapMs: number;
  /** Most publishes of one account in any 24 hours (0: no cap). */
  dailyCap: number;
}

export interface ClaimScope {
  /** Only these tasks (a foreground `topn publish` runs just its own). */
  only?: readonly number[];
  /**
   * Accounts this machine can publish for, by platform. A platform missing here is not restricted; a task
   * of an account not listed under its platform is left for a machine that holds its session.
   */
  accounts?: Readonly<Record<string, readonly string[]>>;
  pacing: PacingDefaults;
}

export interface ClaimRequest extends ClaimScope {
  owner: string;
  token: string;
  leaseMs: number;
}

/** An account's pause as it stands: why, what lifts it, since when and until when (null: until a person acts). */
export interface PauseState {
  kind: string;
  reason: string;
  fix: string;
  at: number;
  until: number | null;
}

/** An account-level stop: its tasks wait instead of failing one by one (session gone, 40352, 4031, 429). */
export interface AccountPause {
  kind: string;
  reason: string;
  /** The command that lifts it, shown with every held task. */
  fix: string;
  /** Lifts by itself after this long (rate limits); null: until a person acts. */
  forMs: number | null;
}

export interface ListFilter {
  status?: TaskStatus;
  account?: string;
  limit?: number;
}

/** Why a state change was refused; the command turns it into a one-line usage error. */
export class TransitionRefused extends Error {
  constructor(
    readonly taskId: number,
    readonly status: TaskStatus | "missing" | "superseded" | "duplicate",
    message: string,
  ) {
    super(message);
  }
}

export interface RetryResult {
  retried: Task[];
  /** Left alone by `retry --failed`: a newer task has (or will) publish the same article, or an older twin. */
  skipped: { id: number; reason: string }[];
}

/** What the database remembers of a published (or draft-saved) article. */
export interface ArticleRecord {
  platform: string;
  account: string;
  articleId: string;
  url: string | null;
  title: string | null;
  /** The file it was last published from; null once another article took that file (`--new`). */
  file: string | null;
  digest: string | null;
  contentHash: string | null;
  state: "published" | "draft";
  taskId: number | null;
  publishedAt: number;
}

/** Why an account's queued tasks are not running right now (for `tasks`, `show`, and the runner's sleep). */
export interface AccountHold {
  platform: string;
  account: string;
  pause: PauseState | null;
  /** When the pacing gap since the last publish ends (null: no gap in force). */
  gapUntil: number | null;
  /** When the 24-hour cap frees a slot (null: under the cap). */
  capUntil: number | null;
  /** Machines that registered a session for this account, with when they were last seen. */
  hosts: { host: string; seenAt: number }[];
}

export interface TaskStore {
  /** The database's clock, ms since the epoch. */
  now(): Promise<number>;
  /**
   * Resolve each task's article identity and enqueue it, all in one transaction: a file whose content equals
   * what was last published is `unchanged` (unless `force`), one whose identity has a queued or running task
   * is `active`. With `atomic` (the default) an `active` one rolls everything back: EnqueueConflict.
   */
  enqueue(tasks: readonly NewTask[], opts?: { atomic?: boolean }): Promise<EnqueueOutcome[]>;
  /** Claim the next claimable task, or undefined. One short write transaction. */
  claim(req: ClaimRequest): Promise<Task | undefined>;
  /** In how many ms a claim could next succeed (0: now; null: nothing queued that could ever be claimed). */
  nextClaimIn(scope: ClaimScope): Promise<number | null>;
  /** Extend a lease. False: the lease is gone, stop working on the task. */
  heartbeat(lease: Lease, leaseMs: number): Promise<boolean>;
  /** Commit a checkpoint. Returns the attempt number, or undefined when the lease is gone. */
  checkpoint(lease: Lease, patch: CheckpointPatch): Promise<number | undefined>;
  succeed(lease: Lease, outcome: Outcome): Promise<Task | undefined>;
  /** Back to the queue in `delayMs` (database clock). `refund` gives the attempt back. */
  requeue(
    lease: Lease,
    delayMs: number,
    message: string,
    failure?: Failure,
    opts?: { refund?: boolean },
  ): Promise<Task | undefined>;
  fail(lease: Lease, failure: Failure, message: string): Promise<Task | undefined>;
  /**
   * An account-level failure: the task goes back to the queue with its attempt refunded and the account is
   * paused, in one transaction, so no other task of the account starts.
   */
  hold(lease: Lease, pause: AccountPause, failure: Failure): Promise<Task | undefined>;
  /** Owners of running tasks (to test which processes are gone). */
  runningOwners(): Promise<string[]>;
  /**
   * Hand back running tasks whose lease expired (tested inside the update) or whose owner is in `deadOwners`,
   * except leases in `keep` (this process's live jobs). The attempt stays counted; out of attempts → failed.
   */
  recover(opts: { deadOwners: readonly string[]; keep: readonly string[] }): Promise<Task[]>;
  get(id: number): Promise<Task | undefined>;
  events(id: number): Promise<TaskEvent[]>;
  list(filter?: ListFilter): Promise<Task[]>;
  /** Queued tasks due now, and when the next one is due. */
  pending(): Promise<{ due: number; next: number | null }>;
  /**
   * Failed or cancelled tasks back to the queue with fresh attempts, unless a newer task of the same article
   * succeeded or is queued/running (explicit ids: refused; `skipSuperseded`: skipped and reported).
   */
  retry(ids: readonly number[], opts?: { skipSuperseded?: boolean }): Promise<RetryResult>;
  /** Ids of failed tasks, oldest first. */
  failedIds(): Promise<number[]>;
  /** Queued tasks → cancelled; failed ones → cancelled too (dismissed: `retry --failed` stops bringing them back). */
  cancel(ids: readonly number[]): Promise<{ task: Task; was: TaskStatus }[]>;
  reschedule(id: number, runAt: number): Promise<Task>;
  /** Finished tasks (and their events) older than `olderThanMs`; never the article records. Returns their ids. */
  prune(olderThanMs: number): Promise<number[]>;
  /** The article a file (or any of its aliases) became for this account. */
  articleForFile(
    platform: string,
    account: string,
    files: readonly string[],
  ): Promise<ArticleRecord | undefined>;
  article(platform: string, account: string, articleId: string): Promise<ArticleRecord | undefined>;
  /** Every article of the account (sync: which files are gone). */
  articles(platform: string, account: string): Promise<ArticleRecord[]>;
  /** Why the queued tasks of each account wait (pause, pacing, no machine). */
  holds(pacing: PacingDefaults): Promise<AccountHold[]>;
}

/** What topn remembers of an account. The session itself (cookies) lives in the credential store, never here. */
export interface Account {
  platform: string;
  name: string;
  displayName: string | null;
  uid: string | null;
  urlToken: string | null;
  loggedInAt: number | null;
  /** Last live check, and what it found. */
  checkedAt: number | null;
  sessionState: string | null;
  /** Last check that found the session alive. */
  sessionOkAt: number | null;
  /** When the session's cookies say it ends. */
  sessionExpiresAt: number | null;
  isDefault: boolean;
  pause: PauseState | null;
  /** Pacing of its own (null: the defaults). */
  gapMs: number | null;
  dailyCap: number | null;
  /** Machines that hold a session for it (several machines, one queue), most recently seen first. */
  hosts: { host: string; seenAt: number }[];
}

export interface AccountLogin {
  platform: string;
  name: string;
  displayName: string | null;
  uid: string | null;
  urlToken: string | null;
  sessionExpiresAt: number | null;
}

export interface AccountStore {
  /** A login: the account's identity and a fresh session (which lifts a pause). */
  login(a: AccountLogin): Promise<void>;
  recordCheck(
    platform: string,
    name: string,
    check: { state: string; expiresAt?: number | null },
  ): Promise<void>;
  list(platform?: string): Promise<Account[]>;
  get(platform: string, name: string): Promise<Account | undefined>;
  remove(platform: string, name: string): Promise<boolean>;
  /**
   * Pause an account without a task in hand (a live session check found it dead): its tasks wait, exactly as
   * after a task's hold. Creates the row if needed.
   */
  pause(platform: string, name: string, pause: AccountPause): Promise<void>;
  /** Lift a pause; false when the account was not paused. */
  resume(platform: string, name: string): Promise<boolean>;
  setPacing(
    platform: string,
    name: string,
    pacing: { gapMs?: number | null; dailyCap?: number | null },
  ): Promise<void>;
  setDefault(platform: string, name: string): Promise<void>;
  /** This machine holds sessions for exactly `accounts` of `platform` (a runner says so as it runs). */
  registerHost(host: string, platform: string, accounts: readonly string[]): Promise<void>;
  /** This machine now holds (login) or no longer holds (logout) a session for one account. */
  setHost(host: string, platform: string, account: string, holds: boolean): Promise<void>;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** The database file, or the PostgreSQL URL without its password. */
  readonly location: string;
  readonly tasks: TaskStore;
  readonly accounts: AccountStore;
  /** Schema version and integrity, for `topn doctor`. */
  check(): Promise<{ schema: number; latest: number; problems: string[] }>;
  close(): Promise<void>;
}
