// offline.js: the page's side of the service worker (web/sw.js): register it, keep a copy of
// every bundle file the page itself downloads in the worker's bundle cache (on a first visit
// the page fetches the bundle before the worker controls it: without the copy the worker
// would download the whole bundle a second time), and once a model has loaded ask the worker
// to keep that bundle for offline use. No DOM; `nav` is the browser's navigator and `caches`
// the Cache API (tests pass stand-ins).

import { withTimeout } from "./model.js";

export const SW_URL = "/sw.js";
export const SW_READY_MS = 30000;
export const CACHE_MODEL_MS = 300000;
export const MODEL_CACHE = "tfcls-models-v1"; // web/sw.js's bundle cache (the same name)

/**
 * `fetchFn` for the bundle's files, keeping a copy of each successful same-origin answer in
 * the worker's bundle cache while no worker controls the page (a controlling worker caches
 * what it serves itself). `fetcher.settled()` resolves once every copy is written (or failed).
 */
export function cachingFetch(fetchFn, { caches = globalThis.caches, nav = globalThis.navigator, cacheName = MODEL_CACHE } = {}) {
  const pending = [];
  const fetcher = async (input, init) => {
    const response = await fetchFn(input, init);
    const controlled = Boolean(nav?.serviceWorker?.controller);
    if (caches && !controlled && response.status === 200 && response.type === "basic") {
      const copy = response.clone();
      const put = caches.open(cacheName).then((cache) => cache.put(input, copy));
      pending.push(put.catch((err) => console.warn("tfcls: bundle file not cached", err)));
    }
    return response;
  };
  fetcher.settled = () => Promise.allSettled(pending).then(() => undefined);
  return fetcher;
}

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
 * the worker controlled it: `settled`, a cachingFetch's, is awaited first, so the worker
 * finds those files cached) and to let go of other versions. Resolves true once the
 * worker says every file of the bundle is cached, false if it cannot.
 */
export async function keepModelOffline(registration, info, nav = globalThis.navigator, { settled = null } = {}) {
  try {
    if (!(await registration)) return false;
    await settled?.();
    const ready = await withTimeout(nav.serviceWorker.ready, SW_READY_MS, "service worker");
    const message = { type: "model-in-use", version: info.version, bundleUrl: info.bundle_url };
    return await ask(ready.active, message, CACHE_MODEL_MS, "caching the model");
  } catch (err) {
    console.warn("tfcls: the model is not cached for offline use", err);
    return false;
  }
}
