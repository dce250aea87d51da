// offline.js: registering the service worker and asking it to keep the loaded bundle, with a
// stand-in navigator (MessageChannel is Node's own).

import assert from "node:assert/strict";
import { test } from "node:test";

import { cachingFetch, keepModelOffline, MODEL_CACHE, registerServiceWorker } from "../app/offline.js";

const INFO = { version: "v2", bundle_url: "/models/v2/" };

/** A navigator whose worker answers {ok} to "model-in-use". */
function fakeNavigator({ ok = true, register = async () => ({ scope: "/" }) } = {}) {
  const messages = [];
  const registered = [];
  const worker = {
    postMessage(message, [port]) {
      messages.push(message);
      port.postMessage({ ok });
    },
  };
  const nav = {
    serviceWorker: {
      register: (url, options) => {
        registered.push([url, options]);
        return register();
      },
      ready: Promise.resolve({ active: worker }),
    },
  };
  return { nav, messages, registered };
}

const quiet = async (fn) => {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
};

test("registerServiceWorker: /sw.js for the whole origin; null without support or on failure", async () => {
  const { nav, registered } = fakeNavigator();
  assert.deepEqual(await registerServiceWorker(nav), { scope: "/" });
  assert.deepEqual(registered, [["/sw.js", { scope: "/" }]]);
  assert.equal(await registerServiceWorker({}), null);
  const failing = fakeNavigator({ register: async () => Promise.reject(new Error("SecurityError")) }).nav;
  assert.equal(await quiet(() => registerServiceWorker(failing)), null);
});

test("keepModelOffline: posts model-in-use and resolves with the worker's answer", async () => {
  const { nav, messages } = fakeNavigator({ ok: true });
  assert.equal(await keepModelOffline(Promise.resolve({}), INFO, nav), true);
  assert.deepEqual(messages, [{ type: "model-in-use", version: "v2", bundleUrl: "/models/v2/" }]);
  const refusing = fakeNavigator({ ok: false });
  assert.equal(await keepModelOffline(Promise.resolve({}), INFO, refusing.nav), false);
});

test("keepModelOffline: false without a registration or when the worker fails", async () => {
  const { nav, messages } = fakeNavigator();
  assert.equal(await keepModelOffline(Promise.resolve(null), INFO, nav), false);
  assert.equal(await keepModelOffline(null, INFO, nav), false);
  assert.deepEqual(messages, []);
  const broken = { serviceWorker: { ready: Promise.resolve({ active: null }) } };
  assert.equal(await quiet(() => keepModelOffline(Promise.resolve({}), INFO, broken)), false);
});

/** A Cache API stand-in: open(name) → {put(key, response)}; `puts` lists [name, key]. */
function fakeCaches() {
  const puts = [];
  return {
    puts,
    open: async (name) => ({ put: async (key, response) => puts.push([name, key, await response.text()]) }),
  };
}

test("cachingFetch: what the page downloads lands in the worker's bundle cache, once", async () => {
  const caches = fakeCaches();
  const res = (body, { status = 200, type = "basic" } = {}) => ({
    status,
    type,
    text: async () => body,
    clone: () => res(body, { status, type }),
  });
  const answers = { "/models/v2/model.json": res("{}"), "/models/v2/gone.bin": res("", { status: 404 }), "https://cdn/x": res("x", { type: "cors" }) };
  const seen = [];
  const fetcher = cachingFetch(async (url, init) => (seen.push([url, init]), answers[url]), { caches, nav: { serviceWorker: { controller: null } } });
  const r = await fetcher("/models/v2/model.json", { credentials: "same-origin" });
  assert.equal(await r.text(), "{}"); // the page still reads the body
  await fetcher("/models/v2/gone.bin");
  await fetcher("https://cdn/x");
  await fetcher.settled();
  assert.deepEqual(caches.puts, [[MODEL_CACHE, "/models/v2/model.json", "{}"]]);
  assert.equal(MODEL_CACHE, "tfcls-models-v1");
  assert.deepEqual(seen[0], ["/models/v2/model.json", { credentials: "same-origin" }]);
  // a controlling worker caches what it serves: no copy from the page then
  const controlled = cachingFetch(async () => res("{}"), { caches, nav: { serviceWorker: { controller: {} } } });
  await controlled("/models/v2/model.json");
  await controlled.settled();
  assert.equal(caches.puts.length, 1);
  // no Cache API (an insecure origin): a plain fetch
  const bare = cachingFetch(async () => res("{}"), { caches: undefined, nav: {} });
  assert.equal(await (await bare("/models/v2/model.json")).text(), "{}");
});

test("sw.js: the bundle cache the page writes is the worker's, and no file is refetched that is cached", async () => {
  const { readFile } = await import("node:fs/promises");
  const sw = await readFile(new URL("../sw.js", import.meta.url), "utf8");
  assert.match(sw, new RegExp(`const MODEL_CACHE = "${MODEL_CACHE}"`, "u"));
  const bundleFiles = sw.slice(sw.indexOf("async function bundleFiles"), sw.indexOf("async function keepOnlyBundle"));
  assert.ok(bundleFiles.indexOf("cache.match(url)") < bundleFiles.indexOf("fetch(url)"));
  assert.doesNotMatch(sw, /cache: "reload"/u); // the install goes through the HTTP cache
});

test("keepModelOffline: waits for the page's own copies before asking the worker", async () => {
  const { nav, messages } = fakeNavigator({ ok: true });
  const order = [];
  const settled = async () => {
    order.push("settled");
  };
  const ready = nav.serviceWorker.ready;
  const ask = {
    serviceWorker: {
      get ready() {
        order.push("ready");
        return ready;
      },
    },
  };
  assert.equal(await keepModelOffline(Promise.resolve({}), INFO, ask, { settled }), true);
  assert.deepEqual(order, ["settled", "ready"]);
  assert.equal(messages.length, 1);
});
