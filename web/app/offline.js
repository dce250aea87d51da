// offline.js: the page's side of the service worker (web/sw.js): register it, and once a
// model has loaded ask it to keep that bundle for offline use. No DOM; `nav` is the
// browser's navigator (tests pass a stand-in).

import { withTimeout } from "./model.js";

export const SW_URL = "/sw.js";
export const SW_READY_MS = 30000;
export const CACHE_MODEL_MS = 300000;

/** Register /sw.js for the whole origin; resolves with the registration, or null. */
export function registerServiceWorker(nav = globalThis.navigator) {
  if (!("serviceWorker" in nav)) return Promise.resolve(null);
  return nav.serviceWorker.register(SW_URL, { scope: "/" }).catch((err) => {
    console.warn("tfcls: service worker not registered", err);
    return null;
  });
}

/** Post `message` to `worker` with a reply port: resolves with the reply's `ok`. */
async function ask(worker, message, ms, what) {
  const channel = new MessageChannel();
  try {
    const reply = new Promise((resolve) => {
      channel.port1.onmessage = (event) => resolve(Boolean(event.data?.ok));
    });
    worker.postMessage(message, [channel.port2]);
    return await withTimeout(reply, ms, what);
  } finally {
    channel.port1.close(); // answered, given up or never sent: nothing more to hear
  }
}

/**
 * Ask the worker to hold this bundle for offline use (the page may have fetched it before
 * the worker controlled it) and to let go of other versions. Resolves true once the
 * worker says every file of the bundle is cached, false if it cannot.
 */
export async function keepModelOffline(registration, info, nav = globalThis.navigator) {
  try {
    if (!(await registration)) return false;
    const ready = await withTimeout(nav.serviceWorker.ready, SW_READY_MS, "service worker");
    const message = { type: "model-in-use", version: info.version, bundleUrl: info.bundle_url };
    return await ask(ready.active, message, CACHE_MODEL_MS, "caching the model");
  } catch (err) {
    console.warn("tfcls: the model is not cached for offline use", err);
    return false;
  }
}
