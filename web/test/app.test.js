// app.js: the DOM-free logic (decisions, verdicts, payloads, debounced predictions with
// sequence numbers, client id, model info fallback). Importing app.js must not touch the
// DOM: Node has no `document`, so the bootstrap does not run.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cachedModelInfo,
  CLIENT_ID_KEY,
  configureTf,
  createPredictor,
  DEBOUNCE_MS,
  decide,
  deliveryText,
  feedbackPayload,
  formatPercent,
  formatPrediction,
  getClientId,
  matchLabel,
  MODEL_INFO_KEY,
  rememberModelInfo,
  resolveModelInfo,
  startBackend,
  statusParts,
  suggestionsToShow,
  truncate,
  verdictFor,
  WASM_PATH,
  withTimeout,
} from "../app.js";
import { MemoryStorage } from "../feedback-queue.js";

const result = (probs, { autoSelect = false, unknown = false, unknownValue = 0.8, text = "x" } = {}) => ({
  predictions: Object.entries(probs)
    .map(([label, probability]) => ({ label, probability }))
    .sort((a, b) => b.probability - a.probability),
  autoSelect,
  unknown,
  unknownValue,
  text,
});

test("importing app.js leaves the global scope alone", () => {
  assert.equal(typeof globalThis.document, "undefined");
  assert.equal(globalThis.tfclsApp, undefined);
});

test("formatPercent and formatPrediction", () => {
  assert.equal(formatPercent(0.97), "97%");
  assert.equal(formatPercent(0.9749), "97%");
  assert.equal(formatPercent(1), "100%");
  assert.equal(formatPercent(0.9999), ">99%");
  assert.equal(formatPercent(0), "0%");
  assert.equal(formatPercent(0.001), "<1%");
  assert.equal(formatPercent(Number.NaN), "–");
  assert.equal(formatPrediction({ label: "Development", probability: 0.97 }), "Development · 97%");
});

test("decide: auto-selected above the threshold", () => {
  const r = result({ Development: 0.97, Design: 0.02, Meeting: 0.01, Planning: 0 }, { autoSelect: true });
  const d = decide(r);
  assert.equal(d.mode, "auto");
  assert.equal(d.selected, "Development");
  assert.deepEqual(d.top, { label: "Development", probability: 0.97 });
  assert.deepEqual(
    d.suggestions.map((s) => s.label),
    ["Development", "Design", "Meeting"],
  );
  // alternatives in auto mode leave out the selected one
  assert.deepEqual(
    suggestionsToShow(d).map((s) => s.label),
    ["Design", "Meeting"],
  );
});

test("decide: below the threshold, the top 3 are suggestions and nothing is selected", () => {
  const d = decide(result({ A: 0.5, B: 0.3, C: 0.15, D: 0.05 }));
  assert.equal(d.mode, "suggest");
  assert.equal(d.selected, null);
  assert.deepEqual(
    suggestionsToShow(d).map((s) => s.label),
    ["A", "B", "C"],
  );
});

test("decide: an explicit threshold overrides classify()'s decision", () => {
  const r = result({ A: 0.95, B: 0.05 }, { autoSelect: true });
  assert.equal(decide(r, { threshold: 0.97 }).mode, "suggest");
  assert.equal(decide(r, { threshold: 0.9 }).mode, "auto");
  assert.equal(decide(r, { threshold: null }).mode, "auto"); // null: classify() decides
  assert.equal(decide(result({ A: 0.95, B: 0.05 }), { threshold: 0.95 }).mode, "auto"); // at the threshold
});

test("decide: unknown is never auto-selected and wins over the threshold", () => {
  const r = result({ A: 0.99, B: 0.01 }, { unknown: true, unknownValue: 0.1 });
  const d = decide(r, { threshold: 0.9 });
  assert.equal(d.mode, "unknown");
  assert.equal(d.unknown, true);
  assert.equal(d.selected, null);
  assert.deepEqual(
    d.suggestions.map((s) => s.label),
    ["A", "B"],
  );
  // by the unknown score's value when an unknown threshold is given
  const known = result({ A: 0.99, B: 0.01 }, { unknownValue: 0.5 });
  assert.equal(decide(known, { unknownThreshold: 0.6 }).mode, "unknown");
  assert.equal(decide(known, { unknownThreshold: 0.3, threshold: 0.9 }).mode, "auto");
});

test("decide: no result or no text is the empty state", () => {
  for (const r of [null, undefined, result({}), result({ A: 1 }, { text: "" })]) {
    const d = decide(r);
    assert.equal(d.mode, "empty");
    assert.equal(d.top, null);
    assert.deepEqual(d.suggestions, []);
  }
});

test("verdictFor: accept, pick, reject, new category", () => {
  const auto = decide(result({ A: 0.97, B: 0.02, C: 0.01 }, { autoSelect: true }));
  const low = decide(result({ A: 0.5, B: 0.3, C: 0.2 }));
  assert.deepEqual(verdictFor(auto, "accept"), { action: "accepted", chosenLabel: "A" });
  assert.equal(verdictFor(low, "accept"), null); // nothing selected: nothing to accept
  assert.deepEqual(verdictFor(low, "pick", { label: "A" }), { action: "accepted", chosenLabel: "A" });
  assert.deepEqual(verdictFor(auto, "pick", { label: "B" }), { action: "corrected", chosenLabel: "B" });
  assert.deepEqual(verdictFor(low, "reject"), { action: "rejected", chosenLabel: null });
  const labels = ["A", "B", "Customer Support"];
  assert.deepEqual(verdictFor(low, "new", { label: "  Legal   review ", labels }), {
    action: "new_category",
    chosenLabel: "Legal review",
  });
  // a "new" name that is an existing category is that category
  assert.deepEqual(verdictFor(low, "new", { label: "customer  support", labels }), {
    action: "corrected",
    chosenLabel: "Customer Support",
  });
  assert.deepEqual(verdictFor(low, "new", { label: "a", labels }), { action: "accepted", chosenLabel: "A" });
  assert.equal(verdictFor(low, "new", { label: "   ", labels }), null);
  assert.equal(matchLabel(labels, "nope"), null);
  assert.throws(() => verdictFor(low, "bogus"), /unknown verdict/);
});

test("feedbackPayload: the server's fields, trimmed and within limits", () => {
  const d = decide(result({ Development: 0.97, Design: 0.03 }, { autoSelect: true }));
  const p = feedbackPayload({
    title: "  Fix login  ",
    description: "users land on /home ",
    decision: d,
    action: "accepted",
    chosenLabel: "Development",
    modelVersion: "v7",
    clientId: "cid",
  });
  assert.deepEqual(p, {
    title: "Fix login",
    description: "users land on /home",
    predicted_label: "Development",
    confidence: 0.97,
    chosen_label: "Development",
    action: "accepted",
    model_version: "v7",
    client_id: "cid",
  });
  const rejected = feedbackPayload({ title: "t", decision: d, action: "rejected", chosenLabel: "X", modelVersion: "v7", clientId: "c" });
  assert.equal(rejected.chosen_label, null);
  assert.equal(rejected.description, "");
  const none = feedbackPayload({ title: "t", action: "new_category", chosenLabel: "Legal", modelVersion: "v7", clientId: "c" });
  assert.equal(none.predicted_label, null);
  assert.equal(none.confidence, null);
  assert.equal(none.chosen_label, "Legal");
  assert.throws(() => feedbackPayload({ title: "t", action: "maybe", modelVersion: "v", clientId: "c" }), /action/);
  // 2000 code points, as Python counts: an astral character is one
  const long = feedbackPayload({ title: "😀".repeat(2500), action: "rejected", modelVersion: "v", clientId: "c" });
  assert.equal(Array.from(long.title).length, 2000);
  assert.equal(truncate("abc", 2), "ab");
  assert.equal(truncate("<script>alert(1)</script>"), "<script>alert(1)</script>");
});

/** Timers under test control: advance(ms) fires what is due, in order. */
function fakeTimers() {
  let now = 0;
  let nextId = 1;
  const pending = new Map();
  return {
    setTimeout(fn, ms) {
      const id = nextId++;
      pending.set(id, { fn, at: now + ms });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) {
          pending.delete(id);
          t.fn();
        }
      }
    },
    get size() {
      return pending.size;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("predictor: debounced, one prediction for a burst of keystrokes", async () => {
  const timers = fakeTimers();
  const calls = [];
  const shown = [];
  const p = createPredictor({
    predict: async (input) => {
      calls.push(input);
      return `r:${input}`;
    },
    onResult: (r) => shown.push(r),
    timers,
  });
  assert.equal(DEBOUNCE_MS, 150);
  p.update("F");
  timers.advance(100);
  p.update("Fi");
  timers.advance(100);
  p.update("Fix");
  timers.advance(149);
  assert.deepEqual(calls, []);
  timers.advance(1);
  await tick();
  assert.deepEqual(calls, ["Fix"]);
  assert.deepEqual(shown, ["r:Fix"]);
});

test("predictor: a stale result is dropped when newer input arrived", async () => {
  const timers = fakeTimers();
  const resolvers = {};
  const shown = [];
  const p = createPredictor({
    predict: (input) =>
      new Promise((resolve) => {
        resolvers[input] = () => resolve(`r:${input}`);
      }),
    onResult: (r, input, seq) => shown.push([r, input, seq]),
    timers,
  });
  p.update("slow");
  timers.advance(150); // "slow" is predicting
  await tick();
  const seq = p.update("fast");
  timers.advance(150);
  await tick();
  resolvers.fast();
  await tick();
  resolvers.slow(); // finishes last: must not overwrite "fast"
  await tick();
  assert.deepEqual(shown, [["r:fast", "fast", seq]]);
  // and cancel() drops whatever is in flight
  p.update("gone");
  timers.advance(150);
  await tick();
  p.cancel();
  resolvers.gone();
  await tick();
  assert.equal(shown.length, 1);
  assert.equal(await p.settle(), null);
});

test("predictor: settle() predicts the waiting input at once and reuses a finished one", async () => {
  const timers = fakeTimers();
  const calls = [];
  const p = createPredictor({
    predict: async (input) => {
      calls.push(input);
      return `r:${input}`;
    },
    timers,
  });
  assert.equal(await p.settle(), null); // no input yet
  p.update("Fix bug");
  assert.equal(await p.settle(), "r:Fix bug"); // without waiting for the debounce
  assert.equal(timers.size, 0);
  assert.equal(await p.settle(), "r:Fix bug");
  assert.deepEqual(calls, ["Fix bug"]);
});

test("predictor: settle() follows newer input that arrives while predicting", async () => {
  const timers = fakeTimers();
  let release;
  const p = createPredictor({
    predict: async (input) => {
      if (input === "a") await new Promise((resolve) => (release = resolve));
      return `r:${input}`;
    },
    timers,
  });
  p.update("a");
  const settled = p.settle();
  await tick();
  p.update("ab");
  release();
  assert.equal(await settled, "r:ab");
});

test("predictor: a failed prediction goes to onError and settles as null", async () => {
  const timers = fakeTimers();
  const errors = [];
  const p = createPredictor({
    predict: async () => {
      throw new Error("boom");
    },
    onError: (e) => errors.push(e.message),
    timers,
  });
  p.update("x");
  assert.equal(await p.settle(), null);
  assert.deepEqual(errors, ["boom"]);
});

test("client id: a UUID made once and kept in storage", () => {
  const storage = new MemoryStorage();
  const id = getClientId(storage);
  assert.match(id, /^[0-9a-f-]{36}$/u);
  assert.equal(storage.getItem(CLIENT_ID_KEY), id);
  assert.equal(getClientId(storage), id);
  storage.setItem(CLIENT_ID_KEY, "garbage");
  assert.notEqual(getClientId(storage), "garbage");
  // storage that throws (disabled cookies, private mode): still an id
  const broken = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("SecurityError");
    },
  };
  assert.match(getClientId(broken), /^[0-9a-f-]{36}$/u);
});

const INFO = { version: "v2", bundle_url: "/models/v2/", labels: ["A"], threshold: 0.97, unknown_threshold: 0.3 };

test("model info: from /api/model with the client id, else the last one that loaded", async () => {
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

  let r = await resolveModelInfo({ fetch: online, storage, clientId: "a b" });
  assert.deepEqual(urls, ["/api/model?client_id=a%20b"]);
  assert.equal(r.source, "network");
  assert.deepEqual(r.candidates, [INFO]);

  r = await resolveModelInfo({ fetch: offline, storage, clientId: "c" });
  assert.equal(r.source, "cache");
  assert.deepEqual(r.candidates, []); // nothing loaded yet
  assert.ok(r.error);

  rememberModelInfo(storage, INFO);
  assert.deepEqual(JSON.parse(storage.getItem(MODEL_INFO_KEY)), INFO);
  r = await resolveModelInfo({ fetch: offline, storage, clientId: "c" });
  assert.equal(r.source, "cache");
  assert.deepEqual(r.candidates, [INFO]);

  // a new version (A/B) comes first; the cached one is the fallback
  const v3 = { ...INFO, version: "v3", bundle_url: "/models/v3/" };
  r = await resolveModelInfo({ fetch: async () => ({ ok: true, json: async () => v3 }), storage, clientId: "c" });
  assert.deepEqual(
    r.candidates.map((i) => i.version),
    ["v3", "v2"],
  );
  // a 5xx or a malformed answer falls back too
  for (const res of [{ ok: false, status: 503 }, { ok: true, json: async () => ({ version: 1 }) }]) {
    r = await resolveModelInfo({ fetch: async () => res, storage, clientId: "c" });
    assert.equal(r.source, "cache");
    assert.deepEqual(r.candidates, [INFO]);
  }
  storage.setItem(MODEL_INFO_KEY, "{bad");
  assert.equal(cachedModelInfo(storage), null);
});

test("status line and delivery words", () => {
  assert.deepEqual(statusParts({ version: "v2", backend: "wasm", online: true, queued: 0 }), {
    model: "Model v2 · wasm",
    network: "Online",
    queue: "0 queued",
  });
  assert.equal(statusParts({ loading: true }).model, "Loading model…");
  assert.equal(statusParts({ failed: true }).model, "Model unavailable");
  assert.equal(statusParts({ version: "v2", online: false, queued: 3 }).network, "Offline");
  assert.equal(statusParts({ version: "v2", online: false, queued: 3 }).queue, "3 queued");
  assert.equal(deliveryText("sent"), "sent");
  assert.equal(deliveryText("queued"), "queued");
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

test("index.html: no inline script or style, every test id present, TF.js builds that pass the CSP", async () => {
  const { readFile } = await import("node:fs/promises");
  const html = await readFile(new URL("../index.html", import.meta.url), "utf8");
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/u); // every script is external
  assert.doesNotMatch(html, /\sstyle=/u);
  assert.doesNotMatch(html, /<style/u);
  assert.doesNotMatch(html, /\son[a-z]+=/u); // no inline event handlers
  for (const id of ["title", "description", "prediction", "accept", "new-category", "new-category-name", "reject", "task-list", "status"]) {
    assert.match(html, new RegExp(`data-testid="${id}"`, "u"), id);
  }
  assert.match(html, /data-testid="prediction"[^>]*aria-live="polite"/u);
  assert.match(html, /<label for="title">/u);
  assert.match(html, /<label for="description">/u);
  // tf.min.js calls Function() (regenerator-runtime): refused by script-src without 'unsafe-eval'
  assert.match(html, /src="\/vendor\/tfjs\/dist\/tf\.es2017\.min\.js"/u);
  assert.match(html, /src="\/vendor\/tfjs-backend-wasm\/dist\/tf-backend-wasm\.es2017\.min\.js"/u);
  assert.match(html, /<script type="module" src="\/web\/app\.js"><\/script>/u);
});

test("sw.js precaches files that exist, the page's TF.js builds among them", async () => {
  const { readFile, access } = await import("node:fs/promises");
  const sw = await readFile(new URL("../sw.js", import.meta.url), "utf8");
  const html = await readFile(new URL("../index.html", import.meta.url), "utf8");
  const list = sw.slice(sw.indexOf("const SHELL = ["), sw.indexOf("];", sw.indexOf("const SHELL = [")));
  const wasmDir = /const WASM_DIR = "([^"]+)"/u.exec(sw)[1];
  const urls = [...list.matchAll(/["`]([^"`]+)["`]/gu)].map((m) => m[1].replace("${WASM_DIR}", wasmDir));
  assert.ok(urls.includes("/"));
  const root = new URL("../", import.meta.url);
  const onDisk = (url) => {
    if (url === "/") return new URL("index.html", root);
    if (url.startsWith("/web/")) return new URL(url.slice(5), root);
    const m = /^\/vendor\/(tfjs|tfjs-backend-wasm)\/(.+)$/u.exec(url);
    assert.ok(m, url);
    return new URL(`node_modules/@tensorflow/${m[1]}/${m[2]}`, root);
  };
  for (const url of urls) await access(onDisk(url));
  for (const [, src] of html.matchAll(/(?:src|href)="(\/[^"]+)"/gu)) assert.ok(urls.includes(src), `${src} is not precached`);
});
