// HTML pages. Plausible enough for a client to open them, read cookies and run fetch from their origin.

import { escapeHtml, scriptJson } from "./util.js";
import type { Account, Article } from "./world.js";

export const SOFT_404_TITLE = "你似乎来到了没有知识存在的荒原 - 知乎";

function page(title: string, body: string, head = ""): string {
  return `<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${head}</head>
<body>${body}</body></html>`;
}

export const homePage = (account: Account): string =>
  page(
    "首页 - 知乎",
    `<div id="root"><header class="AppHeader"><span class="AppHeader-profile">${escapeHtml(account.name)}</span></header><main class="Topstory">推荐</main></div>`,
  );

export const zhuanlanHomePage = (): string =>
  page(
    "知乎专栏 - 随心写作，自由表达 - 知乎",
    `<div id="root"><main class="Zhuanlan-home"><a href="/write">写文章</a></main></div>`,
  );

export const writePage = (account: Account): string =>
  page(
    "写文章 - 知乎",
    `<div id="root"><div class="WriteIndexLayout-main">
<div class="WriteIndex-titleInput"><textarea class="Input" rows="1" placeholder="请输入标题（最多 100 个字）"></textarea></div>
<div class="Editable DraftEditor-root"><div class="public-DraftEditor-content" contenteditable="true" role="textbox"></div></div>
<div class="PublishPanel-wrapper"><button class="Button PublishPanel-triggerButton" type="button">发布</button></div>
<span class="WriteIndex-author">${escapeHtml(account.name)}</span>
</div></div>`,
  );

export const soft404Page = (): string =>
  page(
    SOFT_404_TITLE,
    `<div class="ErrorPage"><h1 class="ErrorPage-title">你似乎来到了没有知识存在的荒原</h1><a href="https://www.zhihu.com">去往首页</a></div>`,
  );

/** The article page; `initialData` is the JSON text for js-initialData (built with bare ids by the caller). */
export function articlePage(article: Article, initialData: string): string {
  const content = article.published ?? article.draft;
  return page(
    `${content.title} - 知乎`,
    `<div id="root"><article class="Post-Main"><h1 class="Post-Title">${escapeHtml(content.title)}</h1>
<div class="Post-RichTextContainer"><div class="RichText ztext Post-RichText">${content.content}</div></div></article></div>
<script id="js-initialData" type="text/json">${scriptJson(initialData)}</script>`,
  );
}

/**
 * The sign-in page runs the same QR flow a terminal client would: POST /udid, create a QR token, poll
 * scan_info until a person confirms (in tests: the control API), then go to `next`.
 */
export function signinPage(next: string): string {
  const script = `
const cookie = (name) => (document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)")) || [])[1] || "";
const headers = () => ({ "x-xsrftoken": cookie("_xsrf"), "x-requested-with": "fetch", "x-zse-93": "101_3_3.0" });
const show = (text) => { document.querySelector(".SignFlow-qrcodeStatus").textContent = text; };
(async () => {
  await fetch("/udid", { method: "POST", headers: headers(), credentials: "include" });
  const created = await (await fetch("/api/v3/account/api/login/qrcode", { method: "POST", headers: headers(), credentials: "include" })).json();
  let token = created.token;
  document.querySelector(".Qrcode-img").dataset.link = created.link;
  document.querySelector(".Qrcode-img").dataset.token = token;
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch("/api/v3/account/api/login/qrcode/" + token + "/scan_info", { headers: headers(), credentials: "include" });
    if (!res.ok) { show("二维码已失效，请刷新页面"); return; }
    const body = await res.json();
    if (!("status" in body)) { show("登录成功"); location.href = ${JSON.stringify(next)}; return; }
    if (body.status === 1) show("扫描成功，请在手机上确认登录");
    if (body.status === 5) { token = body.new_token.token; document.querySelector(".Qrcode-img").dataset.token = token; show("二维码已刷新"); }
  }
})();`;
  return page(
    "知乎 - 有问题，就会有答案",
    `<div class="SignContainer-content"><div class="SignFlow Login-content">
<div class="Qrcode-container"><div class="Qrcode-img" data-link="" data-token=""></div><p class="SignFlow-qrcodeStatus">打开知乎 App 扫一扫</p></div>
</div></div><script>${script}</script>`,
  );
}
