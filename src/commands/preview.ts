import { preview } from "../article/preview.js";
import type { Context } from "../context.js";
import { displayFile } from "../ui/format.js";

export async function previewCommand(
  ctx: Context,
  file: string,
  opts: { out?: string; png?: string; emoji?: boolean; captions?: boolean },
): Promise<number> {
  const result = await preview({
    file,
    cwd: ctx.cwd,
    emoji: opts.emoji,
    captions: opts.captions,
    ...(opts.out ? { out: opts.out } : {}),
    ...(opts.png ? { png: opts.png } : {}),
  });
  for (const w of result.warnings) ctx.warn(w);
  ctx.out(`wrote ${displayFile(result.out, ctx.cwd)}`);
  if (result.png) ctx.out(`wrote ${displayFile(result.png, ctx.cwd)}`);
  return 0;
}
