// Importing a session from the person's own browser (a cookie export or a copied Cookie header). It is
// only worth saving if Zhihu still accepts it, so it is tried first in a fresh headless context.

import { launchBrowser } from "../browser/launch.js";
import { UsageError } from "../errors.js";
import { parseCookieExport } from "./cookies.js";
import { LoginError, type LoginFlowOptions, type LoginResult } from "./login.js";
import { checkSession, describeMeFailure } from "./session-check.js";

const DEFAULT_VERIFY_TIMEOUT_MS = 30_000;

export async function importCookies(opts: LoginFlowOptions & { text: string }): Promise<LoginResult> {
  // Format problems are found before a browser starts; none of their messages shows a cookie value.
  const parsed = parseCookieExport(opts.text);
  opts.signal?.throwIfAborted();
  const launched = opts.browser ? null : await launchBrowser({ headless: true, env: opts.env });
  const browser = opts.browser ?? launched!;
  try {
    const { result, cookies } = await checkSession(
      browser,
      parsed,
      opts.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS,
    );
    if (result.ok) return { me: result.me, cookies };
    switch (result.state) {
      case "expired":
        throw new UsageError(
          `these cookies are not logged in (${describeMeFailure(result)})`,
          "export them again while logged in to www.zhihu.com, or log in here: topn login zhihu (or --qr)",
        );
      case "needs_verification":
        throw new LoginError(
          "needs_verification",
          `Zhihu wants a person to pass a verification before it answers (${describeMeFailure(result)})`,
          `open ${result.url} in the browser you exported from, pass the check, then import again`,
        );
      default:
        throw new LoginError(
          "failed",
          `could not verify the cookies with Zhihu: ${describeMeFailure(result)}`,
          "nothing was saved; try again",
        );
    }
  } finally {
    if (launched) await launched.close().catch(() => {});
  }
}
