// The two ways to ask Zhihu to publish a draft, and finding the column the legacy one takes.
//
// What can be set and what cannot: the comment permission goes with either endpoint; a column only with
// the legacy one (`column` object). Nothing known takes an article out of a column: the legacy endpoint
// answers 500 to `column: null`, and omitting `column` leaves the article where it is. So a file that drops
// its `column:` leaves the article in its column, and the job says so.

import { randomUUID } from "node:crypto";
import type { CommentPermission } from "../article/index.js";
import { TaskFailure } from "../errors.js";
import { WWW, ZHUANLAN, type ZhihuApi } from "./api.js";
import { asRecord, idOf, parseJson } from "./json.js";

/** The current endpoint. Returns the published article's id (exact, from a JSON string with a bare number). */
export async function publishCurrent(
  api: ZhihuApi,
  id: string,
  comments: CommentPermission,
  isPublished: boolean,
): Promise<string> {
  const business = {
    commentPermission: comments,
    disclaimer_type: "none",
    disclaimer_status: "close",
    table_of_contents_enabled: false,
    commercial_report_info: { commercial_types: [] },
    commercial_zhitask_bind_info: null,
    canReward: false,
  };
  const { body } = await api.json(
    {
      step: "publish",
      method: "POST",
      url: `${WWW}/api/v4/content/publish`,
      json: {
        action: "article",
        data: {
          publish: { traceId: `${Date.now()},${randomUUID()}` },
          extra_info: { publisher: "pc", pc_business_params: JSON.stringify(business) },
          draft: { disabled: 1, id, isPublished },
          commentsPermission: { comment_permission: comments },
          creationStatement: { disclaimer_type: "none", disclaimer_status: "close" },
          contentsTables: { table_of_contents_enabled: false },
          commercialReportInfo: { isReport: 0 },
          appreciate: { can_reward: false, tagline: "" },
          hybridInfo: {},
        },
      },
    },
    { publishCode: true },
  );
  const result = asRecord(asRecord(body).data).result;
  let published: Record<string, unknown> = {};
  try {
    published = asRecord(asRecord(typeof result === "string" ? parseJson(result) : result).publish);
  } catch {
    // An unreadable result still means success (code 0): the draft id is the article id.
  }
  return idOf(published.id) ?? id;
}

/** The column object of the account's column titled (or with the id) `wanted`, as the legacy endpoint takes it. */
export async function findColumn(
  api: ZhihuApi,
  wanted: string,
  urlToken: string | null,
): Promise<Record<string, unknown>> {
  const step = `find column ${wanted}`;
  if (urlToken === null)
    throw new TaskFailure("transient", step, "Zhihu's session check did not name the account");
  const { body } = await api.json({
    step,
    method: "GET",
    url: `${WWW}/api/v4/members/${encodeURIComponent(urlToken)}/column-contributions?limit=20&offset=0`,
  });
  const data = asRecord(body).data;
  const columns = (Array.isArray(data) ? data : []).map((d) => asRecord(asRecord(d).column));
  const column = columns.find((c) => c.title === wanted || String(c.id) === wanted);
  if (column) return column;
  const names = columns.map((c) => c.title).filter((t): t is string => typeof t === "string");
  throw new TaskFailure("bad_input", step, `the account has no column named "${wanted}"`, {
    hint: names.length > 0 ? `its columns: ${names.join(", ")}` : "create the column on Zhihu first",
  });
}

/** The legacy endpoint: the only one known to take a column. */
export async function publishLegacy(
  api: ZhihuApi,
  id: string,
  comments: CommentPermission,
  column: Record<string, unknown>,
): Promise<void> {
  await api.call({
    step: "publish",
    method: "PUT",
    url: `${ZHUANLAN}/api/articles/${id}/publish`,
    json: { commentPermission: comments, column },
  });
}
