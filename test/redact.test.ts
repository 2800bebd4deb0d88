import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { REDACTED, redact, redactValue } from "../src/redact.js";

// Fake secrets in Zhihu's shapes. Every test checks that none of them survives.
const Z_C0 =
  "2|1:0|10:1735689600|4:z_c0|92:Mi4xRkFLRS1UT1BOLVRFU1QtT05MWQ==|fa4e00000000000000000000000000000000";
const XSRF = "fake0000-xsrf-0000-0000-000000000000";
const D_C0 = '"AFAKEd_c0FAKEd_c0FAKE=|1735689600"';
const Q_C1 = "fakeq_c1fakeq_c1|1735689600000|1735689600000";
const ZSE = "001_FAKEzseck/FAKE+zseck==";
const OSS_ID = "STS.NUfakeaccessid";
const OSS_KEY = "fakeAccessKeySecret0000";
const OSS_TOKEN = "CAISfakeSecurityTokenCAISfakeSecurityToken";
const QR = "qrfake5c0a2b3d4e5f60718293a4b5c6d7";
const SECRETS = [
  Z_C0,
  "Mi4xRkFLRS1UT1BO",
  XSRF,
  "AFAKEd_c0",
  Q_C1,
  ZSE,
  OSS_ID,
  OSS_KEY,
  OSS_TOKEN,
  QR,
  "c2lnbmF0dXJlZmFrZQ",
];

function assertClean(text: string): void {
  for (const s of SECRETS)
    assert.ok(!text.includes(s), `a secret survived (${s.slice(0, 12)}…) in:\n${text}`);
}

/** redact() must give exactly `want`, hide every secret, and be idempotent. */
function same(input: string, want: string): void {
  const out = redact(input);
  assert.equal(out, want);
  assertClean(out);
  assert.equal(redact(out), out, "redact is idempotent");
}

describe("redact: headers", () => {
  test("Cookie header: every value, names kept", () => {
    same(
      `Cookie: _zap=fake-zap; d_c0=${D_C0}; _xsrf=${XSRF}; z_c0=${Z_C0}; q_c1=${Q_C1}; __zse_ck=${ZSE}\r\nAccept: */*`,
      `Cookie: _zap=${REDACTED}; d_c0=${REDACTED}; _xsrf=${REDACTED}; z_c0=${REDACTED}; q_c1=${REDACTED}; __zse_ck=${REDACTED}\r\nAccept: */*`,
    );
  });

  test("Set-Cookie: values hidden, attributes kept, also several joined by commas", () => {
    same(
      `set-cookie: z_c0=${Z_C0}; Domain=zhihu.com; expires=Wed, 21 Oct 2026 07:28:00 GMT; httponly; Path=/, _xsrf=${XSRF}; path=/; SameSite=Lax`,
      `set-cookie: z_c0=${REDACTED}; Domain=zhihu.com; expires=Wed, 21 Oct 2026 07:28:00 GMT; httponly; Path=/, _xsrf=${REDACTED}; path=/; SameSite=Lax`,
    );
  });

  test("x-xsrftoken, x-oss-security-token (also in the OSS string to sign), Authorization: OSS", () => {
    same(
      [
        `x-xsrftoken: ${XSRF}`,
        "x-zse-93: 101_3_3.0",
        `Authorization: OSS ${OSS_ID}:c2lnbmF0dXJlZmFrZQ==`,
        `x-oss-security-token: ${OSS_TOKEN}`,
        "",
        `PUT\n\nimage/png\nWed, 21 Oct 2026 07:28:00 GMT\nx-oss-date:Wed, 21 Oct 2026 07:28:00 GMT\nx-oss-security-token:${OSS_TOKEN}\nx-oss-user-agent:aliyun-sdk-js/6.8.0\n/zhihu-pics/v2-abc`,
      ].join("\n"),
      [
        `x-xsrftoken: ${REDACTED}`,
        "x-zse-93: 101_3_3.0",
        `Authorization: OSS ${REDACTED}`,
        `x-oss-security-token: ${REDACTED}`,
        "",
        `PUT\n\nimage/png\nWed, 21 Oct 2026 07:28:00 GMT\nx-oss-date:Wed, 21 Oct 2026 07:28:00 GMT\nx-oss-security-token:${REDACTED}\nx-oss-user-agent:aliyun-sdk-js/6.8.0\n/zhihu-pics/v2-abc`,
      ].join("\n"),
    );
  });

  test("a cookie header inside a curl command keeps its quotes", () => {
    same(
      `curl 'https://www.zhihu.com/api/v4/me' -H 'cookie: z_c0=${Z_C0}; _xsrf=${XSRF}' -H 'x-requested-with: fetch'`,
      `curl 'https://www.zhihu.com/api/v4/me' -H 'cookie: z_c0=${REDACTED}; _xsrf=${REDACTED}' -H 'x-requested-with: fetch'`,
    );
  });
});

describe("redact: JSON text", () => {
  test("header objects, query strings, image upload token", () => {
    const input = JSON.stringify({
      request: {
        url: `https://www.zhihu.com/api/v4/me?_xsrf=${XSRF}&include=x`,
        headers: {
          cookie: `a=1; z_c0=${Z_C0}`,
          "x-xsrftoken": XSRF,
          Authorization: `OSS ${OSS_ID}:c2lnbmF0dXJlZmFrZQ==`,
        },
      },
      response: {
        upload_file: { image_id: "v2-abc", state: 2, object_key: "v2-abc" },
        upload_token: {
          access_id: OSS_ID,
          access_key: OSS_KEY,
          access_token: OSS_TOKEN,
          access_timestamp: 1735689600,
        },
      },
    });
    same(
      input,
      JSON.stringify({
        request: {
          url: `https://www.zhihu.com/api/v4/me?_xsrf=${REDACTED}&include=x`,
          headers: {
            cookie: `a=${REDACTED}; z_c0=${REDACTED}`,
            "x-xsrftoken": REDACTED,
            Authorization: `OSS ${REDACTED}`,
          },
        },
        response: {
          upload_file: { image_id: "v2-abc", state: 2, object_key: "v2-abc" },
          upload_token: {
            access_id: REDACTED,
            access_key: REDACTED,
            access_token: REDACTED,
            access_timestamp: 1735689600,
          },
        },
      }),
    );
  });

  test("pretty-printed JSON and a JSON body held as a string", () => {
    same(
      JSON.stringify({ access_key: OSS_KEY, n: 1 }, null, 2),
      JSON.stringify({ access_key: REDACTED, n: 1 }, null, 2),
    );
    same(
      JSON.stringify({ body: JSON.stringify({ token: `${QR}"x`, access_token: OSS_TOKEN, ok: true }) }),
      JSON.stringify({ body: JSON.stringify({ token: REDACTED, access_token: REDACTED, ok: true }) }),
    );
  });

  test("QR login: token, new_token, and the token inside its URLs", () => {
    same(
      JSON.stringify({ token: QR, link: `https://www.zhihu.com/account/scan/login/${QR}?/api/login/qrcode` }),
      JSON.stringify({
        token: REDACTED,
        link: `https://www.zhihu.com/account/scan/login/${REDACTED}?/api/login/qrcode`,
      }),
    );
    same(
      `GET https://www.zhihu.com/api/v3/account/api/login/qrcode/${QR}/scan_info -> {"status":5,"new_token":"${QR}"}`,
      `GET https://www.zhihu.com/api/v3/account/api/login/qrcode/${REDACTED}/scan_info -> {"status":5,"new_token":"${REDACTED}"}`,
    );
  });

  test("cookie objects, name before or after value", () => {
    same(
      `[{"name":"z_c0","value":"${Z_C0}","domain":".zhihu.com"},{"value":"${ZSE}","path":"/","name":"__zse_ck"},{"name":"theme","value":"dark"}]`,
      `[{"name":"z_c0","value":"${REDACTED}","domain":".zhihu.com"},{"value":"${REDACTED}","path":"/","name":"__zse_ck"},{"name":"theme","value":"dark"}]`,
    );
  });

  test("the z_c0 ticket without its name, plain or URL-encoded", () => {
    same(`ticket ${Z_C0} end`, `ticket ${REDACTED} end`);
    same(`z=${encodeURIComponent(Z_C0)}&a=1`, `z=${REDACTED}&a=1`);
  });
});

describe("redact: HTML", () => {
  test("document.cookie strings and inline JSON in a page; scripts and text untouched", () => {
    const page = (cookie: string, xsrf: string) =>
      `<!doctype html><html><head><meta charset="utf-8"><title>写文章 - 知乎</title>
<script>var i=0; for (i=0;i<3;i++) {} x=1; y=2; fetch(u,{headers:{authorization:e,"x-zse-93":"101_3_3.0"}});</script>
<script>document.cookie = "${cookie}";</script>
<script id="js-initialData" type="text/json">{"initialState":{"me":{"urlToken":"fake-user","name":"作者"},"xsrf":"${xsrf}","token":{"carCompose":""}}}</script>
</head><body><p>文章 a=b; c=d 正文 <a href="https://zhuanlan.zhihu.com/p/1?utm=1&amp;x=2">链接</a></p></body></html>`;
    same(
      page(`_xsrf=${XSRF}; d_c0=${D_C0}; __zse_ck=${ZSE}`, XSRF),
      page(`_xsrf=${REDACTED}; d_c0=${REDACTED}; __zse_ck=${REDACTED}`, REDACTED),
    );
  });

  test("text without secrets is returned unchanged", () => {
    const text = `<div class="RichText">Authorization: required. The token: none. cookie: chocolate chip; 1+1=2; a==b</div>
{"id":"1234567890123456789","title":"标题","topics":[{"id":"19550517","name":"互联网"}],"state":"published","token":""}`;
    assert.equal(redact(text), text);
  });

  test("cheap on a 1 MB page", (t) => {
    const para = `<p data-pid="p1">知乎是中文互联网的问答社区，<a href="https://zhuanlan.zhihu.com/p/123?utm_source=x&amp;m=y">链接</a> code <code>for (let i=0;i&lt;n;i++) s+=a[i];</code></p>\n`;
    const js = `<script>!function(e){var t={};function n(r){return t[r]}n.d=function(e,t,r){n.o(e,t)};var a={headers:{authorization:e}};}([]);</script>\n`;
    let html = "<!doctype html><html><body>";
    while (html.length < 1_000_000) html += para + js;
    const secretLine = `<script>document.cookie="_xsrf=${XSRF}; z_c0=${Z_C0}"</script>`;
    const input = `${html}${secretLine}</body></html>`;
    const start = performance.now();
    const out = redact(input);
    const ms = performance.now() - start;
    t.diagnostic(`redact() on ${(input.length / 1e6).toFixed(2)} MB of HTML: ${ms.toFixed(1)} ms`);
    assert.equal(
      out,
      `${html}<script>document.cookie="_xsrf=${REDACTED}; z_c0=${REDACTED}"</script></body></html>`,
    );
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test("adversarial inputs stay linear: 16 times the input costs far less than 256 times the time", (t) => {
    // A ratio measured in one run, not a wall-clock limit: a loaded machine slows both sizes alike, while
    // quadratic backtracking would make the large one ~256× slower than the small one.
    const timeOf = (input: string) => {
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        redact(input);
        runs.push(performance.now() - start);
      }
      return runs.sort((a, b) => a - b)[1]!;
    };
    for (const unit of [
      `"name":"z_c0",`,
      `"value":"x",`,
      "a=b; ",
      `"token":"`,
      "cookie: ",
      "2|1:0|10:1234567|",
    ]) {
      const small = timeOf(unit.repeat(Math.ceil(125_000 / unit.length)));
      const large = timeOf(unit.repeat(Math.ceil(2_000_000 / unit.length)));
      t.diagnostic(`${JSON.stringify(unit)}: 125 KB ${small.toFixed(1)} ms, 2 MB ${large.toFixed(1)} ms`);
      assert.ok(
        large < 64 * small + 20,
        `${unit}: ${large.toFixed(1)} ms for 16× the input of ${small.toFixed(1)} ms`,
      );
    }
  });
});

describe("redactValue", () => {
  test("deep copy with secret fields, cookie objects and embedded strings hidden; the input unchanged", () => {
    const input = {
      headers: {
        Cookie: `z_c0=${Z_C0}; theme=dark`,
        Authorization: `Bearer ${OSS_TOKEN}`,
        "X-Xsrftoken": XSRF,
      },
      cookies: [
        { name: "SESSIONID", value: "fake-session-id", domain: ".zhihu.com", path: "/" },
        { name: "theme", value: "dark" },
      ],
      upload_token: {
        access_id: OSS_ID,
        access_key: OSS_KEY,
        access_token: OSS_TOKEN,
        access_timestamp: 1735689600,
      },
      qr: { token: QR, link: `https://www.zhihu.com/account/scan/login/${QR}` },
      log: [`set _xsrf=${XSRF}`, 42, null, true],
      title: "标题",
      id: "1234567890123456789",
    };
    const copy = structuredClone(input);
    const out = redactValue(input);
    assert.deepEqual(input, copy, "input not mutated");
    assert.deepEqual(out, {
      headers: {
        Cookie: `z_c0=${REDACTED}; theme=${REDACTED}`,
        Authorization: `Bearer ${REDACTED}`,
        "X-Xsrftoken": REDACTED,
      },
      cookies: [
        { name: "SESSIONID", value: REDACTED, domain: ".zhihu.com", path: "/" },
        { name: "theme", value: "dark" },
      ],
      upload_token: {
        access_id: REDACTED,
        access_key: REDACTED,
        access_token: REDACTED,
        access_timestamp: 1735689600,
      },
      qr: { token: REDACTED, link: `https://www.zhihu.com/account/scan/login/${REDACTED}` },
      log: [`set _xsrf=${REDACTED}`, 42, null, true],
      title: "标题",
      id: "1234567890123456789",
    });
    assertClean(JSON.stringify(out));
    assert.equal(redactValue("plain"), "plain");
    assert.equal(redactValue(7), 7);
  });
});
