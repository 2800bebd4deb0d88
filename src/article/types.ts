// The shapes the rest of topn sees of an article. Kept free of logic so every module can import them.

/** One distinct image (deduplicated by the md5 of its bytes), checked and ready to upload. */
export interface ImageAsset {
  /** md5 of the bytes, lowercase hex: Zhihu's `image_hash` and the dedupe key ("url-" + md5 of the URL
   * for an image known only by its address). */
  id: string;
  /** Absolute path, or the URL it was downloaded from (first place it was seen); for a diagram, `mermaid`
   * or `dot` and its file line. */
  source: string;
  /** Empty when the image is known only by its address (`delivery`). */
  bytes: Buffer;
  mime: string;
  /** "png" | "jpg" | "gif" | "webp", sniffed from the bytes. */
  ext: string;
  /** 0 when unknown (an image known only by its address). */
  width: number;
  height: number;
  /**
   * How an image without bytes reaches the article: "zhimg" is on Zhihu already and used as it is;
   * "rehost" could not be downloaded here, so Zhihu is asked to fetch `source` when publishing.
   * Absent: the bytes are uploaded.
   */
  delivery?: "zhimg" | "rehost";
}

/** Per-file choices that change the HTML (front matter, or the command line of `publish`/`preview`). */
export interface ArticleSettings {
  /** Alt/title text under images (`--no-captions` turns it off). */
  captions: boolean;
  /** `:smile:` shortcodes become emoji (front matter `emoji: true` or `--emoji`). */
  emoji: boolean;
}

export type CommentPermission = "anyone" | "followees" | "no_one";

/** A checked article: everything publishing needs, nothing that touches a database or a browser. */
export interface PreparedArticle {
  /** Absolute path of the Markdown file. */
  file: string;
  /** The path as given, used in "file:line:" messages. */
  displayFile: string;
  title: string;
  topics: string[];
  column?: string;
  comments: CommentPermission;
  cover?: ImageAsset;
  /** Body images in order of first use, one per distinct md5. The cover is not included unless used in the body. */
  images: ImageAsset[];
  /** sha256 hex of the file bytes. */
  contentHash: string;
  /** "file:line: …" lines, deterministic order. */
  warnings: string[];
  /**
   * Hugo/Jekyll tags, offered as topics when the front matter has no `topics`: the ones Zhihu knows are
   * bound, the others skipped with a warning (a tag is not written for Zhihu, so it must not fail the task).
   */
  optionalTopics: string[];
  /** The Zhihu article this file is (front matter `zhihu:`, or the older `zhihu_id:`). */
  zhihuId?: string;
  /** Line of the `zhihu:` key, for messages. */
  zhihuLine?: number;
  /** The front matter marks the file a draft: which key said so, and its line. */
  draft?: { key: "draft" | "published"; line: number };
  /** Front matter `date` (ms since the epoch). */
  date?: number;
  /** Markdown after the front matter (LF line endings). */
  body: string;
  /** Number of file lines before `body` starts (front matter), to turn body lines into file lines. */
  bodyLine: number;
  /** Where the title came from; a heading title is not repeated in the body. */
  titleFrom: "front-matter" | "heading";
  /** Image `src` as written in the Markdown (after markdown-it's URL normalisation) → ImageAsset.id. */
  imageIds: Record<string, string>;
  /** diagramKey(lang, source) → ImageAsset.id of its PNG; a diagram that failed to render is absent. */
  diagramIds: Record<string, string>;
  /** Note named by a wiki link (`[[Note]]`) → its Zhihu article's URL, for those that have one. */
  links: Record<string, string>;
  settings: ArticleSettings;
}
