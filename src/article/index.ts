// The article API the rest of topn calls: prepare (all checks, no database; a browser only to draw
// diagrams) and render.

export { MAX_TOPICS } from "./frontmatter.js";
export { MAX_IMAGE_BYTES } from "./images.js";
export {
  articleOptionsFrom,
  articleOptionsState,
  MAX_TITLE_CHARS,
  type PrepareOptions,
  prepareArticle,
  renderArticle,
  renderArticleParts,
} from "./prepare.js";
export type { Reference, RenderResult } from "./render.js";
export type { ArticleSettings, CommentPermission, ImageAsset, PreparedArticle } from "./types.js";

/** Where an uploaded image is served from, given its OSS object key (`v2-<md5>`). GIFs keep their extension. */
export function zhimgUrl(objectKey: string, ext: string): string {
  return `https://pic4.zhimg.com/${objectKey}${ext === "gif" ? ".gif" : ""}`;
}
export { articleDigest } from "./digest.js";
