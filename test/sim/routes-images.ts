// Images: registration and status on api.zhihu.com, the OSS upload host, and the pic*.zhimg.com hosts.

import { createHmac, randomUUID } from "node:crypto";
import type { Ctx } from "./http.js";
import type { Route } from "./route.js";
import { CONTENT_TYPES, escapeHtml, imageInfo, md5 } from "./util.js";
import { imageSrc } from "./views.js";
import type { World } from "./world.js";

const BUCKET = "zhihu-pics";
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

function ossError(
  ctx: Ctx,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): void {
  const fields = {
    Code: code,
    Message: message,
    RequestId: randomUUID().replace(/-/g, "").toUpperCase(),
    HostId: "zhihu-pics-upload.zhimg.com",
    ...extra,
  };
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n${Object.entries(fields)
    .map(([k, v]) => `  <${k}>${escapeHtml(v)}</${k}>`)
    .join("\n")}\n</Error>\n`;
  ctx.send(status, xml, { "Content-Type": "application/xml", "x-oss-request-id": fields.RequestId });
}

/** OSS V1: every x-oss-* header, lower-cased, sorted, `name:value\n` each. */
function canonicalOssHeaders(ctx: Ctx): string {
  return Object.entries(ctx.req.headers)
    .filter(([name]) => name.startsWith("x-oss-"))
    .map(([name, value]) => `${name}:${String(value).trim()}\n`)
    .sort()
    .join("");
}

/** The OSS V1 string to sign, as zhihu.md writes it (x-oss-date stands in for Date, which fetch cannot set). */
function ossStringToSign(ctx: Ctx, objectKey: string): string {
  const date = ctx.header("x-oss-date") ?? ctx.header("date") ?? "";
  return `${ctx.method}\n${ctx.header("content-md5") ?? ""}\n${ctx.header("content-type") ?? ""}\n${date}\n${canonicalOssHeaders(ctx)}/${BUCKET}/${objectKey}`;
}

function handleUpload(ctx: Ctx, world: World) {
  const objectKey = decodeURIComponent(ctx.url.pathname.slice(1));
  const auth = /^OSS ([^:]+):(.+)$/.exec(ctx.header("authorization") ?? "");
  if (!auth)
    return ossError(
      ctx,
      403,
      "AccessDenied",
      "AccessDenied: anonymous access is forbidden for this operation.",
    );
  const token = world.uploadTokens.get(auth[1]!);
  if (!token)
    return ossError(
      ctx,
      403,
      "InvalidAccessKeyId",
      "The OSS Access Key Id you provided does not exist in our records.",
      { OSSAccessKeyId: auth[1]! },
    );
  if (ctx.header("x-oss-security-token") !== token.accessToken) {
    return ossError(ctx, 403, "InvalidSecurityToken", "The security token you provided is invalid.");
  }
  if (Date.now() / 1000 > token.expiresAt)
    return ossError(ctx, 403, "SecurityTokenExpired", "The security token you provided has expired.");
  const date = Date.parse(ctx.header("x-oss-date") ?? ctx.header("date") ?? "");
  if (Number.isNaN(date))
    return ossError(ctx, 403, "AccessDenied", "OSS authentication requires a valid Date.");
  if (Math.abs(Date.now() - date) > MAX_CLOCK_SKEW_MS) {
    return ossError(
      ctx,
      403,
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.",
    );
  }
  const stringToSign = ossStringToSign(ctx, objectKey);
  const expected = createHmac("sha1", token.accessKey).update(stringToSign).digest("base64");
  if (auth[2] !== expected) {
    return ossError(
      ctx,
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      {
        OSSAccessKeyId: token.accessId,
        SignatureProvided: auth[2]!,
        StringToSign: stringToSign,
      },
    );
  }
  if (objectKey !== token.objectKey)
    return ossError(
      ctx,
      403,
      "AccessDenied",
      "You have no right to access this object because of bucket acl.",
    );
  const hash = md5(ctx.body);
  const contentMd5 = ctx.header("content-md5");
  if (contentMd5 !== undefined && contentMd5 !== Buffer.from(hash, "hex").toString("base64")) {
    return ossError(ctx, 400, "InvalidDigest", "The Content-MD5 you specified is not valid.");
  }
  const image = world.images.get(objectKey.replace(/^v2-/, ""));
  if (!image || hash !== image.md5) {
    return ossError(ctx, 400, "InvalidDigest", "The uploaded bytes do not match the registered image_hash.");
  }
  image.bytes = ctx.body;
  image.processingPolls = 2;
  ctx.send(200, "", {
    ETag: `"${hash.toUpperCase()}"`,
    "x-oss-request-id": randomUUID().replace(/-/g, "").toUpperCase(),
  });
}

export const imageRoutes: Route[] = [
  {
    host: "api",
    method: "POST",
    path: /^\/images$/,
    name: "image.register",
    api: true,
    auth: true,
    xsrf: true,
    handle(ctx, env) {
      const body = ctx.json() as { image_hash?: unknown } | null;
      const hash = typeof body?.image_hash === "string" ? body.image_hash : "";
      if (!/^[0-9a-f]{32}$/.test(hash)) return ctx.sendError(400, "参数错误", { code: 4000 });
      const account = ctx.account!.name;
      const image = env.world.registerImage(hash, account);
      const objectKey = `v2-${hash}`;
      const token = env.world.newUploadToken(objectKey, account);
      ctx.sendJson(200, {
        upload_vendor: "aliyun",
        upload_file: { image_id: image.imageId, state: image.bytes ? 1 : 2, object_key: objectKey },
        upload_token: {
          access_id: token.accessId,
          access_key: token.accessKey,
          access_token: token.accessToken,
          access_timestamp: token.expiresAt,
        },
      });
    },
  },
  {
    host: "api",
    method: "GET",
    path: /^\/images\/(\d+)$/,
    name: "image.status",
    api: true,
    auth: true,
    handle(ctx, env) {
      const image = env.world.imageById(ctx.params[0] ?? "");
      if (!image) return ctx.sendError(404, "图片不存在", { code: 404 });
      const info = image.bytes && imageInfo(image.bytes);
      if (!image.bytes || !info || image.processingPolls > 0) {
        if (image.bytes) image.processingPolls--;
        return ctx.sendJson(200, { image_id: image.imageId, status: "processing" });
      }
      ctx.sendJson(200, {
        image_id: image.imageId,
        status: "success",
        src: imageSrc(image.md5, info.ext),
        original_src: imageSrc(image.md5, info.ext, "_r"),
        watermark_src: imageSrc(image.md5, info.ext, "_b"),
        original_hash: image.md5,
        watermark: "original",
        width: info.width,
        height: info.height,
      });
    },
  },
  {
    host: "upload",
    method: "PUT",
    path: /^\/v2-[0-9a-f]{32}$/,
    name: "image.upload",
    api: true,
    handle: (ctx, env) => handleUpload(ctx, env.world),
  },
  {
    host: "pic",
    method: "GET",
    path: /^\/(?:\d+\/)?v2-([0-9a-f]{32})(?:_[a-z0-9]+)?(?:\.[a-z]+)?$/,
    name: "image.serve",
    api: false,
    handle(ctx, env) {
      const bytes = env.world.images.get(ctx.params[0] ?? "")?.bytes;
      const info = bytes && imageInfo(bytes);
      if (!bytes || !info) return ctx.send(404, "Not Found", { "Content-Type": "text/plain" });
      ctx.send(200, bytes, {
        "Content-Type": CONTENT_TYPES[info.ext] ?? "application/octet-stream",
        "Cache-Control": "max-age=31536000",
      });
    },
  },
];
