// npm run demo: topn end to end against the built-in Zhihu simulator, in a throwaway TOPN_HOME.
// Starts the simulator, imports the demo account's cookies (as a person would with a cookie export),
// publishes examples/*.md, then shows the task table and the article URLs.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, ROOT, simEnv } from "../test/helpers/run.js";
import { startSimulator } from "../test/sim/index.js";

function topn(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<number> {
  console.log(`\n$ topn ${args.join(" ")}`);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: posts,
    env,
    stdio: [input === undefined ? "ignore" : "pipe", "inherit", "inherit"],
  });
  if (input !== undefined) child.stdin?.end(input);
  return new Promise((res, rej) => {
    child.on("error", rej);
    child.on("close", (code) => res(code ?? 1));
  });
}

const home = mkdtempSync(join(tmpdir(), "topn-demo-"));
// A copy of the examples: publishing writes each article's URL into its file's front matter.
const posts = join(home, "posts");
cpSync(join(ROOT, "examples"), posts, { recursive: true });
const sim = await startSimulator({ controlPort: false });
const account = sim.createAccount("demo");
// simEnv keeps the demo away from your real keychain.
const env: NodeJS.ProcessEnv = { ...process.env, ...simEnv(sim, home) };
console.log(`Zhihu simulator on https://127.0.0.1:${sim.port}; TOPN_HOME=${home}`);

let code = 0;
try {
  const files = readdirSync(posts).filter((f) => f.endsWith(".md"));
  code = await topn(["login", "zhihu", "--account", "demo", "--cookies", "-"], env, account.cookieHeader);
  if (code === 0) code = await topn(["publish", ...files], env);
  await topn(["tasks"], env);
  const first = files[0];
  if (first) {
    const line = /^zhihu: .*$/m.exec(readFileSync(join(posts, first), "utf8"))?.[0];
    if (line) console.log(`\n${first} now carries its article in its front matter: ${line}`);
    // Publishing an unchanged file again has nothing to do.
    await topn(["publish", first], env);
  }
  const articles = sim.articles().filter((a) => a.state === "published");
  console.log(`\nThe simulator holds ${articles.length} published article(s):`);
  for (const a of articles) console.log(`  ${a.title}\n    ${a.url}  (published ${a.publishCount}×)`);
  console.log(`\nExplore this run: cd ${posts} && TOPN_HOME=${home} node ${BIN} show 1`);
} finally {
  await sim.close();
}
process.exitCode = code;
