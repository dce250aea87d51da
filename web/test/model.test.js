// model.js: the client token, which model to load (GET /api/model, else the last one that
// loaded) and TF.js's start-up, with stand-ins for fetch, storage and TF.js.

import assert from "node:assert/strict";
import { test } from "node:test";

import { MemoryStorage } from "../app/feedback-queue.js";
import {
  cachedModelInfo,
  CLIENT_TOKEN_KEY,
  clientToken,
  configureTf,
  loadModel,
  MODEL_INFO_KEY,
  rememberClientToken,
  rememberModelInfo,
  renewClientToken,
  resolveModelInfo,
  startBackend,
  WARM_UP_TEXTS,
  WASM_PATH,
  warmUpWhenIdle,
  whenIdle,
  withTimeout,
} from "../app/model.js";

test("client token: what the server issued, kept in storage; none before the first answer", async () => {
  const storage = new MemoryStorage();
  assert.equal(clientToken(storage), "");
  assert.equal(rememberClientToken(storage, { client_token: "id1.sig" }), "id1.sig");
  assert.equal(storage.getItem(CLIENT_TOKEN_KEY), "id1.sig");
  assert.equal(rememberClientToken(storage, { version: "v1" }), "id1.sig"); // no token: kept
  const urls = [];
  const fresh = async (url) => {
    urls.push(url);
    return { ok: true, json: async () => ({ client_token: "id2.sig" }) };
  };
  assert.equal(await renewClientToken({ fetch: fresh, storage }), "id2.sig");
  assert.deepEqual(urls, ["/api/model"]); // renewing sends no (refused) token
  const offline = async () => {
    throw new TypeError("Failed to fetch");
  };
  assert.equal(await renewClientToken({ fetch: offline, storage }), "");
  assert.equal(clientToken(storage), "id2.sig");
  // storage that throws (disabled cookies, private mode): the token still comes back
  const broken = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("SecurityError");
    },
  };
  assert.equal(rememberClientToken(broken, { client_token: "x.y" }), "x.y");
  assert.equal(await renewClientToken({ fetch: fresh, storage: broken }), "id2.sig");
});

const INFO = { version: "v2", bundle_url: "/models/v2/", labels: ["A"], threshold: 0.97, unknown_threshold: 0.3, client_token: "c1.sig" };

test("model info: from /api/model with the client token, else the last one that loaded", async () => {
  const storage = new MemoryStorage();
  const urls = [];
  const online = async (url, init) => {
    urls.push(url);
    assert.equal(init.cache, "no-store");
    return { ok: true, status: 200, json: async () => INFO };
  };
  const offline = async () => {
    throw new TypeError("Failed to fetch");
  };

  let r = await resolveModelInfo({ fetch: online, storage });
  assert.equal(r.source, "network");
  assert.deepEqual(r.candidates, [INFO]);
  storage.setItem(CLIENT_TOKEN_KEY, "a b.sig");
  await resolveModelInfo({ fetch: online, storage });
  assert.deepEqual(urls, ["/api/model", "/api/model?client_token=a%20b.sig"]);
  assert.equal(clientToken(storage), "c1.sig"); // the answer's token is kept

  r = await resolveModelInfo({ fetch: offline, storage });
  assert.equal(r.source, "cache");
  assert.deepEqual(r.candidates, []); // nothing loaded yet
  assert.ok(r.error);

  rememberModelInfo(storage, INFO);
  assert.deepEqual(JSON.parse(storage.getItem(MODEL_INFO_KEY)), INFO);
  r = await resolveModelInfo({ fetch: offline, storage });
  assert.equal(r.source, "cache");
  assert.deepEqual(r.candidates, [INFO]);

  // a new version (A/B) comes first; the cached one is the fallback
  const v3 = { ...INFO, version: "v3", bundle_url: "/models/v3/" };
  r = await resolveModelInfo({ fetch: async () => ({ ok: true, json: async () => v3 }), storage });
  assert.deepEqual(
    r.candidates.map((i) => i.version),
    ["v3", "v2"],
  );
  // a 5xx or a malformed answer falls back too
  for (const res of [{ ok: false, status: 503 }, { ok: true, json: async () => ({ version: 1 }) }]) {
    r = await resolveModelInfo({ fetch: async () => res, storage });
    assert.equal(r.source, "cache");
    assert.deepEqual(r.candidates, [INFO]);
  }
  storage.setItem(MODEL_INFO_KEY, "{bad");
  assert.equal(cachedModelInfo(storage), null);
});

test("withTimeout: the promise's outcome, or a rejection after ms", async () => {
  assert.equal(await withTimeout(Promise.resolve(7), 1000), 7);
  await assert.rejects(withTimeout(Promise.reject(new Error("no")), 1000), /no/);
  await assert.rejects(withTimeout(new Promise(() => {}), 5, "wasm"), /wasm timed out after 5 ms/);
});

test("startBackend skips a backend that hangs or fails and takes the next", async () => {
  const tried = [];
  const choose = async (tf, [name]) => {
    tried.push(name);
    if (name === "wasm") return new Promise(() => {}); // never starts (e.g. blocked workers)
    if (name === "webgl") throw new Error("no WebGL");
    return name;
  };
  assert.equal(await startBackend({}, { choose, ms: 10 }), "cpu");
  assert.deepEqual(tried, ["wasm", "webgl", "cpu"]);
  await assert.rejects(startBackend({}, { choose, ms: 10, backends: ["wasm", "webgl"] }), /wasm: .*timed out.*webgl: no WebGL/);
});

test("configureTf: wasm files from /vendor, no wasm threads (the CSP blocks their blob: scripts)", () => {
  const flags = {};
  const paths = [];
  const tf = { wasm: { setWasmPaths: (p) => paths.push(p) }, env: () => ({ set: (k, v) => (flags[k] = v) }) };
  configureTf(tf);
  assert.deepEqual(paths, [WASM_PATH]);
  assert.equal(WASM_PATH, "/vendor/tfjs-backend-wasm/dist/");
  assert.deepEqual(flags, { WASM_HAS_MULTITHREAD_SUPPORT: false });
  configureTf({ env: () => ({ set() { throw new Error("unknown flag"); } }) }); // tolerated
});

/** A tf stand-in that only takes configureTf()'s settings. */
const fakeTf = () => ({ wasm: { setWasmPaths() {} }, env: () => ({ set() {} }) });

test("loadModel: the server's model on the backend that started, warmed up and remembered", async () => {
  const storage = new MemoryStorage();
  const loads = [];
  const seen = [];
  const clf = { classified: [], classify: async (t) => clf.classified.push(t) };
  const bundleFetch = async () => null;
  const onProgress = () => {};
  const { clf: loaded, info } = await loadModel({
    tf: fakeTf(),
    storage,
    fetch: async () => ({ ok: true, json: async () => INFO }),
    bundleFetch,
    onProgress,
    onCandidate: (i) => seen.push(i.version),
    load: async (url, options) => {
      loads.push([url, options.backends]);
      assert.equal(options.fetch, bundleFetch); // the bundle through the caching fetch
      assert.equal(options.onProgress, onProgress);
      return clf;
    },
    start: async () => "cpu",
  });
  assert.equal(loaded, clf);
  assert.deepEqual(info, INFO);
  assert.deepEqual(loads, [["/models/v2/", ["cpu"]]]);
  // warmed up with a realistic title (a short input warms less of the graph)
  assert.deepEqual(clf.classified, [WARM_UP_TEXTS[0][0]]);
  assert.ok(WARM_UP_TEXTS[0][0].split(" ").length >= 6);
  assert.deepEqual(seen, ["v2"]);
  assert.deepEqual(cachedModelInfo(storage), INFO);
});

test("loadModel: a model that fails to load falls back to the cached one, else rejects", async () => {
  const storage = new MemoryStorage();
  rememberModelInfo(storage, INFO);
  const v3 = { ...INFO, version: "v3", bundle_url: "/models/v3/" };
  const args = {
    tf: fakeTf(),
    storage,
    fetch: async () => ({ ok: true, json: async () => v3 }),
    start: async () => "wasm",
  };
  const seen = [];
  const load = async (url) => {
    if (url === "/models/v3/") throw new Error("v3 is broken");
    return { classify: async () => null };
  };
  const warn = console.warn;
  console.warn = () => {};
  try {
    const { info } = await loadModel({ ...args, load, onCandidate: (i) => seen.push(i.version) });
    assert.equal(info.version, "v2");
    assert.deepEqual(seen, ["v3", "v2"]);
    await assert.rejects(
      loadModel({ ...args, load: async () => Promise.reject(new Error("nothing loads")) }),
      /nothing loads/,
    );
    // offline with nothing cached: the fetch error
    await assert.rejects(
      loadModel({ ...args, storage: new MemoryStorage(), fetch: async () => Promise.reject(new TypeError("Failed to fetch")) }),
      /Failed to fetch/,
    );
  } finally {
    console.warn = warn;
  }
});

test("warmUpWhenIdle: the other warm-up lengths, one per idle period, and it survives a failure", async () => {
  const calls = [];
  const clf = { classify: async (title, description) => calls.push([title, description]) };
  let idles = 0;
  const idle = (fn) => {
    idles += 1;
    return Promise.resolve().then(fn);
  };
  await warmUpWhenIdle(clf, { idle });
  assert.deepEqual(calls, WARM_UP_TEXTS.slice(1));
  assert.equal(idles, WARM_UP_TEXTS.length - 1);
  const lengths = new Set(WARM_UP_TEXTS.map(([t, d]) => `${t} ${d}`.trim().split(/\s+/u).length));
  assert.equal(lengths.size, WARM_UP_TEXTS.length); // different lengths
  const warn = console.warn;
  console.warn = () => {};
  try {
    await warmUpWhenIdle({ classify: async () => Promise.reject(new Error("disposed")) }, { idle });
  } finally {
    console.warn = warn;
  }
});

test("whenIdle: requestIdleCallback with a timeout where there is one, else a timer", async () => {
  const asked = [];
  const timers = { requestIdleCallback: (fn, options) => asked.push(options) && fn() };
  assert.equal(await whenIdle(() => 7, { timers, timeout: 123 }), 7);
  assert.deepEqual(asked, [{ timeout: 123 }]);
  assert.equal(await whenIdle(() => 8, { timers: globalThis }), 8); // Node: setTimeout
  await assert.rejects(whenIdle(() => Promise.reject(new Error("x")), { timers }), /x/);
});

test("configureWasm: threads only when asked for, with that many threads", async () => {
  const { configureWasm } = await import("../sdk/tfcls.js");
  const flags = {};
  const counts = [];
  const tf = {
    wasm: { setWasmPaths() {}, setThreadsCount: (n) => counts.push(n) },
    env: () => ({ set: (k, v) => (flags[k] = v) }),
  };
  configureWasm(tf, "/w/", { threads: 4 });
  assert.deepEqual([flags, counts], [{ WASM_HAS_MULTITHREAD_SUPPORT: true }, [4]]);
  configureWasm(tf, "/w/");
  assert.deepEqual([flags, counts], [{ WASM_HAS_MULTITHREAD_SUPPORT: false }, [4]]);
});
