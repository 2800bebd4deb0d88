import { TaskFailure } from "../errors.js";
import type { JobContext, Platform, PlatformOptions, PublishResult, TaskSnapshot } from "../platform.js";

// Placeholder until the browser publishing flow lands (issue 4).
export class ZhihuPlatform implements Platform {
  readonly name = "zhihu";
  constructor(readonly opts: PlatformOptions) {}
  async publish(_task: TaskSnapshot, _ctx: JobContext): Promise<PublishResult> {
    throw new TaskFailure("internal", "publish", "publishing to Zhihu is not built yet");
  }
  async close(): Promise<void> {}
}
