import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { UsageError } from "../src/errors.js";
import {
  cookieExpiry,
  parseCookieExport,
  type SessionCookie,
  toPuppeteerCookies,
} from "../src/zhihu/cookies.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "cookies");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
// The fake ticket every fixture carries (never a real session).
const Z_C0 = /^2\|1:0\|10:1735689600\|4:z_c0\|92:Mi4xRkFLRS1/;
const FAR = 2556057600;

const byName = (cs: SessionCookie[], name: string) => cs.find((c) => c.name === name);
const names = (cs: SessionCookie[]) => cs.map((c) => c.name).sort();

/** Asserts a UsageError whose message and hint never show a cookie value. */
function rejects(text: string, message: RegExp, opts?: { now?: number }): UsageError {
  let caught: unknown;
  try {
    parseCookieExport(text, opts);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof UsageError, `expected a UsageError, got ${String(caught)}`);
  assert.match(caught.message, message);
  for (const secret of ["Mi4xRkFLRS1", "fake0000-xsrf", "AFAKEd_c0", "fake-"]) {
    assert.ok(
      !`${caught.message} ${caught.hint ?? ""}`.includes(secret),
      `error shows a cookie value: ${caught.message}`,
    );
  }
  return caught;
}

describe("parseCookieExport: JSON exports", () => {
  test("EditThisCookie: domain vs host-only, expiry, session, sameSite; other sites dropped", () => {
    const cs = parseCookieExport(fixture("editthiscookie.json"));
    assert.deepEqual(names(cs), ["__zse_ck", "_xsrf", "d_c0", "z_c0"]);
    const z = byName(cs, "z_c0")!;
    assert.match(z.value, Z_C0);
    assert.deepEqual(
      { ...z, value: "" },
      {
        name: "z_c0",
        value: "",
        domain: ".zhihu.com",
        path: "/",
        expires: 2556057600.123456,
        httpOnly: true,
        secure: false,
      },
    );
    assert.equal(byName(cs, "d_c0")!.value, '"AFAKEd_c0FAKEd_c0FAKEd_c0FAKEd_c0FAKEd_c0=|1735689600"');
    const xsrf = byName(cs, "_xsrf")!;
    assert.equal(xsrf.domain, "www.zhihu.com", "hostOnly keeps the bare host");
    assert.equal(xsrf.expires, undefined, "session cookie has no expiry");
    assert.equal(byName(cs, "__zse_ck")!.sameSite, "None");
    assert.ok(cs.every((c) => c.domain.endsWith("zhihu.com") && !c.domain.includes("evil")));
  });

  test("Cookie-Editor: a bare domain with hostOnly:false becomes a domain cookie; null sameSite", () => {
    const cs = parseCookieExport(fixture("cookie-editor.json"));
    assert.deepEqual(names(cs), ["q_c1", "z_c0"]);
    assert.equal(byName(cs, "z_c0")!.domain, ".zhihu.com");
    assert.equal(byName(cs, "z_c0")!.sameSite, undefined);
    assert.deepEqual(byName(cs, "q_c1"), {
      name: "q_c1",
      value: "fakeq_c1fakeq_c1fakeq_c1|1735689600000|1735689600000",
      domain: "zhuanlan.zhihu.com",
      path: "/",
      httpOnly: false,
      secure: true,
      sameSite: "Lax",
    });
  });

  test("puppeteer page.cookies(): expires -1 is a session cookie", () => {
    const cs = parseCookieExport(fixture("puppeteer.json"));
    assert.deepEqual(names(cs), ["_xsrf", "z_c0"]);
    assert.equal(byName(cs, "z_c0")!.expires, 2556057600.5);
    assert.equal(byName(cs, "z_c0")!.sameSite, "Lax");
    assert.equal(byName(cs, "_xsrf")!.expires, undefined);
  });

  test("{cookies:[…]} (Playwright storage state)", () => {
    const cs = parseCookieExport(fixture("playwright-state.json"));
    assert.deepEqual(names(cs), ["d_c0", "z_c0"]);
    assert.equal(byName(cs, "d_c0")!.expires, undefined);
  });

  test("a single cookie object", () => {
    const one = JSON.parse(fixture("puppeteer.json"))[0];
    assert.deepEqual(names(parseCookieExport(JSON.stringify(one))), ["z_c0"]);
  });

  test("broken or wrongly shaped JSON is a UsageError that names the problem", () => {
    rejects('[{"name":"z_c0","value":"abc"', /looks like JSON but does not parse/);
    rejects('{"foo": 1}', /neither an array of cookies nor \{cookies/);
    rejects(
      '[{"name":"z_c0","domain":".zhihu.com"}]',
      /cookie #1 of the JSON export has no name, value or domain/,
    );
    rejects("[]", /no zhihu\.com cookies \(0 cookie\(s\) of other sites\)/);
  });
});

describe("parseCookieExport: Netscape cookies.txt", () => {
  test("comments, #HttpOnly_ lines, subdomain flag, session expiry 0, empty value; other sites dropped", () => {
    const cs = parseCookieExport(fixture("cookies.txt"));
    assert.deepEqual(names(cs), ["_xsrf", "d_c0", "empty", "z_c0"]);
    const z = byName(cs, "z_c0")!;
    assert.match(z.value, Z_C0);
    assert.deepEqual(
      { ...z, value: "" },
      {
        name: "z_c0",
        value: "",
        domain: ".zhihu.com",
        path: "/",
        expires: FAR,
        httpOnly: true,
        secure: false,
      },
    );
    assert.deepEqual(byName(cs, "_xsrf"), {
      name: "_xsrf",
      value: "fake0000-xsrf-0000-0000-000000000000",
      domain: "www.zhihu.com",
      path: "/",
      httpOnly: false,
      secure: false,
    });
    const empty = byName(cs, "empty")!;
    assert.equal(empty.value, "");
    assert.equal(empty.path, "/p");
    assert.equal(empty.secure, true);
  });

  test("Windows line endings and a BOM read the same", () => {
    const lf = parseCookieExport(fixture("cookies.txt"));
    assert.deepEqual(parseCookieExport(`\uFEFF${fixture("cookies.txt").replace(/\n/g, "\r\n")}`), lf);
    const json = parseCookieExport(fixture("editthiscookie.json"));
    assert.deepEqual(
      parseCookieExport(`\uFEFF${fixture("editthiscookie.json").replace(/\n/g, "\r\n")}`),
      json,
    );
    const header = parseCookieExport(fixture("header.txt"));
    assert.deepEqual(parseCookieExport(`\uFEFF${fixture("header.txt").replace(/\n/g, "\r\n")}`), header);
  });

  test("a line whose tabs became spaces is named, without its value", () => {
    const text = fixture("cookies.txt").replace("\td_c0\t", " d_c0 ");
    rejects(text, /line 6 of the cookies.txt does not have the 7 tab-separated fields/);
  });
});

describe("parseCookieExport: Cookie header", () => {
  test("Cookie: header line, all cookies on .zhihu.com /", () => {
    const cs = parseCookieExport(fixture("header.txt"));
    assert.deepEqual(names(cs), ["_xsrf", "_zap", "d_c0", "q_c1", "z_c0"]);
    assert.ok(cs.every((c) => c.domain === ".zhihu.com" && c.path === "/"));
    assert.match(byName(cs, "z_c0")!.value, Z_C0);
    assert.equal(byName(cs, "q_c1")!.value, "fakeq_c1|1735689600000|1735689600000");
  });

  test("a bare a=b; c=d string, values with '=' and quotes kept whole", () => {
    const cs = parseCookieExport(' z_c0="2|1:0|10:1|4:z_c0|4:YQ==|ab";__zse_ck=001_a/b+c== ; ');
    assert.deepEqual(cs, [
      { name: "z_c0", value: '"2|1:0|10:1|4:z_c0|4:YQ==|ab"', domain: ".zhihu.com", path: "/" },
      { name: "__zse_ck", value: "001_a/b+c==", domain: ".zhihu.com", path: "/" },
    ]);
  });

  test("the cookie line out of a pasted block of request headers", () => {
    const cs = parseCookieExport(fixture("request-headers.txt"));
    assert.deepEqual(names(cs), ["d_c0", "z_c0"]);
  });
});

describe("parseCookieExport: refusals", () => {
  test("no z_c0: say how to get one", () => {
    const e = rejects(
      fixture("no-z_c0.json"),
      /^no z_c0 cookie: export the cookies while logged in to www\.zhihu\.com$/,
    );
    assert.equal(e.hint, undefined);
    rejects("_xsrf=fake0000-xsrf; d_c0=fake-d", /^no z_c0 cookie/);
  });

  test("only other sites' cookies", () => {
    rejects(
      ".bilibili.com\tTRUE\t/\tFALSE\t0\tSESSDATA\tfake-bilibili\n",
      /no zhihu\.com cookies \(1 cookie/,
    );
  });

  test("an expired z_c0 says when it expired", () => {
    rejects(fixture("cookies.txt"), /z_c0 cookie in the export expired on 2050-12-31T00:00:00\.000Z$/, {
      now: FAR + 1,
    });
  });

  test("garbage, empty and binary input", () => {
    for (const text of [
      "",
      "   \n\r\n",
      "hello world",
      "<html><body>nope</body></html>",
      "\u0000\u0001\u0002fake-x",
    ]) {
      const e = rejects(
        text,
        /the cookie export (is empty|is not a JSON cookie array, a Netscape cookies.txt or a Cookie header)/,
      );
      assert.match(e.hint ?? "", /cookie-export extension/);
    }
  });
});

describe("toPuppeteerCookies and cookieExpiry", () => {
  test("domain cookies keep domain, host-only ones go by url; SameSite=None without Secure dropped", () => {
    const cs = parseCookieExport(fixture("editthiscookie.json"));
    const ps = toPuppeteerCookies(cs);
    const z = ps.find((p) => p.name === "z_c0")!;
    assert.equal(z.domain, ".zhihu.com");
    assert.equal(z.url, undefined);
    assert.equal(z.httpOnly, true);
    assert.equal(z.expires, 2556057600.123456);
    const x = ps.find((p) => p.name === "_xsrf")!;
    assert.deepEqual(x, {
      name: "_xsrf",
      value: "fake0000-xsrf-0000-0000-000000000000",
      path: "/",
      url: "https://www.zhihu.com/",
      httpOnly: false,
      secure: false,
    });
    assert.equal(ps.find((p) => p.name === "__zse_ck")!.sameSite, "None", "secure: kept");
    const insecure = toPuppeteerCookies([{ ...cs[0]!, sameSite: "None", secure: false }]);
    assert.equal(insecure[0]!.sameSite, undefined);
  });

  test("cookieExpiry is z_c0's expiry, or null", () => {
    assert.equal(cookieExpiry(parseCookieExport(fixture("cookies.txt"))), FAR);
    assert.equal(cookieExpiry(parseCookieExport(fixture("header.txt"))), null);
    assert.equal(cookieExpiry([]), null);
  });
});
