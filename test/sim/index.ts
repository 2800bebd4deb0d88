// The Zhihu simulator used by tests and `npm run demo`. Contract: ./README.md.

export type { Decision, FailureMode, FaultSpec } from "./faults.js";
export { SOFT_404_TITLE } from "./pages.js";
export {
  type AccountInfo,
  type ArticleView,
  type ImageView,
  type RequestRecord,
  type SimCookie,
  Simulator,
  type SimulatorOptions,
  startSimulator,
} from "./server.js";
