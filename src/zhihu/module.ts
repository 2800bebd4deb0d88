import type { PlatformModule } from "../platform.js";

export const zhihu: PlatformModule = {
  name: "zhihu",
  label: "Zhihu",
  async create(opts) {
    const { ZhihuPlatform } = await import("./platform.js");
    return new ZhihuPlatform(opts);
  },
};
