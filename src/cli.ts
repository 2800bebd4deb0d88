import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { type Context, createContext } from "./context.js";
import { EXIT, ExitCode, problemLine, UsageError } from "./errors.js";

// The only top-level catch and the only process exit code decision. Commands are loaded lazily, so
// `topn --help` and `topn tasks` never pay for the browser driver or the Markdown renderer.

const EXIT_HELP = `
Exit codes:
  0    every task succeeded (or there was nothing to do)
  1    a task failed or waits on a paused account (see: topn tasks); login cancelled
       or timed out; accounts --check found a dead session or a paused account;
       doctor found a problem
  2    bad usage or input: nothing was enqueued or changed
  70   internal error in topn (run again with --debug and report it)
  74   a task's outcome could not be written to the database; the next run settles it
  75   run --once: some tasks failed transiently and wait for their retry time
  130  interrupted (SIGINT/SIGTERM); running tasks were handed back to the queue

Environment:
  TOPN_HOME             data folder (database, artifacts); default: the user data dir
  TOPN_DATABASE_URL     postgres://USER:PASSWORD@HOST/DB: one queue shared by many machines
                        (default: SQLite in TOPN_HOME)
  TOPN_BROWSER          Chrome/Chromium/Edge executable (else found on the system)
  TOPN_HEADLESS=1       never open a browser window (login too)
  TOPN_CREDENTIAL_STORE keychain | file
  TOPN_ZHIHU_RESOLVE    HOST:PORT of a Zhihu simulator (tests, demo)
  TOPN_GAP, TOPN_CAP    default pacing per account (over config.yaml's gap, cap)
  TOPN_NOTIFY           URL to POST alerts to (over config.yaml's notify)
  TOPN_NOTIFY_CMD       command to run with each alert on stdin (over config.yaml's notify_cmd)
  NO_COLOR              no colours

Settings: TOPN_HOME/config.yaml (write_back, gap, cap, notify, notify_cmd); see the README.`;

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
  return n;
};
const nonNegativeInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0`);
  return n;
};

export function buildProgram(ctx: Context, setCode: (code: number) => void): Command {
  const program = new Command("topn")
    .description("Publish Markdown articles to Zhihu columns, exactly once.")
    .version("0.1.0", "-V, --version")
    .option("--debug", "print stack traces for errors")
    .option(
      "--database-url <url>",
      "use this PostgreSQL as the queue (prefer TOPN_DATABASE_URL: ps shows arguments)",
    )
    .showSuggestionAfterError()
    .addHelpText("after", EXIT_HELP)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  program.configureHelp({ sortSubcommands: false });
  // --database-url wins over TOPN_DATABASE_URL for whichever command runs.
  program.hook("preAction", () => {
    const url = program.opts<{ databaseUrl?: string }>().databaseUrl;
    if (url !== undefined) ctx.databaseUrl = url;
  });

  const run =
    (load: () => Promise<(ctx: Context, ...a: never[]) => Promise<number>>) =>
    async (...args: unknown[]) => {
      const fn = await load();
      setCode(await (fn as (ctx: Context, ...a: unknown[]) => Promise<number>)(ctx, ...args.slice(0, -1)));
    };

  program
    .command("publish")
    .description("validate Markdown files, enqueue them, and publish them now (or at --at)")
    .argument("<files...>", "Markdown files (globs are expanded)")
    .option("-a, --account <name>", "account to publish as (optional when there is only one)")
    .option("--platform <name>", "platform", "zhihu")
    .option("--at <when>", 'publish later: "2026-12-01 09:00", an ISO time, or "tomorrow 9am"')
    .option("--every <duration>", "spread the files: one every DURATION (e.g. 2h), from --at or now")
    .option("--no-wait", "only enqueue and print the task ids")
    .option("--new", "publish as a new article even if this file was published before")
    .option("--force", "publish even if nothing changed since the last publish")
    .option("--draft", "save into the Zhihu draft without publishing (for files marked draft: true)")
    .option("--no-write-back", "do not record the article's URL in the file's front matter")
    .option("--emoji", "turn :smile: shortcodes into emoji (or emoji: true in the front matter)")
    .option("--no-captions", "no captions under images")
    .option("--concurrency <n>", "tasks running at once (one per account)", positiveInt("--concurrency"), 2)
    .option("--max-attempts <n>", "attempts before a task fails", positiveInt("--max-attempts"), 5)
    .option("--json", "print JSON instead of text")
    .addHelpText(
      "after",
      '\nExamples:\n  topn publish post.md\n  topn publish "posts/*.md" --at "2026-12-01 09:00"',
    )
    .action(run(async () => (await import("./commands/publish.js")).publish));

  program
    .command("sync")
    .description("make Zhihu follow folders of Markdown: publish new files, update changed ones")
    .argument("<dirs...>", "folders of Markdown (every **/*.md; .gitignore and .topnignore honoured)")
    .option("-a, --account <name>", "account to publish as (optional when there is only one)")
    .option("--platform <name>", "platform", "zhihu")
    .option("--dry-run", "print the plan and change nothing")
    .option("--at <when>", "publish everything then, whatever the files' dates say")
    .option("--no-wait", "only enqueue; `topn run` publishes later")
    .option("--no-write-back", "do not record the article's URL in the file's front matter")
    .option("--concurrency <n>", "tasks running at once (one per account)", positiveInt("--concurrency"), 2)
    .option("--max-attempts <n>", "attempts before a task fails", positiveInt("--max-attempts"), 5)
    .option("--json", "print JSON instead of text")
    .addHelpText(
      "after",
      `
Each file is new (published), changed (its article updated), unchanged, a draft (skipped), invalid
(reported; the others still sync), or deleted (its file is gone: reported, never unpublished). Files
publish oldest first (front-matter date, else git commit time, else mtime); a future date schedules the
file; pacing spreads a backlog over days. Exit 0: in sync or queued; 1: something failed or is invalid;
2: nothing could run.

Examples:
  topn sync posts/ --dry-run
  */10 * * * * topn sync ~/blog/posts >> ~/topn.log 2>&1`,
    )
    .action(run(async () => (await import("./commands/sync.js")).syncCommand));

  program
    .command("tasks")
    .description("list tasks, newest first")
    .addOption(
      new Option("-s, --status <status>", "only this status").choices([
        "queued",
        "scheduled",
        "running",
        "succeeded",
        "failed",
        "cancelled",
      ]),
    )
    .option("-a, --account <name>", "only this account")
    .option("-n, --limit <n>", "at most N tasks (0: all)", nonNegativeInt("--limit"), 50)
    .option("--json", "print a JSON array")
    .action(run(async () => (await import("./commands/tasks.js")).tasks));

  program
    .command("show")
    .description("one task: its timeline, error, URL and failure artifacts")
    .argument("<id>", "task id")
    .option("--json", "print JSON")
    .action(run(async () => (await import("./commands/show.js")).show));

  program
    .command("run")
    .description("publish due tasks; with --once, exit when nothing is due (for cron)")
    .option("--once", "publish what is due now, then exit")
    .option("--concurrency <n>", "tasks running at once (one per account)", positiveInt("--concurrency"), 2)
    .option(
      "--grace <seconds>",
      "on SIGINT/SIGTERM, how long running tasks may finish",
      nonNegativeInt("--grace"),
      30,
    )
    .option("--json", "print one JSON line per event")
    .option(
      "--notify <url>",
      "POST a JSON alert there when a task fails for good, an account pauses, a session ends soon",
    )
    .option("--notify-cmd <cmd>", "run CMD with each alert's JSON on stdin (mail, ntfy, a chat webhook)")
    .action(run(async () => (await import("./commands/run.js")).runCommand));

  program
    .command("reschedule")
    .description("move a queued or scheduled task to another time")
    .argument("<id>", "task id")
    .requiredOption("--at <when>", 'the new time: "2026-12-01 09:00", an ISO time, or "tomorrow 9am"')
    .action(run(async () => (await import("./commands/reschedule.js")).reschedule));

  program
    .command("retry")
    .description("put failed or cancelled tasks back in the queue")
    .argument("[ids...]", "task ids")
    .option("--failed", "every failed task (not those a newer task replaced, nor those whose file is gone)")
    .action(run(async () => (await import("./commands/retry.js")).retry));

  program
    .command("cancel")
    .description("cancel queued or scheduled tasks; dismiss failed ones")
    .argument("<ids...>", "task ids")
    .action(run(async () => (await import("./commands/cancel.js")).cancel));

  program
    .command("login")
    .description("log in once; the session goes to the OS keychain")
    .argument("<platform>", "zhihu")
    .option("-a, --account <name>", "name for this account in topn", "default")
    .option("--qr", "show a QR code in the terminal to scan with the Zhihu app (works over SSH)")
    .option(
      "--cookies <file>",
      "import a cookie export: JSON array, cookies.txt, or a Cookie header ('-' for stdin)",
    )
    .option(
      "--timeout <seconds>",
      "give up after this long (default: 300 for the browser, 120 for --qr, 30 to verify --cookies)",
      positiveInt("--timeout"),
    )
    .action(run(async () => (await import("./commands/login.js")).login));

  program
    .command("logout")
    .description("forget an account's session")
    .argument("<platform>", "zhihu")
    .option("-a, --account <name>", "account (optional when there is only one)")
    .action(run(async () => (await import("./commands/logout.js")).logout));

  program
    .command("accounts")
    .description("list accounts; --check asks Zhihu whether each session is still alive")
    .argument("[settings...]", "with --set: gap=DURATION and/or cap=N (or =default)")
    .option("--check", "check each session live (exit 1 if one is dead or its account paused)")
    .option("--json", "print JSON")
    .option("--resume <name>", "lift the account's pause (after passing a verification, or a rate limit)")
    .option("--set <name>", "the account's pacing: --set NAME gap=5m cap=20 (default: back to the defaults)")
    .option("--default <name>", "the account used when --account is left out")
    .option("--notify <url>", "with --check: POST a JSON alert for a dead or soon-ending session")
    .option("--notify-cmd <cmd>", "with --check: run CMD with the alert's JSON on stdin")
    .addHelpText(
      "after",
      "\nExamples:\n  topn accounts --check --notify https://ntfy.sh/my-topic\n  topn accounts --set work gap=5m cap=20\n  topn accounts --resume work",
    )
    .action(run(async () => (await import("./commands/accounts.js")).accounts));

  program
    .command("doctor")
    .description("check that this machine can publish unattended (exit 1 if not)")
    .option("--json", "print JSON")
    .action(run(async () => (await import("./commands/doctor.js")).doctor));

  program
    .command("prune")
    .description("forget finished tasks and their artifacts (never which article each file became)")
    .requiredOption("--older-than <duration>", "finished more than DURATION ago, e.g. 30d")
    .option("--json", "print JSON")
    .action(run(async () => (await import("./commands/prune.js")).prune));

  program
    .command("preview")
    .description("write the HTML Zhihu will receive, in a page styled like a Zhihu article")
    .argument("<file>", "Markdown file")
    .option("-o, --out <file>", "HTML output (default: FILE.preview.html)")
    .option("--png <file>", "also take a screenshot with the browser topn uses")
    .option("--emoji", "turn :smile: shortcodes into emoji (or emoji: true in the front matter)")
    .option("--no-captions", "no captions under images")
    .action(run(async () => (await import("./commands/preview.js")).previewCommand));

  return program;
}

export async function main(argv: string[]): Promise<void> {
  const debug = argv.includes("--debug");
  guardProcess(debug);
  if (process.env["NO_COLOR"]) process.env["FORCE_COLOR"] = "0";
  const ctx = createContext({ debug });
  let code: number = EXIT.ok;
  try {
    const program = buildProgram(ctx, (c) => {
      code = c;
    });
    await program.parseAsync(argv);
  } catch (e) {
    code = report(ctx, e);
  } finally {
    await ctx.close().catch((e: unknown) => {
      code = report(ctx, e);
    });
  }
  process.exitCode = code;
}

/**
 * The last line of defence: an error thrown from a timer or an event callback reaches here instead of
 * printing a raw stack. It is reported like any internal error and the process exits 70.
 */
export function guardProcess(debug: boolean): void {
  const ctx = createContext({ debug });
  const die = (e: unknown) => {
    process.exitCode = report(ctx, e);
    process.exit();
  };
  process.on("uncaughtException", die);
  process.on("unhandledRejection", die);
}

/** Turn an error into its one line and exit code. */
export function report(ctx: Context, e: unknown): number {
  if (e instanceof ExitCode) return e.code;
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0)
      return EXIT.ok;
    // commander has already printed its one-line message.
    return EXIT.usage;
  }
  if (e instanceof UsageError) {
    ctx.err(problemLine(e));
    if (ctx.debug) ctx.err(e.stack ?? "");
    return EXIT.usage;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  ctx.err(`topn: internal error: ${err.message}${ctx.debug ? "" : " (run again with --debug for details)"}`);
  if (ctx.debug) ctx.err(err.stack ?? "");
  return EXIT.internal;
}
