import assert from "node:assert/strict";
import { test } from "node:test";
import { displayWidth, fitColumns } from "../src/ui/format.js";
import { renderTable } from "../src/ui/table.js";
import { parseWhen } from "../src/ui/when.js";

test("display width counts CJK as two columns and colour codes as none", () => {
  assert.equal(displayWidth("abc"), 3);
  assert.equal(displayWidth("知乎 ok"), 7);
  assert.equal(displayWidth("\x1b[31mfailed\x1b[39m"), 6);
});

test("fitColumns cuts to the column budget with an ellipsis, never splitting a wide character", () => {
  assert.equal(fitColumns("short", 10), "short");
  assert.equal(fitColumns("二分查找为什么是", 9), "二分查找…");
  assert.ok(displayWidth(fitColumns("二分查找为什么是 O(log n)", 9)) <= 9);
});

test("tables align columns by display width and leave no trailing spaces", () => {
  const out = renderTable(
    ["ID", "TITLE", "URL"],
    [
      ["1", "知乎", "u1"],
      ["22", "ab", ""],
    ],
  );
  assert.deepEqual(out.split("\n"), ["ID  TITLE  URL", "1   知乎   u1", "22  ab"]);
});

test("--at understands local times, ISO times and phrases, and refuses the past", async () => {
  const now = new Date(2026, 10, 29, 10, 0);
  assert.equal(await parseWhen("2026-12-01 09:00", now), new Date(2026, 11, 1, 9, 0).getTime());
  assert.equal(await parseWhen("2026-12-01T09:00:00Z", now), Date.UTC(2026, 11, 1, 9));
  assert.equal(await parseWhen("tomorrow 9am", now), new Date(2026, 10, 30, 9, 0).getTime());
  await assert.rejects(parseWhen("2026-11-28 09:00", now), /is in the past/);
  await assert.rejects(parseWhen("2026-02-30 09:00", now), /not a real date/);
});
