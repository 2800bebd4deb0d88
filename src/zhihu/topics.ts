// An article's topics made equal to the file's: every wanted topic is looked up first (an unknown name
// fails the task before anything changes), then topics the file no longer names are unbound, then the
// missing ones bound. Unbinding first keeps the article within Zhihu's cap of 3 at every moment.
// Tags (Hugo/Jekyll `tags`, offered when the file names no topics) were not written for Zhihu: the ones
// Zhihu knows are bound like topics, the others are left out and reported, never a reason to fail.

import { MAX_TOPICS } from "../article/index.js";
import { TaskFailure } from "../errors.js";
import { ZHUANLAN, type ZhihuApi } from "./api.js";
import { asRecord, idOf } from "./json.js";

export interface Topic {
  id: string;
  name: string;
}

const sameName = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/** The topics a draft or article answer lists. */
export function topicsOf(answer: Record<string, unknown> | null): Topic[] {
  const list = Array.isArray(answer?.topics) ? answer.topics : [];
  return list.flatMap((t): Topic[] => {
    const raw = asRecord(t);
    const id = idOf(raw.id);
    return id !== null && typeof raw.name === "string" ? [{ id, name: raw.name }] : [];
  });
}

export interface TopicsSynced {
  /** The article's topics now. */
  names: string[];
  /** Tags Zhihu has no topic for: left out. */
  unknown: string[];
  /** Tags past Zhihu's cap of topics: left out without asking. */
  overCap: string[];
}

/**
 * Binds and unbinds so that article `id` has exactly the `wanted` topics plus the `tags` Zhihu knows (by
 * name, case-insensitive), at most MAX_TOPICS in all.
 */
export async function syncTopics(
  api: ZhihuApi,
  id: string,
  wanted: string[],
  bound: Topic[],
  tags: readonly string[] = [],
): Promise<TopicsSynced> {
  const isBound = (name: string) => bound.some((t) => sameName(t.name, name));
  const found: Array<{ name: string; topic: Record<string, unknown> }> = [];
  const keep = [...wanted];
  for (const name of wanted) {
    if (isBound(name)) continue;
    found.push({ name, topic: await findTopic(api, name) });
  }
  const out: TopicsSynced = { names: [], unknown: [], overCap: [] };
  for (const tag of tags) {
    if (keep.some((k) => sameName(k, tag))) continue;
    if (keep.length >= MAX_TOPICS) {
      out.overCap.push(tag);
      continue;
    }
    if (isBound(tag)) {
      keep.push(tag);
      continue;
    }
    const topic = (await lookupTopic(api, tag, `look up tag ${tag}`)).topic;
    if (topic === undefined) {
      out.unknown.push(tag);
      continue;
    }
    keep.push(tag);
    found.push({ name: tag, topic });
  }
  for (const stale of bound.filter((t) => !keep.some((w) => sameName(w, t.name)))) {
    await api.call({
      step: `unbind topic ${stale.name}`,
      method: "DELETE",
      url: `${ZHUANLAN}/api/articles/${id}/topics/${stale.id}`,
    });
  }
  for (const { name, topic } of found) {
    await api.call({
      step: `bind topic ${name}`,
      method: "POST",
      url: `${ZHUANLAN}/api/articles/${id}/topics`,
      json: topic,
    });
  }
  out.names = keep;
  return out;
}

/** Zhihu's topic object named exactly `name` (binding takes that object), and the names it offered. */
async function lookupTopic(
  api: ZhihuApi,
  name: string,
  step: string,
): Promise<{ topic: Record<string, unknown> | undefined; near: string[] }> {
  const { body } = await api.json({
    step,
    method: "GET",
    url: `${ZHUANLAN}/api/autocomplete/topics?token=${encodeURIComponent(name)}&max_matches=5&use_similar=0&topic_filter=1`,
  });
  const found = (Array.isArray(body) ? body : []).map(asRecord);
  const topic = found.find((t) => typeof t.name === "string" && sameName(t.name, name));
  const near = found.map((t) => t.name).filter((n): n is string => typeof n === "string");
  return { topic, near };
}

/**
 * A topic the file names: one Zhihu does not know fails the task (bad_input), with the names it offered
 * instead ("did you mean"). Also what `publish --at` asks before scheduling (precheck.ts).
 */
export async function findTopic(api: ZhihuApi, name: string): Promise<Record<string, unknown>> {
  const step = `bind topic ${name}`;
  const { topic, near } = await lookupTopic(api, name, step);
  if (topic) return topic;
  throw new TaskFailure("bad_input", step, `Zhihu has no topic named "${name}"`, {
    hint:
      near.length > 0
        ? `did you mean: ${near.join(", ")}? fix topics: in the front matter`
        : "fix topics: in the front matter",
  });
}
