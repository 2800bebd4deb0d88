// Not Zhihu's: a fixture under /__sim/ for tests of the browser itself. A service worker there lets a test
// prove that what no page's debugging session sees (a worker's script, its own fetches, a page's fetch it
// passes on) still presents the installed browser. Whether Zhihu's pages register one is not known.

import type { Route } from "./route.js";

const SERVICE_WORKER = `
self.addEventListener("install", (e) => { e.waitUntil(fetch("/__sim/from-service-worker")); self.skipWaiting(); });
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (e) => {
  if (new URL(e.request.url).pathname.startsWith("/__sim/through-")) e.respondWith(fetch(e.request));
});`;

export const fixtureRoutes: Route[] = [
  {
    host: "www",
    method: "GET",
    path: /^\/__sim\/service-worker\.js$/,
    name: "fixture.service-worker",
    api: false,
    handle(ctx) {
      // Allowed to control the whole origin, as a site's own worker at its root would.
      ctx.send(200, SERVICE_WORKER, {
        "Content-Type": "text/javascript; charset=utf-8",
        "Service-Worker-Allowed": "/",
      });
    },
  },
];
