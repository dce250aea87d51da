// sw.js: the service worker (served as /sw.js, scope "/"), so a reload is instant and
// predictions work offline.
//
//   app shell  "/", the page's modules (web/app/*.js, web/sdk/*.js), /web/app.css, TF.js
//              (SHELL: web/test/page.test.js checks it) and the one .wasm binary this
//              browser runs (wasmBinary(): SIMD or not; the page keeps wasm single-threaded):
//              precached at install through the HTTP cache (the page has just downloaded
//              most of them: no second download), then served stale-while-revalidate from
//              SHELL_CACHE (the cached copy answers at once; a fresh one replaces it later)
//   bundles    /models/<version>/…: immutable, so cache-first from MODEL_CACHE; the page
//              posts {type: "model-in-use", bundleUrl} once a bundle has loaded, and the
//              worker then makes sure every file of it is cached and drops other versions.
//              On a first visit the page fetches the bundle before the worker controls it
//              and writes each file it downloaded into MODEL_CACHE itself (web/app/
//              offline.js cachingFetch), so the worker finds them there: a fresh visit
//              downloads the bundle once
//   /api/*     never touched: network only, never cached
//
// Bump SHELL_VERSION when the list of shell files changes; activate deletes every
// "tfcls-" cache that is not current.

const SHELL_VERSION = "v3"; // v3: one .wasm binary, precached through the HTTP cache
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
];

// A tiny module with one SIMD instruction: TF.js's own probe (WASM_HAS_SIMD_SUPPORT).
const SIMD_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11];

/** The .wasm binary single-threaded TF.js loads in this browser. */
function wasmBinary() {
  let simd = false;
  try {
    simd = WebAssembly.validate(new Uint8Array(SIMD_PROBE));
  } catch {
    // no WebAssembly: the page falls back to another backend, the plain binary is harmless
  }
  return `${WASM_DIR}${simd ? "tfjs-backend-wasm-simd.wasm" : "tfjs-backend-wasm.wasm"}`;
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // one by one: a missing file must not fail the install. The HTTP cache answers what the
      // page has just downloaded (TF.js: max-age; the rest revalidates with a 304)
      await Promise.allSettled([...SHELL, wasmBinary()].map((url) => cache.add(url)));
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
