// An article's topics made equal to the file's: every wanted topic is looked up first (an unknown name
// fails the task before anything changes), then topics the file no longer names are unbound, then the
// missing ones bound. Unbinding first keeps the article within Zhihu's cap of 3 at every moment.

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

/** Binds and unbinds so that article `id` has exactly the `wanted` topics (by name, case-insensitive). */
export async function syncTopics(api: ZhihuApi, id: string, wanted: string[], bound: Topic[]): Promise<void> {
  const found: Array<{ name: string; topic: Record<string, unknown> }> = [];
  for (const name of wanted) {
    if (bound.some((t) => sameName(t.name, name))) continue;
    found.push({ name, topic: await findTopic(api, name) });
  }
  for (const stale of bound.filter((t) => !wanted.some((w) => sameName(w, t.name)))) {
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
}

/** Zhihu's topic object named exactly `name`, as its autocomplete returns it (binding takes that object). */
async function findTopic(api: ZhihuApi, name: string): Promise<Record<string, unknown>> {
  const step = `bind topic ${name}`;
  const { body } = await api.json({
    step,
    method: "GET",
    url: `${ZHUANLAN}/api/autocomplete/topics?token=${encodeURIComponent(name)}&max_matches=5&use_similar=0&topic_filter=1`,
  });
  const found = (Array.isArray(body) ? body : []).map(asRecord);
  const topic = found.find((t) => typeof t.name === "string" && sameName(t.name, name));
  if (topic) return topic;
  const near = found.map((t) => t.name).filter((n): n is string => typeof n === "string");
  throw new TaskFailure("bad_input", step, `Zhihu has no topic named "${name}"`, {
    hint:
      near.length > 0
        ? `did you mean: ${near.join(", ")}? fix topics: in the front matter`
        : "fix topics: in the front matter",
  });
}
