import { UsageError } from "../errors.js";

export function parseTaskId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`"${text}" is not a task id`, "task ids are the numbers shown by: topn tasks");
  }
  return Number(text);
}
