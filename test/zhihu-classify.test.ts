// Reading Zhihu's answers without a browser: exact ids, and the one table that classifies failures.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Outcome } from "../src/zhihu/api.js";
import { classify } from "../src/zhihu/classify.js";
import { ossHeaders } from "../src/zhihu/images.js";
import { parseJson } from "../src/zhihu/json.js";

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): Outcome => ({
  kind: "answer",
  answer: { status, headers, text: typeof body === "string" ? body : JSON.stringify(body) },
});
const c = { step: "publish", account: "work", publishCode: false };

test("ids above 2^53 stay exact, also bare inside a JSON string", () => {
  const result =
    '{"publish":{"id":1913000007654321099,"url":"https://zhuanlan.zhihu.com/p/1913000007654321099"}}';
  const outer = JSON.stringify({ code: 0, data: { result } });
  const body = parseJson(outer) as { data: { result: string } };
  const inner = parseJson(body.data.result) as { publish: { id: string } };
  assert.equal(inner.publish.id, "1913000007654321099");
  // Digits inside strings and small numbers are left alone.
  assert.deepEqual(parseJson('{"a":"12345678901234567890","b":42,"c":1.5e3,"d":[-12345678901234567]}'), {
    a: "12345678901234567890",
    b: 42,
    c: 1500,
    d: ["-12345678901234567"],
  });
});

test("the failure table", () => {
  const kind = (o: Outcome, ctx = c) => classify(o, ctx)?.kind ?? null;
  assert.equal(kind(answer(200, { id: "1" })), null);
  assert.equal(kind({ kind: "network", message: "Failed to fetch" }), "transient");
  assert.equal(kind({ kind: "timeout", ms: 30_000 }), "transient");
  assert.equal(kind(answer(502, "<html>bad gateway</html>")), "transient");
  assert.equal(kind(answer(401, { error: { code: 100, message: "请求需要登录" } })), "session_expired");
  assert.equal(kind(answer(403, { error: { code: 101, message: "身份未经过验证" } })), "session_expired");
  assert.equal(kind(answer(403, { error: { code: 403, name: "XSRFError", message: "x" } })), "transient");
  assert.equal(kind(answer(403, { error: { code: 4031, message: "请先完成手机号绑定" } })), "phone_binding");
  assert.equal(kind(answer(400, { error: { code: 4003, message: "最多只能添加 3 个话题" } })), "rejected");
  assert.equal(
    kind(answer(200, { code: 10006, message: "请至少添加一个话题" }), { ...c, publishCode: true }),
    "rejected",
  );
  assert.equal(kind(answer(200, { code: 0, message: "success" }), { ...c, publishCode: true }), null);
  assert.equal(
    kind(
      answer(
        403,
        '<?xml version="1.0"?><Error><Code>SecurityTokenExpired</Code><Message>m</Message></Error>',
        {
          "content-type": "application/xml",
        },
      ),
    ),
    "transient",
  );

  const verify = classify(
    answer(403, {
      error: { code: 40352, need_login: true, redirect: "https://www.zhihu.com/account/unhuman?type=x" },
    }),
    c,
  );
  assert.equal(verify?.kind, "needs_verification");
  assert.equal(verify?.url, "https://www.zhihu.com/account/unhuman?type=x");
  assert.equal(verify?.step, "publish");

  const limited = classify(answer(429, { error: { code: 429 } }, { "retry-after": "7" }), c);
  assert.equal(limited?.kind, "rate_limited");
  assert.equal(limited?.retryAfterMs, 7000);

  const expired = classify(answer(401, { error: { code: 100, message: "请求需要登录" } }), c);
  assert.match(expired?.message ?? "", /session of account work has expired .*请求需要登录/);
  // The fix is a hint, so an account's pause (message as reason, its own fix) does not say it twice.
  assert.equal(expired?.hint, "log in again: topn login zhihu --account work");
});

test("OSS V1 signature over the headers Zhihu's uploader sends", () => {
  const h = ossHeaders({
    accessId: "STS.id",
    accessKey: "secret",
    securityToken: "tok",
    contentType: "image/png",
    date: "Sun, 29 Nov 2026 03:16:43 GMT",
    objectKey: "v2-abc",
    userAgent: "ua",
  });
  // HMAC-SHA1("secret", "PUT\n\nimage/png\n<date>\nx-oss-date:<date>\nx-oss-security-token:tok\nx-oss-user-agent:ua\n/zhihu-pics/v2-abc")
  assert.match(h.authorization ?? "", /^OSS STS\.id:[A-Za-z0-9+/]{27}=$/);
  assert.equal(h["x-oss-date"], "Sun, 29 Nov 2026 03:16:43 GMT");
});
