// Images must live on zhimg.com. Zhihu dedupes by md5: register the hash, upload the bytes only when Zhihu
// does not have them yet (state 2), to its OSS bucket with a V1 signature computed here, then wait until
// Zhihu has processed them. Each finished image is reported at once so a retry never uploads it again.
// An image already on zhimg.com is used as it is; a remote one topn could not download is handed to
// Zhihu's re-hosting endpoint, which fetches it by URL (and answers 422 when it cannot either).

import { createHmac } from "node:crypto";
import path from "node:path";
import { type ImageAsset, zhimgUrl } from "../article/index.js";
import { TaskFailure } from "../errors.js";
import { API, OSS_UPLOAD, ZHUANLAN, type ZhihuApi } from "./api.js";
import { classify } from "./classify.js";
import { asRecord, idOf } from "./json.js";

const BUCKET = "zhihu-pics";
/** What Zhihu's own uploader calls itself (any value works; it is signed like the rest). */
const OSS_USER_AGENT = "aliyun-sdk-js/6.18.0 Chrome";
const POLL_FIRST_MS = 80;
const POLL_MAX_MS = 1_000;
const POLL_DEADLINE_MS = 60_000;

export interface OssSignInput {
  accessId: string;
  accessKey: string;
  securityToken: string;
  contentType: string;
  /** RFC 1123 date, sent as x-oss-date (fetch may not set Date). */
  date: string;
  objectKey: string;
  userAgent?: string;
}

/** The headers of an OSS V1-signed PUT of `objectKey` into Zhihu's bucket. */
export function ossHeaders(i: OssSignInput): Record<string, string> {
  const ua = i.userAgent ?? OSS_USER_AGENT;
  const canonical = [
    `x-oss-date:${i.date}`,
    `x-oss-security-token:${i.securityToken}`,
    `x-oss-user-agent:${ua}`,
  ].join("\n");
  const toSign = `PUT\n\n${i.contentType}\n${i.date}\n${canonical}\n/${BUCKET}/${i.objectKey}`;
  const signature = createHmac("sha1", i.accessKey).update(toSign).digest("base64");
  return {
    authorization: `OSS ${i.accessId}:${signature}`,
    "content-type": i.contentType,
    "x-oss-date": i.date,
    "x-oss-security-token": i.securityToken,
    "x-oss-user-agent": ua,
  };
}

export const imageStep = (asset: ImageAsset): string =>
  asset.delivery === "rehost"
    ? `upload image ${asset.source} by URL`
    : `upload image ${/^https?:/.test(asset.source) ? asset.source : path.basename(asset.source)}`;

/**
 * Uploads each image not in `done` (id → OSS object key, or the zhimg URL Zhihu gave a re-hosted image) and
 * calls `onUploaded` after each one, before the next starts. Returns that map for all of them.
 */
export async function uploadImages(
  api: ZhihuApi,
  images: readonly ImageAsset[],
  done: Readonly<Record<string, string>>,
  onUploaded: (asset: ImageAsset, objectKey: string) => Promise<void>,
): Promise<Record<string, string>> {
  const keys: Record<string, string> = { ...done };
  for (const asset of images) {
    if (keys[asset.id] !== undefined) continue;
    if (asset.delivery === "zhimg") {
      keys[asset.id] = asset.source;
      continue;
    }
    const objectKey = asset.delivery === "rehost" ? await rehost(api, asset) : await uploadOne(api, asset);
    keys[asset.id] = objectKey;
    await onUploaded(asset, objectKey);
  }
  return keys;
}

/** The address of an image in the article, from what uploadImages returned. */
export function imageAddress(keys: Readonly<Record<string, string>>): (asset: ImageAsset) => string {
  return (asset) => {
    const key = keys[asset.id];
    if (key !== undefined && /^https?:/.test(key)) return key;
    if (key === undefined && asset.delivery) return asset.source;
    return zhimgUrl(key ?? `v2-${asset.id}`, asset.ext);
  };
}

/** Zhihu fetches the image itself. Failing that too is transient: the host may answer later. */
async function rehost(api: ZhihuApi, asset: ImageAsset): Promise<string> {
  const step = imageStep(asset);
  const form = new URLSearchParams({ url: asset.source, source: "article" }).toString();
  const { status, body } = await api.json(
    {
      step,
      method: "POST",
      url: `${ZHUANLAN}/api/uploaded_images`,
      bytes: Buffer.from(form),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    },
    { allow: [422] },
  );
  const answer = asRecord(body);
  if (status === 422 || typeof answer.src !== "string" || !/^https?:/.test(answer.src)) {
    const error = asRecord(answer.error);
    const why =
      typeof error.message === "string" ? `${error.message} (code ${String(error.code)})` : `HTTP ${status}`;
    throw new TaskFailure(
      "transient",
      step,
      `neither topn nor Zhihu could fetch the image ${asset.source}: Zhihu answered ${why}`,
      { hint: "check the URL, or download the image and link the local file" },
    );
  }
  return answer.src;
}

async function uploadOne(api: ZhihuApi, asset: ImageAsset): Promise<string> {
  const step = imageStep(asset);
  const { body } = await api.json({
    step,
    method: "POST",
    url: `${API}/images`,
    json: { image_hash: asset.id, source: "article" },
  });
  const file = asRecord(asRecord(body).upload_file);
  const token = asRecord(asRecord(body).upload_token);
  const imageId = idOf(file.image_id);
  const objectKey = typeof file.object_key === "string" ? file.object_key : `v2-${asset.id}`;
  // Stored already (this or another account uploaded the same bytes): nothing to send.
  if (Number(file.state) === 1) return objectKey;
  if (imageId === null || typeof token.access_id !== "string" || typeof token.access_key !== "string") {
    throw new TaskFailure("transient", step, "Zhihu's image registration answer lacks the upload token");
  }
  await api.call({
    step,
    method: "PUT",
    url: `${OSS_UPLOAD}/${encodeURIComponent(objectKey)}`,
    zhihu: false,
    bytes: asset.bytes,
    headers: ossHeaders({
      accessId: token.access_id,
      accessKey: token.access_key,
      securityToken: String(token.access_token ?? ""),
      contentType: asset.mime,
      date: new Date().toUTCString(),
      objectKey,
    }),
  });
  await waitProcessed(api, step, imageId);
  return objectKey;
}

/** Polls the image's status until Zhihu has it (status success/completed, or an original_hash). */
async function waitProcessed(api: ZhihuApi, step: string, imageId: string): Promise<void> {
  const deadline = Date.now() + POLL_DEADLINE_MS;
  let wait = POLL_FIRST_MS;
  let lastProblem = "still processing";
  for (;;) {
    const outcome = await api.send({ step, method: "GET", url: `${API}/images/${imageId}` });
    const failure = classify(outcome, { step, account: api.account, publishCode: false });
    if (failure && !failure.transient) throw failure;
    if (failure) lastProblem = failure.message;
    else if (outcome.kind === "answer") {
      let status: Record<string, unknown> = {};
      try {
        status = asRecord(JSON.parse(outcome.answer.text));
      } catch {}
      if (
        status.status === "success" ||
        status.status === "completed" ||
        typeof status.original_hash === "string"
      ) {
        return;
      }
      lastProblem = `status ${String(status.status)}`;
    }
    if (Date.now() + wait > deadline) {
      throw new TaskFailure(
        "transient",
        step,
        `Zhihu did not finish processing the image within ${POLL_DEADLINE_MS / 1000} s (${lastProblem})`,
      );
    }
    await new Promise((r) => setTimeout(r, wait));
    api.checkAborted(step);
    wait = Math.min(POLL_MAX_MS, Math.round(wait * 1.5));
  }
}
