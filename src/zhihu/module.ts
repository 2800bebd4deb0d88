import type { PlatformModule } from "../platform.js";

export const zhihu: PlatformModule = {
  name: "zhihu",
  label: "Zhihu",
  usesSessions: true,
  frontMatterKey: "zhihu",
  // Said before anything is enqueued, not as a failed task an hour later.
  async preflight(env) {
    const { findBrowser } = await import("../browser/find.js");
    findBrowser(env);
  },
  async create(opts) {
    const { ZhihuPlatform } = await import("./platform.js");
    return new ZhihuPlatform(opts);
  },
};
