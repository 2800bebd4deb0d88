// What "unchanged" means: the digest of everything a publish sends (title, HTML, images, topics, column,
// cover, comment setting). Computed offline at enqueue and again by the job from what it published, so the
// next `publish` or `sync` of a file whose digest equals the last published one has nothing to do.

import { createHash } from "node:crypto";
import { renderArticle, zhimgUrl } from "./index.js";
import type { PreparedArticle } from "./types.js";

export function articleDigest(a: PreparedArticle): string {
  // Images by content: Zhihu names an uploaded image after its md5 (`v2-<md5>`), so the canonical address
  // stands for the real one whatever key an upload returned. An image known only by its address (on zhimg
  // already, or left for Zhihu to fetch) is that address. Diagrams are their PNG's md5 like any image: the
  // same source draws the same bytes on one machine.
  const html = renderArticle(a, (asset) =>
    asset.delivery ? asset.source : zhimgUrl(`v2-${asset.id}`, asset.ext),
  );
  const parts = [
    a.title,
    html,
    [...a.topics]
      .map((t) => t.toLowerCase())
      .sort()
      .join("\u0001"),
    [...a.optionalTopics]
      .map((t) => t.toLowerCase())
      .sort()
      .join("\u0001"),
    a.column ?? "",
    a.cover?.id ?? "",
    a.comments,
  ];
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32);
}
