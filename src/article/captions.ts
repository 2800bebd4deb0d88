// The text Zhihu shows under an image. Editors fill alt text with whatever names the file had — Typora's
// `image-20240101120000000`, Obsidian's `Pasted image 20240101120000`, `Screenshot 2024-01-01 at 12.00.00`,
// `a.png`, a hash — and a caption made of that is noise under every picture. So: the title when there is
// one, else the alt text unless it looks generated, else nothing.

export interface CaptionSource {
  alt: string;
  title: string;
  /** The image address as written (percent-encoded): alt text equal to its file name is not a caption. */
  src: string;
}

export function captionOf(image: CaptionSource): string {
  const title = image.title.trim();
  if (title !== "" && !looksGenerated(title, image.src)) return title;
  const alt = image.alt.trim();
  return looksGenerated(alt, image.src) ? "" : alt;
}

const IMAGE_EXT = /\.(png|jpe?g|gif|webp|svg|bmp|tiff?|avif|heic|ico)$/i;
/** Names screenshot tools, phones, chat apps and editors give pictures, followed by a time or a number. */
const TOOL_NAME =
  /^(image|img|pasted[ _-]?image|screenshot|screen[ _-]?shot|cleanshot|snipaste|截屏|截图|屏幕截图|qq截图|微信图片|wx|mmexport|photo|pic|dsc|dcim|pxl|capture|clipboard|untitled)[ _-]*/i;
/** What is left of a generated name after the tool's word: dates, times, counters, "@2x", "(1)". */
const STAMP = /^(?:[\d\s_.:,()@x年月日时分秒-]|at|am|pm|上午|下午)*$/i;
const HASH = /^(v2-)?[0-9a-f]{16,}(_[a-z0-9]+)?$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PLACEHOLDER = new Set(
  "image|img|图片|图像|截图|picture|pic|photo|alt|alt text|screenshot|untitled".split("|"),
);

/** True for alt/title text a tool made up rather than a person wrote. */
export function looksGenerated(text: string, src = ""): boolean {
  const t = text.trim();
  if (t === "") return true;
  const name = t.replace(IMAGE_EXT, "");
  if (PLACEHOLDER.has(name.toLowerCase())) return true;
  if (IMAGE_EXT.test(t) && !/\s/.test(t)) return true; // a file name: "a.png", "chart_v2.jpg"
  if (HASH.test(name) || UUID.test(name)) return true;
  if (/^[\d\s_.:-]+$/.test(name)) return true; // only a date, time or number
  const tool = TOOL_NAME.exec(name);
  if (tool && /\d/.test(name) && STAMP.test(name.slice(tool[0].length))) return true;
  return sameAsFileName(name, src);
}

function sameAsFileName(name: string, src: string): boolean {
  let base =
    src
      .replace(/[?#].*$/, "")
      .split("/")
      .pop() ?? "";
  try {
    base = decodeURIComponent(base);
  } catch {}
  return base !== "" && base.replace(IMAGE_EXT, "").toLowerCase() === name.toLowerCase();
}
