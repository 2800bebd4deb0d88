// Reading Zhihu's JSON: ids above 2^53 exact, whatever the size of the answer. A 12 MB article once made
// the reader overflow the stack, and a task whose article Zhihu had published was recorded as failed.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseJson, quoteLongIntegers } from "../src/zhihu/json.js";

const ID = "1913000007654321099";

/** An article answer as Zhihu shapes it, with `content` of about `bytes` characters of HTML. */
function bigArticle(bytes: number, unit: string): string {
  const content = unit.repeat(Math.ceil(bytes / unit.length));
  return `{"id":${ID},"type":"article","title":"长文","content":${JSON.stringify(content)},"author":{"id":"4c1f","uid":1398765432100},"updated":1718000000}`;
}

describe("parseJson", () => {
  test("integers of 16+ digits become their exact digits; everything else is JSON.parse's reading", () => {
    const text = JSON.stringify({ s: "x" }).replace(
      '"x"',
      `"x", "id": ${ID}, "neg": -${ID}, "small": 42, "fifteen": 123456789012345, "sixteen": 1234567890123456,` +
        ` "frac": 12345678901234567.5, "exp": 12345678901234567e2, "expSigned": 1E+3, "neg15": -123456789012345,` +
        ` "list": [${ID},${ID}], "zero": 0, "minusZero": -0`,
    );
    assert.deepEqual(parseJson(text), {
      s: "x",
      id: ID,
      neg: `-${ID}`,
      small: 42,
      fifteen: 123456789012345,
      sixteen: "1234567890123456",
      // Real numbers keep JSON.parse's (rounded) reading.
      frac: JSON.parse("12345678901234567.5"),
      exp: JSON.parse("12345678901234567e2"),
      expSigned: 1000,
      neg15: -123456789012345,
      list: [ID, ID],
      zero: 0,
      minusZero: -0,
    });
  });

  test("digits inside strings are left alone, also next to escaped quotes and backslashes", () => {
    const value = {
      plain: `id ${ID} in text`,
      quoted: `say "${ID}" and \\"`,
      slashes: "\\\\",
      tail: `\\`,
      [`key ${ID}`]: `"${ID}"`,
      unicode: `\u4e2d\u6587 ${ID} \u2028`,
    };
    const text = JSON.stringify(value);
    assert.equal(quoteLongIntegers(text), text, "nothing outside strings to quote");
    assert.deepEqual(parseJson(text), value);
    // A bare id right after a string that ends in an escaped backslash is still found.
    assert.deepEqual(parseJson(`["a\\\\",${ID}]`), ["a\\", ID]);
    assert.deepEqual(parseJson(`["\\"",${ID},"\\\\\\""]`), ['"', ID, '\\"']);
  });

  test("the publish result: JSON text inside a JSON string, the id bare in the inner text", () => {
    const inner = `{"publish":{"id":${ID},"url":"https://zhuanlan.zhihu.com/p/${ID}"}}`;
    const outer = JSON.stringify({ code: 0, data: { result: inner } });
    const body = parseJson(outer) as { data: { result: string } };
    assert.equal(body.data.result, inner);
    assert.equal((parseJson(body.data.result) as { publish: { id: string } }).publish.id, ID);
  });

  test("what is not JSON stays not JSON", () => {
    for (const bad of ["", "{", `{"a": ${ID}`, '"unterminated', "<html>502</html>", `[${ID}`]) {
      assert.throws(() => parseJson(bad), SyntaxError, bad);
    }
  });

  test("12 MB answers: plain text, text full of quotes and digits, many ids; linear time", (t) => {
    const cases = {
      html: bigArticle(12 * 1024 * 1024, "<p>知乎长文，第一段。</p>"),
      escapes: bigArticle(12 * 1024 * 1024, `<p data-x="${ID}">\\"${ID}\\" -${ID}</p>`),
      ids: `[${Array.from({ length: 500_000 }, (_, i) => `{"id":${BigInt(ID) + BigInt(i)}}`).join(",")}]`,
    };
    const timings: string[] = [];
    for (const [name, text] of Object.entries(cases)) {
      const t0 = performance.now();
      const parsed = parseJson(text);
      const ms = performance.now() - t0;
      timings.push(`${name} ${(text.length / 1024 / 1024).toFixed(1)} M chars: ${ms.toFixed(0)} ms`);
      if (name === "ids") {
        const list = parsed as Array<{ id: string }>;
        assert.equal(list.length, 500_000);
        assert.equal(list[499_999]?.id, String(BigInt(ID) + 499_999n));
      } else {
        const a = parsed as { id: string; content: string; author: { uid: number } };
        assert.equal(a.id, ID);
        assert.equal(a.author.uid, 1398765432100);
        assert.ok(a.content.length >= 12 * 1024 * 1024);
      }
      // Generous: measured at ~50-150 ms here on a shared machine; a backtracking reader takes far longer or dies.
      assert.ok(ms < 5_000, `${name} took ${ms} ms`);
    }
    t.diagnostic(`parseJson: ${timings.join("; ")}`);
  });

  test("deep nesting: no recursion in the quoting; JSON.parse itself is iterative", () => {
    const depth = 100_000;
    const text = `${"[".repeat(depth)}${ID}${"]".repeat(depth)}`;
    let v = parseJson(text);
    for (let i = 0; i < depth; i++) v = (v as unknown[])[0];
    assert.equal(v, ID);
    const objects = `${'{"a":'.repeat(depth)}${ID}${"}".repeat(depth)}`;
    let o = parseJson(objects);
    for (let i = 0; i < depth; i++) o = (o as { a: unknown }).a;
    assert.equal(o, ID);
  });
});
