// Diagrams drawn for real: Mermaid in headless Chromium (its script from node_modules, nothing from the
// network), Graphviz as WebAssembly rasterised in the same page. The same source must give the same bytes
// on one machine: the md5 is the image's identity on Zhihu and part of articleDigest.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, describe, test } from "node:test";
import { imageSize } from "image-size";
import { chromiumDiagrams, graphvizSvg } from "../src/article/diagrams.js";
import { articleDigest, prepareArticle, renderArticle } from "../src/article/index.js";
import { preview } from "../src/article/preview.js";
import { imageSources } from "./helpers/html.js";
import { tempDir } from "./helpers/run.js";

const dir = tempDir({ after }, "topn-diagrams-");
const md5 = (b: Buffer): string => createHash("md5").update(b).digest("hex");
const FLOWCHART = "flowchart LR\n  A[Write] --> B{Ready?}\n  B -->|yes| C[Publish]\n  B -->|no| A\n";
const GRAPH = "digraph G { rankdir=LR; markdown -> html -> zhihu; markdown -> png -> zhihu }";

describe("drawing diagrams in Chromium", { timeout: 120_000 }, () => {
  test("a mermaid flowchart and a dot graph become PNGs, byte for byte the same when drawn again", async (t) => {
    const first = chromiumDiagrams();
    const second = chromiumDiagrams();
    try {
      let started = performance.now();
      const flow = await first.render("mermaid", FLOWCHART);
      const firstMs = performance.now() - started;
      started = performance.now();
      const graph = await first.render("dot", GRAPH);
      const dotMs = performance.now() - started;
      started = performance.now();
      const again = await first.render("mermaid", FLOWCHART);
      const warmMs = performance.now() - started;
      t.diagnostic(
        `mermaid: ${Math.round(firstMs)} ms with browser launch and script injection, ${Math.round(warmMs)} ms warm; ` +
          `dot: ${Math.round(dotMs)} ms; sizes ${flow.length} and ${graph.length} bytes`,
      );
      for (const png of [flow, graph]) {
        const size = imageSize(png);
        assert.equal(size.type, "png");
        assert.ok(size.width > 100 && size.height > 40, `${size.width}×${size.height}`);
      }
      assert.equal(md5(again), md5(flow), "the same page draws the same bytes");
      // A fresh browser draws the same bytes too.
      assert.equal(md5(await second.render("mermaid", FLOWCHART)), md5(flow));
      assert.equal(md5(await second.render("dot", GRAPH)), md5(graph));
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test("a diagram that does not parse rejects with a one-line reason, and the page still draws", async () => {
    const renderer = chromiumDiagrams();
    try {
      await assert.rejects(renderer.render("mermaid", "flowchart LR\n  A --> \n  ??? -->"), (e: unknown) => {
        assert.match((e as Error).message, /^Parse error on line \d+/);
        assert.doesNotMatch((e as Error).message, /\n/);
        return true;
      });
      await assert.rejects(renderer.render("dot", "digraph { a -> }"), /syntax error in line 1/);
      assert.equal(imageSize(await renderer.render("mermaid", FLOWCHART)).type, "png");
    } finally {
      await renderer.close();
    }
  });

  test("Graphviz runs in Node: DOT → SVG without a browser", async () => {
    assert.match(await graphvizSvg("digraph { a -> b }"), /^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
  });

  test("prepare draws a file's diagrams (one browser, closed after), preview shows them", async () => {
    const file = path.join(dir, "post.md");
    await writeFile(
      file,
      `---\ntitle: 图 Diagrams\ntopics: [写作]\n---\n\`\`\`mermaid\n${FLOWCHART}\`\`\`\n\n\`\`\`graphviz\n${GRAPH}\n\`\`\`\n\n` +
        "```mermaid\nnot a diagram at all\n```\n",
    );
    const a = await prepareArticle(file);
    assert.deepEqual(
      a.images.map((i) => [i.ext, i.source]),
      [
        ["png", "mermaid diagram at line 5"],
        ["png", "dot diagram at line 12"],
      ],
    );
    assert.equal(a.warnings.length, 1);
    assert.match(
      a.warnings[0]!,
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:16: mermaid diagram not drawn \\(.+\\): kept as a code block$`,
      ),
    );
    const html = renderArticle(a, (asset) => `https://pic4.zhimg.com/v2-${asset.id}`);
    assert.equal(imageSources(html).length, 2);
    assert.match(html, /<pre lang="mermaid">not a diagram at all<\/pre>/);
    // Prepared again (as the job does): the same digest.
    assert.equal(articleDigest(await prepareArticle(file)), articleDigest(a));

    const shown = await preview({ file });
    const page = await readFile(shown.out, "utf8");
    assert.equal((page.match(/<img src="data:image\/png;base64,/g) ?? []).length, 2);
  });
});
