// main.js wires state, view, model loading and the outbox: the page bootstrapped in Node on
// a stand-in DOM (the elements of index.html, by id), a stand-in TF.js and graph model, and
// a fake server. The real browser run is the Playwright test (tests/test_e2e.py); this one
// checks the wiring: typing predicts, each gesture posts its verdict, the task list and the
// status line follow delivery.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { MemoryStorage } from "../app/feedback-queue.js";
import { pageDocument, until } from "./dom.js";

// --- a stand-in TF.js, bundle and server ---------------------------------------------------

const VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "fix", "login", "bug", "meeting", "notes", "lunch"];
const LABELS = ["Design", "Development", "Meeting"];
const INFO = { version: "v2", bundle_url: "/models/v2/", labels: LABELS, threshold: 0.9, unknown_threshold: 0.5, client_token: "c0ffee.sig" };
const METADATA = { labels: LABELS, version: "v2", threshold: 0.9, unknown: { threshold: 0.5 }, tokenizer: { vocab: "vocab.txt" } };

/** Probabilities by the words present: "fix" → Development (auto), "meeting" → Meeting
 * (below the threshold), anything else → no category fits. */
function probabilitiesOf(ids) {
  if (ids.includes(VOCAB.indexOf("fix"))) return [0.02, 0.97, 0.01];
  if (ids.includes(VOCAB.indexOf("meeting"))) return [0.1, 0.3, 0.6];
  return [0.34, 0.33, 0.33];
}

const model = {
  modelSignature: { outputs: { probabilities: { name: "p" }, similarity: { name: "s" } } },
  execute({ input_word_ids: ids }) {
    const [batch, seqLen] = ids.shape;
    const rows = Array.from({ length: batch }, (_, b) => Array.from(ids.values.slice(b * seqLen, (b + 1) * seqLen)));
    const p = Float32Array.from(rows.flatMap(probabilitiesOf));
    return [{ data: async () => p }, { data: async () => Float32Array.from(rows, () => 0.5) }];
  },
  dispose() {},
};

const tf = {
  setBackend: async (name) => name === "wasm",
  ready: async () => {},
  env: () => ({ set() {} }),
  wasm: { setWasmPaths() {} },
  tensor2d: (values, shape) => ({ values, shape }),
  dispose() {},
  io: { http: (url, options) => ({ url, options }) },
  loadGraphModel: async () => model,
};

const posts = []; // the bodies POSTed to /api/feedback
let answer = () => new Response(JSON.stringify({ id: posts.length }), { status: 201 });

async function fetchStub(url, init = {}) {
  const path = String(url).split("?")[0];
  if (path === "/api/model") return new Response(JSON.stringify(INFO), { status: 200 });
  if (path === "/models/v2/metadata.json") return new Response(JSON.stringify(METADATA), { status: 200 });
  if (path === "/models/v2/vocab.txt") return new Response(VOCAB.join("\n"), { status: 200 });
  if (path === "/api/feedback" && init.method === "POST") {
    posts.push(JSON.parse(init.body));
    return answer();
  }
  return new Response(null, { status: 404 });
}

// --- the page -----------------------------------------------------------------------------

let doc;
let app;
const saved = {};
const el = (id) => doc.getElementById(id);
const type = (id, text) => {
  el(id).value = text;
  el(id).dispatch("input");
};
const tasks = () => el("task-list").children;

before(async () => {
  doc = pageDocument();
  const windowListeners = {};
  const globals = {
    document: doc,
    window: globalThis,
    navigator: { onLine: true },
    localStorage: new MemoryStorage(),
    fetch: fetchStub,
    tf,
    addEventListener: (t, fn) => (windowListeners[t] ??= []).push(fn),
    // the outbox's 30 s flush must not keep the test process alive
    setInterval: (fn, ms) => saved.setInterval.value(fn, ms).unref(),
  };
  for (const [name, value] of Object.entries(globals)) {
    saved[name] = Object.getOwnPropertyDescriptor(globalThis, name);
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  await import("../app/main.js");
  app = globalThis.tfclsApp;
});

after(() => {
  for (const [name, descriptor] of Object.entries(saved)) {
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete globalThis[name];
  }
});

test("bootstrap: the model loads, the status line and category list follow", async () => {
  assert.deepEqual(await app.ready, { version: "v2", backend: "wasm" });
  assert.equal(app.classifier.version, "v2");
  assert.equal(app.clientId, "c0ffee"); // the id the server issued (its token: "c0ffee.sig")
  assert.equal(el("status-model").textContent, "Model v2 · wasm");
  assert.equal(el("status-network").textContent, "Online");
  assert.equal(el("status-queue").textContent, "0 queued");
  assert.equal(el("prediction").dataset.state, "empty");
  assert.equal(el("prediction-text").textContent, "Type a title to get a category.");
  assert.deepEqual(el("known-labels").children.map((o) => o.value), LABELS);
  assert.equal(await app.offlineReady, false); // no service worker here
});

test("typing predicts; Accept posts the auto-selected label and clears the form", async () => {
  type("title", "Fix login bug");
  await until(() => el("prediction").dataset.state === "auto", "the auto state");
  assert.equal(el("prediction").dataset.label, "Development");
  assert.equal(el("prediction-text").textContent, "Development · 97%");
  assert.equal(el("auto-badge").hidden, false);
  assert.equal(el("accept").disabled, false);
  assert.equal(el("accept").textContent, "Accept Development");
  el("accept").click();
  await until(() => tasks()[0]?.dataset.state === "sent", "the task to be sent");
  assert.deepEqual(posts.at(-1), {
    title: "Fix login bug",
    description: "",
    predicted_label: "Development",
    confidence: posts.at(-1).confidence,
    chosen_label: "Development",
    action: "accepted",
    model_version: "v2",
    client_id: "c0ffee.sig", // the token, which the server verifies and stores as its id
  });
  assert.ok(Math.abs(posts.at(-1).confidence - 0.97) < 1e-6);
  assert.equal(el("title").value, "");
  assert.equal(doc.activeElement, el("title"));
  assert.equal(el("prediction").dataset.state, "empty");
  assert.equal(tasks()[0].dataset.action, "accepted");
  assert.equal(tasks()[0].textContent, "Fix login bugDevelopment · accepted · sent");
  assert.equal(el("tasks-empty").hidden, true);
});

test("below the threshold: suggestions to pick; another label is a correction", async () => {
  type("title", "Meeting notes");
  await until(() => el("prediction").dataset.state === "suggest", "the suggest state");
  assert.equal(el("accept").disabled, true);
  assert.equal(el("suggestions-heading").textContent, "Pick a category");
  const buttons = el("suggestions").children;
  assert.deepEqual(buttons.map((b) => b.dataset.label), ["Meeting", "Development", "Design"]);
  assert.equal(buttons[0].textContent, "Meeting 60%");
  buttons[1].click();
  await until(() => tasks().length === 2 && tasks()[1].dataset.state === "sent", "the correction");
  assert.equal(posts.at(-1).action, "corrected");
  assert.equal(posts.at(-1).chosen_label, "Development");
  assert.equal(posts.at(-1).predicted_label, "Meeting");
});

test("unknown: the new-category form comes first; a new name is a new category", async () => {
  type("title", "Lunch");
  type("description", "order lunch");
  await until(() => el("prediction").dataset.state === "unknown", "the unknown state");
  assert.equal(el("unknown-note").hidden, false);
  assert.equal(el("choices").children[0], el("new-category-form"));
  assert.equal(el("new-category-label").textContent, "Add a new category (suggested)");
  el("new-category-name").value = "  Errands ";
  const submit = el("new-category-form").dispatch("submit");
  assert.ok(submit.defaultPrevented);
  await until(() => tasks().length === 3 && tasks()[2].dataset.state === "sent", "the new category");
  assert.equal(posts.at(-1).action, "new_category");
  assert.equal(posts.at(-1).chosen_label, "Errands");
  assert.equal(posts.at(-1).description, "order lunch");
  assert.equal(el("description").value, "");
  // an empty name is refused, on the page
  type("title", "Lunch again");
  await until(() => el("prediction").dataset.state === "unknown", "the unknown state");
  el("new-category-form").dispatch("submit");
  await until(() => !el("error").hidden, "the error");
  assert.equal(el("error").textContent, "Type a name for the new category.");
  assert.equal(doc.activeElement, el("new-category-name"));
  assert.equal(tasks().length, 3);
});

test("Enter accepts an auto-selected label, else goes to the choices; Reject posts no label", async () => {
  type("title", "Meeting notes");
  const enter = el("title").dispatch("keydown", { key: "Enter" });
  assert.ok(enter.defaultPrevented);
  await until(() => doc.activeElement === el("suggestions").children[0], "focus on the first suggestion");
  assert.equal(el("title").dispatch("keydown", { key: "Enter", shiftKey: true }).defaultPrevented, false);
  el("reject").click();
  await until(() => tasks().length === 4 && tasks()[3].dataset.state === "sent", "the rejection");
  assert.equal(posts.at(-1).action, "rejected");
  assert.equal(posts.at(-1).chosen_label, null);
  type("title", "Fix the login");
  el("title").dispatch("keydown", { key: "Enter" });
  await until(() => tasks().length === 5 && tasks()[4].dataset.state === "sent", "the accepted task");
  assert.equal(posts.at(-1).action, "accepted");
  assert.equal(posts.at(-1).title, "Fix the login");
});

test("a verdict without a title is refused; a server rejection and an outage show on the task", async () => {
  el("accept").disabled = false; // as if clicked while enabled
  el("accept").click();
  assert.equal(el("error").textContent, "Enter a title first.");
  assert.equal(doc.activeElement, el("title"));
  answer = () => new Response(JSON.stringify({ errors: { title: "must not be empty" } }), { status: 400 });
  type("title", "Fix bug");
  el("title").dispatch("keydown", { key: "Enter" });
  await until(() => tasks()[5]?.dataset.state === "rejected", "the rejected task");
  assert.match(tasks()[5].textContent, /not accepted by the server: title must not be empty$/u);
  answer = () => new Response(null, { status: 503 });
  type("title", "Fix login");
  el("title").dispatch("keydown", { key: "Enter" });
  await until(() => tasks()[6]?.dataset.state === "queued", "the queued task");
  assert.equal(el("status-queue").textContent, "1 queued");
  assert.equal(el("status").dataset.queued, "1");
});
