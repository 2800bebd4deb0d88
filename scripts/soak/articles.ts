// The soak's articles: every title unique (the simulator finds duplicates by title), half with an image so
// uploads meet the faults too, and a few carrying a word Zhihu's review refuses: those must fail, for good,
// as "rejected" — the one permanent cause the soak plants on purpose.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makePng } from "../../test/fixtures/article/images.js";

export interface SoakArticle {
  file: string;
  account: string;
  title: string;
  /** Zhihu will refuse it: its task must end failed/rejected. */
  refused: boolean;
}

export function writeArticles(
  dir: string,
  opts: { count: number; accounts: readonly string[]; refused: number; seed: number },
): SoakArticle[] {
  mkdirSync(dir, { recursive: true });
  // Spread the refused ones over the run instead of bunching them at the start.
  const every = Math.max(1, Math.floor(opts.count / Math.max(1, opts.refused)));
  return Array.from({ length: opts.count }, (_, i) => {
    const account = opts.accounts[i % opts.accounts.length]!;
    const refused = opts.refused > 0 && i % every === every - 1 && Math.floor(i / every) < opts.refused;
    const title = `Soak ${opts.seed} article ${i + 1}`;
    const file = join(dir, `article-${i + 1}.md`);
    const image = i % 2 === 0;
    const body = [
      "---",
      `title: "${title}"`,
      "topics: [编程, 写作]",
      "---",
      "",
      `Article ${i + 1} of the soak, for account ${account}. It has $x^2$, **bold** text and a list:`,
      "",
      "- one",
      "- two",
      "",
      refused ? "This paragraph contains 违禁词, which the review refuses.\n" : "",
      image ? `![figure ${i + 1}](figure-${i + 1}.png)\n` : "",
      "```ts",
      `const article = ${i + 1};`,
      "```",
      "",
    ].join("\n");
    writeFileSync(file, body);
    if (image) {
      const png = makePng(48, 24 + (i % 40), (x, y) => [(x * 5 + i) % 256, (y * 7) % 256, (i * 13) % 256]);
      writeFileSync(join(dir, `figure-${i + 1}.png`), png);
    }
    return { file, account, title, refused };
  });
}
