// Before a file is scheduled: the checks only Zhihu can answer, asked once per distinct topic and column so a
// batch of 30 files costs a handful of reads. Nothing is written on Zhihu.

import { MAX_TOPICS } from "../article/index.js";
import { TaskFailure } from "../errors.js";
import type { PrecheckItem, PrecheckProblem } from "../platform.js";
import { WWW, type ZhihuApi } from "./api.js";
import { asRecord } from "./json.js";
import { findColumn } from "./publish-calls.js";
import { findTopic } from "./topics.js";

export async function precheck(api: ZhihuApi, items: readonly PrecheckItem[]): Promise<PrecheckProblem[]> {
  // A dead session throws here (session_expired, needs_verification…): the caller refuses the whole batch.
  const me = asRecord(
    (await api.json({ step: "check session", method: "GET", url: `${WWW}/api/v4/me` })).body,
  );
  const urlToken = typeof me.url_token === "string" ? me.url_token : null;
  const topics = new Map<string, TaskFailure | null>();
  const columns = new Map<string, TaskFailure | null>();
  const problems: PrecheckProblem[] = [];
  const ask = async (cache: Map<string, TaskFailure | null>, key: string, lookup: () => Promise<unknown>) => {
    if (!cache.has(key)) {
      try {
        await lookup();
        cache.set(key, null);
      } catch (e) {
        // Only "no such topic/column" is about the file; anything else means Zhihu could not be asked.
        if (!(e instanceof TaskFailure) || e.kind !== "bad_input") throw e;
        cache.set(key, e);
      }
    }
    return cache.get(key) ?? null;
  };
  for (const [index, item] of items.entries()) {
    for (const name of item.topics.slice(0, MAX_TOPICS)) {
      const wrong = await ask(topics, name.trim().toLowerCase(), () => findTopic(api, name));
      if (wrong)
        problems.push({ index, message: wrong.message, ...(wrong.hint ? { hint: wrong.hint } : {}) });
    }
    if (item.column !== undefined) {
      const column = item.column;
      const wrong = await ask(columns, column, () => findColumn(api, column, urlToken));
      if (wrong)
        problems.push({ index, message: wrong.message, ...(wrong.hint ? { hint: wrong.hint } : {}) });
    }
  }
  return problems;
}
