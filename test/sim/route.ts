// The shape of one simulated endpoint.

import type { Faults } from "./faults.js";
import type { Ctx, HostKind } from "./http.js";
import type { World } from "./world.js";

export interface SimEnv {
  world: World;
  faults: Faults;
}

export interface Route {
  host: HostKind;
  method: string;
  path: RegExp;
  /** Stable endpoint name used by fault injection and the request log. */
  name: string;
  /** An API call (counted for in-flight limits and subject to faults), as opposed to a page or static file. */
  api: boolean;
  /** Needs a valid session: 401 code 100 otherwise. */
  auth?: boolean;
  /** Needs x-xsrftoken equal to the _xsrf cookie: 403 otherwise. */
  xsrf?: boolean;
  handle(ctx: Ctx, env: SimEnv): void | Promise<void>;
}
