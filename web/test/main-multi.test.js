// main.js on a multi-label model (metadata.json task "multi_label", one threshold per label):
// the selected labels are chips, × removes one (focus moves to the next chip), "+ label" and
// the label input add one, Accept posts the chosen set, Reject posts none, Backspace in the
// empty label input removes the last chip. The page runs in Node on the stand-in DOM
// (./dom.js) with a stand-in TF.js and server; the real browser run is
// tests/test_e2e_multilabel.py.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { MemoryStorage } from "../app/feedback-queue.js";
import { pageDocument, until } from "./dom.js";

const VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "crash", "button", "invoice", "hello"];
const LABELS = ["billing", "bug", "ui"];
const THRESHOLDS = [0.5, 0.5, 0.5];
const INFO = { version: "m1", bundle_url: "/models/m1/", labels: LABELS, threshold: null, unknown_threshold: null, task: "multi_label", thresholds: THRESHOLDS, client_token: "m0.sig" };
const METADATA = { labels: LABELS, version: "m1", task: "multi_label", thresholds: THRESHOLDS, threshold: null, unknown: null, tokenizer: { vocab: "vocab.txt" } };

/** "crash" → bug 0.9 and ui 0.6 selected; "invoice" → billing 0.8; anything else → none. */
function probabilitiesOf(ids) {
  if (ids.includes(VOCAB.indexOf("crash"))) return [0.2, 0.9, 0.6];
  if (ids.includes(VOCAB.indexOf("invoice"))) return [0.8, 0.1, 0.3];
  return [0.2, 0.3, 0.1];
}

const model = {
  modelSignature: { outputs: { probabilities: { name: "p" }, similarity: { name: "s" } } },
  execute({ input_word_ids: ids }) {
    const [batch, seqLen] = ids.shape;
    const rows = Array.from({ length: batch }, (_, b) => Array.from(ids.values.slice(b * seqLen, (b + 1) * seqLen)));
    const p = Float32Array.from(rows.flatMap(probabilitiesOf));
    return [{ data: async () => p }, { data: async () => new Float32Array(batch) }];
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

const posts = [];

async function fetchStub(url, init = {}) {
  const path = String(url).split("?")[0];
  if (path === "/api/model") return new Response(JSON.stringify(INFO), { status: 200 });
  if (path === "/models/m1/metadata.json") return new Response(JSON.stringify(METADATA), { status: 200 });
  if (path === "/models/m1/vocab.txt") return new Response(VOCAB.join("\n"), { status: 200 });
  if (path === "/api/feedback" && init.method === "POST") {
    posts.push(JSON.parse(init.body));
    return new Response(JSON.stringify({ id: posts.length }), { status: 201 });
  }
  return new Response(null, { status: 404 });
}

let doc;
let app;
const saved = {};
const el = (id) => doc.getElementById(id);
const type = (id, text) => {
  el(id).value = text;
  el(id).dispatch("input");
};
const chips = () => el("chosen-labels").children;
const chipLabels = () => chips().map((c) => c.dataset.label);
const addButtons = () => el("suggestions").children;
const tasks = () => el("task-list").children;

before(async () => {
  doc = pageDocument();
  const globals = {
    document: doc,
    window: globalThis,
    navigator: { onLine: true },
    localStorage: new MemoryStorage(),
    fetch: fetchStub,
    tf,
    addEventListener: () => {},
    setInterval: (fn, ms) => saved.setInterval.value(fn, ms).unref(),
  };
  for (const [name, value] of Object.entries(globals)) {
    saved[name] = Object.getOwnPropertyDescriptor(globalThis, name);
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  await import("../app/main.js");
  app = globalThis.tfclsApp;
  await app.ready;
});

after(() => {
  for (const [name, descriptor] of Object.entries(saved)) {
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete globalThis[name];
  }
});

test("the selected labels show as chips with accessible remove buttons", async () => {
  assert.equal(app.classifier.multiLabel, true);
  assert.equal(el("labels-block").hidden, true); // no text yet
  type("title", "Crash on the button");
  await until(() => el("prediction").dataset.state === "multi", "the multi state");
  assert.equal(el("labels-block").hidden, false);
  assert.deepEqual(chipLabels(), ["bug", "ui"]);
  assert.equal(chips()[0].textContent, "bug 90%×");
  const remove = chips()[0].querySelector(".chip-remove");
  assert.equal(remove.type, "button");
  assert.equal(remove.getAttribute("aria-label"), "Remove bug");
  assert.equal(el("prediction-text").textContent, "bug · 90%, ui · 60%");
  assert.equal(el("accept").disabled, false);
  assert.equal(el("accept").textContent, "Accept 2 labels");
  assert.deepEqual(addButtons().map((b) => b.dataset.label), ["billing"]);
  assert.equal(addButtons()[0].getAttribute("aria-label"), "Add billing, 20%");
  assert.equal(el("suggestions-heading").textContent, "Add a label");
  assert.equal(el("new-category").textContent, "Add label");
});

test("remove a chip (focus moves on), add one back, add a typed name; Accept posts the set", async () => {
  chips()[0].querySelector(".chip-remove").click();
  assert.deepEqual(chipLabels(), ["ui"]);
  assert.equal(doc.activeElement, chips()[0].querySelector(".chip-remove")); // the chip now first
  assert.deepEqual(addButtons().map((b) => b.dataset.label), ["bug", "billing"]); // bug can come back
  assert.equal(el("accept").textContent, "Accept 1 label");
  addButtons()[1].click(); // + billing
  assert.deepEqual(chipLabels(), ["ui", "billing"]);
  assert.equal(doc.activeElement, addButtons()[0]); // the "+ bug" button now in its place
  el("new-category-name").value = "  Payments ";
  el("new-category-form").dispatch("submit");
  assert.deepEqual(chipLabels(), ["ui", "billing", "Payments"]);
  assert.match(chips()[2].className, /chip-new/u);
  assert.equal(el("new-category-name").value, "");
  el("new-category-name").value = "BUG"; // an existing label, any case
  el("new-category-form").dispatch("submit");
  assert.deepEqual(chipLabels(), ["bug", "ui", "billing", "Payments"]);
  // typing more keeps the edits over the new prediction
  type("title", "Crash on the button again");
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.deepEqual(chipLabels(), ["bug", "ui", "billing", "Payments"]);
  el("accept").click();
  await until(() => tasks()[0]?.dataset.state === "sent", "the task to be sent");
  const body = posts.at(-1);
  assert.equal(body.action, "new_category");
  assert.deepEqual(body.labels, ["bug", "ui", "billing", "Payments"]);
  assert.deepEqual(body.predicted_labels, ["bug", "ui"]);
  assert.equal(body.chosen_label, null);
  assert.equal(body.predicted_label, "bug");
  assert.equal(tasks()[0].textContent, "Crash on the button againbug, ui, billing, Payments · new category · sent");
  assert.equal(el("title").value, "");
  assert.equal(el("labels-block").hidden, true);
});

test("the next task starts from the model's set; Enter accepts it unchanged", async () => {
  type("title", "Crash");
  await until(() => el("prediction").dataset.state === "multi", "the multi state");
  assert.deepEqual(chipLabels(), ["bug", "ui"]); // the last task's edits are gone
  el("title").dispatch("keydown", { key: "Enter" });
  await until(() => tasks()[1]?.dataset.state === "sent", "the accepted task");
  assert.equal(posts.at(-1).action, "accepted");
  assert.deepEqual(posts.at(-1).labels, ["bug", "ui"]);
});

test("Backspace in the empty label input removes the last chip; nothing chosen disables Accept", async () => {
  type("title", "invoice");
  await until(() => el("prediction").dataset.state === "multi" && chipLabels().join() === "billing", "billing");
  const backspace = el("new-category-name").dispatch("keydown", { key: "Backspace" });
  assert.ok(backspace.defaultPrevented);
  assert.deepEqual(chipLabels(), []);
  assert.equal(el("labels-empty").hidden, false);
  assert.equal(el("accept").disabled, true);
  el("title").dispatch("keydown", { key: "Enter" }); // nothing to accept: to the label input
  await until(() => doc.activeElement === el("new-category-name"), "focus on the label input");
  el("new-category-name").value = "x";
  assert.equal(el("new-category-name").dispatch("keydown", { key: "Backspace" }).defaultPrevented, false);
});

test("a text with no label above its threshold; Reject posts no labels", async () => {
  type("title", "hello");
  await until(() => el("prediction-text").textContent.startsWith("No label is likely"), "no label");
  assert.deepEqual(chipLabels(), []);
  assert.equal(el("auto-badge").hidden, true);
  assert.equal(el("reject").disabled, false);
  el("reject").click();
  await until(() => tasks()[2]?.dataset.state === "sent", "the rejection");
  assert.equal(posts.at(-1).action, "rejected");
  assert.equal(posts.at(-1).labels, null);
  assert.deepEqual(posts.at(-1).predicted_labels, []);
});
