// An article's identity as one key, the same in every engine: `article:<id>` once the article is known (the
// front matter names it, or an earlier publish of this file made it), else `path:<real path>` until the
// first publish makes one. The database allows one queued or running task per (platform, account, key).

export const articleKey = (articleId: string): string => `article:${articleId}`;
export const pathKey = (file: string): string => `path:${file}`;

/** Exponential back-off of an account that keeps being rate limited: Retry-After × 2^strikes, capped. */
export const MAX_STRIKE_DOUBLINGS = 6;
