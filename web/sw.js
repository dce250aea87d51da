// sw.js: the service worker (served as /sw.js, scope "/"), so a reload is instant and
// predictions work offline.
//
//   app shell  "/", the page's modules (web/app/*.js, web/sdk/*.js), /web/app.css, TF.js
//              and its .wasm files (SHELL: web/test/page.test.js checks it): precached at
//              install, then served stale-while-revalidate from SHELL_CACHE (the cached
//              copy answers at once; a fresh one replaces it in the background)
//   bundles    /models/<version>/…: immutable, so cache-first from MODEL_CACHE; the page
//              posts {type: "model-in-use", bundleUrl} once a bundle has loaded, and the
//              worker then makes sure every file of it is cached (the first visit fetches
//              the bundle before the worker controls the page) and drops other versions
//   /api/*     never touched: network only, never cached
//
// Bump SHELL_VERSION when the list of shell files changes; activate deletes every
// "tfcls-" cache that is not current.

const SHELL_VERSION = "v2"; // v2: the app in web/app/, the SDK in web/sdk/
const SHELL_CACHE = `tfcls-shell-${SHELL_VERSION}`;
const MODEL_CACHE = "tfcls-models-v1";
const CURRENT = new Set([SHELL_CACHE, MODEL_CACHE]);

const WASM_DIR = "/vendor/tfjs-backend-wasm/dist/";
const SHELL = [
  "/",
  "/web/app.css",
  "/web/app/main.js",
  "/web/app/state.js",
  "/web/app/model.js",
  "/web/app/view.js",
  "/web/app/offline.js",
  "/web/app/feedback-queue.js",
  "/web/app/feedback-schema.js",
  "/web/sdk/tfcls.js",
  "/web/sdk/text.js",
  "/web/sdk/tokenizer.js",
  "/vendor/tfjs/dist/tf.es2017.min.js",
  `${WASM_DIR}tf-backend-wasm.es2017.min.js`,
  `${WASM_DIR}tfjs-backend-wasm.wasm`,
  `${WASM_DIR}tfjs-backend-wasm-simd.wasm`,
  `${WASM_DIR}tfjs-backend-wasm-threaded-simd.wasm`,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // one by one: a missing file (say, a wasm variant) must not fail the install
      await Promise.allSettled(SHELL.map((url) => cache.add(new Request(url, { cache: "reload" }))));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith("tfcls-") && !CURRENT.has(name)).map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

function cacheable(response) {
  return response && response.status === 200 && response.type === "basic";
}

async function cacheFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (cacheable(response)) await cache.put(request, response.clone());
  return response;
}

async function staleWhileRevalidate(event, request, cacheName, key = request) {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(key, { ignoreSearch: key !== request });
  const refresh = fetch(request).then(async (response) => {
    if (cacheable(response)) await cache.put(key, response.clone());
    return response;
  });
  if (hit) {
    event.waitUntil(refresh.catch(() => {})); // offline: the cached copy stands
    return hit;
  }
  return refresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (path.startsWith("/api/")) return; // network only
  if (path.startsWith("/models/")) {
    event.respondWith(cacheFirst(request, MODEL_CACHE));
  } else if (path === "/" || path === "/index.html") {
    // the page, whatever its query string, is the one cached "/"
    event.respondWith(staleWhileRevalidate(event, request, SHELL_CACHE, "/"));
  } else if (path.startsWith("/web/") || path.startsWith("/vendor/")) {
    event.respondWith(staleWhileRevalidate(event, request, SHELL_CACHE));
  }
});

/** Every file of the bundle at `base` (a "/models/<version>/" URL). */
async function bundleFiles(base, cache) {
  const get = async (name) => {
    const url = new URL(name, base).href;
    const hit = await cache.match(url);
    if (hit) return hit;
    const response = await fetch(url);
    if (!cacheable(response)) throw new Error(`${url}: HTTP ${response.status}`);
    await cache.put(url, response.clone());
    return response;
  };
  const metadata = await (await get("metadata.json")).json();
  const model = await (await get("model.json")).json();
  const names = [metadata.tokenizer?.vocab ?? "vocab.txt"];
  for (const group of model.weightsManifest ?? []) names.push(...group.paths);
  for (const name of names) await get(name);
}

async function keepOnlyBundle(base) {
  const cache = await caches.open(MODEL_CACHE);
  await bundleFiles(base, cache);
  for (const request of await cache.keys()) {
    if (!request.url.startsWith(base)) await cache.delete(request);
  }
}

self.addEventListener("message", (event) => {
  const data = event.data ?? {};
  if (data.type !== "model-in-use") return;
  // The page may pass a MessagePort: it hears {ok} once the bundle is (or cannot be) cached.
  const port = event.ports?.[0];
  const reply = (message) => port?.postMessage(message);
  let base;
  try {
    base = new URL(String(data.bundleUrl), self.location.origin);
  } catch {
    reply({ ok: false, error: "bad bundleUrl" });
    return;
  }
  if (base.origin !== self.location.origin || !base.pathname.startsWith("/models/")) {
    reply({ ok: false, error: "not a same-origin /models/ URL" });
    return;
  }
  if (!base.pathname.endsWith("/")) base = new URL(`${base.pathname}/`, base);
  // a bundle that cannot be completed is not pruned against: other versions stay then
  event.waitUntil(
    keepOnlyBundle(base.href).then(
      () => reply({ ok: true }),
      (err) => reply({ ok: false, error: String(err?.message ?? err) }),
    ),
  );
});
