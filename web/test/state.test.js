// state.js: the pure logic of the task form (verdicts, payloads, debounced predictions with
// sequence numbers, status words). No DOM, no network. The decisions are the SDK's decide().

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ACTIONS,
  createPredictor,
  DEBOUNCE_MS,
  deliveryText,
  feedbackPayload,
  formatPercent,
  formatPrediction,
  initialState,
  matchLabel,
  statusParts,
  loadingText,
  suggestionsToShow,
  thresholdsFor,
  truncate,
  verdictFor,
  NO_EDITS,
  addLabel,
  chosenLabels,
  formatSelection,
  labelsToAdd,
  labelThresholds,
  labelVerdictFor,
  MAX_LABELS,
  removeLabel,
} from "../app/state.js";
import { classifyLabels, decide } from "../sdk/tfcls.js";
import { result } from "../sdk/test/results.js";


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

test("suggestionsToShow: in auto mode the alternatives to the selected label", () => {
  // decide() itself is the SDK's: web/sdk/test/decide.test.js
  const auto = decide(result({ Development: 0.97, Design: 0.02, Meeting: 0.01, Planning: 0 }, { autoSelect: true }));
  assert.deepEqual(
    suggestionsToShow(auto).map((s) => s.label),
    ["Design", "Meeting"],
  );
  const low = decide(result({ A: 0.5, B: 0.3, C: 0.15, D: 0.05 }));
  assert.deepEqual(
    suggestionsToShow(low).map((s) => s.label),
    ["A", "B", "C"],
  );
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

test("status line and delivery words", () => {
  assert.deepEqual(statusParts({ version: "v2", backend: "wasm", online: true, queued: 0 }), {
    model: "Model v2 · wasm",
    network: "Online",
    queue: "0 queued",
  });
  assert.equal(statusParts({ loading: true }).model, "Loading model…");
  // the weights' download: a whole percentage that never overshoots
  assert.equal(statusParts({ loading: true, progress: 0 }).model, "Loading model… 0%");
  assert.equal(statusParts({ loading: true, progress: 0.426 }).model, "Loading model… 42%");
  assert.equal(statusParts({ loading: true, progress: 1.2 }).model, "Loading model… 100%");
  assert.equal(statusParts({ loading: true, progress: Number.NaN }).model, "Loading model…");
  assert.equal(statusParts({ version: "v2", progress: 0.5 }).model, "Model v2"); // loaded
  assert.equal(loadingText(0.999), "Loading model… 99%");
  assert.equal(statusParts({ failed: true }).model, "Model unavailable");
  assert.equal(statusParts({ version: "v2", online: false, queued: 3 }).network, "Offline");
  assert.equal(statusParts({ version: "v2", online: false, queued: 3 }).queue, "3 queued");
  assert.equal(deliveryText("sent"), "sent");
  assert.equal(deliveryText("queued"), "queued");
});

test("initial state: loading, nothing decided, the client id kept", () => {
  const s = initialState("cid");
  assert.deepEqual(s, { clientId: "cid", clf: null, info: null, loading: true, progress: null, failed: false, decision: decide(null), edits: NO_EDITS, busy: false });
  assert.notEqual(initialState("cid"), s); // a fresh object each time
});

test("thresholdsFor: the server's answer first, else the bundle's, else none", () => {
  const clf = { threshold: 0.9, unknownThreshold: 0.2 };
  const none = { thresholds: null }; // single-label: no per-label thresholds
  assert.deepEqual(thresholdsFor({ clf }), { threshold: 0.9, unknownThreshold: 0.2, ...none });
  assert.deepEqual(thresholdsFor({ info: { threshold: 0.97, unknown_threshold: 0.3 }, clf }), {
    threshold: 0.97,
    unknownThreshold: 0.3,
    ...none,
  });
  assert.deepEqual(thresholdsFor({ info: { threshold: null }, clf }), { threshold: 0.9, unknownThreshold: 0.2, ...none });
  assert.deepEqual(thresholdsFor(initialState("c")), { threshold: null, unknownThreshold: null, ...none });
});

test("deliveryText: a rejection names the server's complaints", () => {
  assert.equal(deliveryText("sending"), "sending…");
  assert.equal(deliveryText("rejected"), "not accepted by the server");
  const outcome = { status: "rejected", errors: { title: "must not be empty", confidence: "must be finite" } };
  assert.equal(deliveryText("rejected", outcome), "not accepted by the server: title must not be empty; confidence must be finite");
  assert.equal(deliveryText("queued", outcome), "queued"); // only a rejection has reasons
  assert.equal(deliveryText("rejected", { status: 400 }), "not accepted by the server");
});

test("ACTIONS: the server's feedback actions", () => {
  assert.deepEqual(ACTIONS, ["accepted", "rejected", "corrected", "new_category"]);
});

// --- multi-label: the chosen set, its edits, its verdict and payload ------------------------

const MULTI_LABELS = ["billing", "bug", "ui", "docs"];
/** decide() on a multi-label result: bug 0.9 and ui 0.6 selected (thresholds 0.5). */
const multiDecision = (probs = [0.3, 0.9, 0.6, 0.1]) =>
  decide({ ...classifyLabels(probs, MULTI_LABELS, [0.5, 0.5, 0.5, 0.5]), text: "x" });

test("labelThresholds and thresholdsFor on a multi-label /api/model answer", () => {
  const info = { task: "multi_label", labels: ["a", "b"], thresholds: [0.4, 0.6] };
  assert.deepEqual(labelThresholds(info), { a: 0.4, b: 0.6 });
  assert.deepEqual(thresholdsFor({ info }).thresholds, { a: 0.4, b: 0.6 });
  assert.equal(labelThresholds({ ...info, thresholds: [0.4] }), null); // misaligned: the bundle's
  assert.equal(labelThresholds({ labels: ["a"], thresholds: [0.4] }), null); // not multi-label
});

test("chosenLabels: the model's selection, less what was removed, plus what was added", () => {
  const d = multiDecision();
  assert.deepEqual(chosenLabels(d), ["bug", "ui"]);
  let edits = removeLabel(NO_EDITS, "bug");
  edits = addLabel(edits, "docs");
  edits = addLabel(edits, "Ops");
  assert.deepEqual(chosenLabels(d, edits), ["ui", "docs", "Ops"]);
  // the edits survive a new prediction: now billing is selected too
  assert.deepEqual(chosenLabels(multiDecision([0.8, 0.9, 0.6, 0.1]), edits), ["billing", "ui", "docs", "Ops"]);
  // adding back a removed label, removing an added one
  assert.deepEqual(chosenLabels(d, removeLabel(addLabel(edits, "bug"), "Ops")), ["bug", "ui", "docs"]);
  assert.deepEqual(chosenLabels(decide(null), edits), ["docs", "Ops"]);
  assert.equal(NO_EDITS.added.length + NO_EDITS.removed.length, 0); // never mutated
});

test("labelsToAdd: removed model labels first, then suggestions not chosen", () => {
  const d = multiDecision();
  assert.deepEqual(
    labelsToAdd(d).map((s) => s.label),
    ["billing", "docs"],
  );
  const edits = addLabel(removeLabel(NO_EDITS, "bug"), "billing");
  assert.deepEqual(labelsToAdd(d, edits), [
    { label: "bug", probability: 0.9 },
    { label: "docs", probability: 0.1 },
  ]);
  assert.deepEqual(labelsToAdd(decide(null)), []);
});

test("formatSelection: the selected labels with their probabilities", () => {
  assert.equal(formatSelection(multiDecision()), "bug · 90%, ui · 60%");
  assert.equal(formatSelection(multiDecision([0.3, 0.2, 0.1, 0.1])), "No label is likely · top: billing · 30%");
});

test("labelVerdictFor: unchanged → accepted, a new name → new_category, else corrected", () => {
  const d = multiDecision();
  const opts = (chosen) => ({ chosen, labels: MULTI_LABELS });
  assert.deepEqual(labelVerdictFor(d, "accept", opts(["ui", "bug"])), {
    action: "accepted",
    labels: ["ui", "bug"],
    predictedLabels: ["bug", "ui"],
  });
  assert.equal(labelVerdictFor(d, "accept", opts(["bug"])).action, "corrected");
  assert.equal(labelVerdictFor(d, "accept", opts(["bug", "ui", "docs"])).action, "corrected");
  assert.equal(labelVerdictFor(d, "accept", opts(["bug", "Ops"])).action, "new_category");
  assert.equal(labelVerdictFor(d, "accept", opts([])), null); // nothing to accept
  assert.deepEqual(labelVerdictFor(d, "reject", opts(["bug"])), { action: "rejected", labels: null, predictedLabels: ["bug", "ui"] });
  assert.equal(labelVerdictFor(decide(null), "accept", opts(["bug"])), null);
  assert.throws(() => labelVerdictFor(d, "pick", opts(["bug"])), /unknown label verdict kind/);
});

test("feedbackPayload: a multi-label verdict sends labels and predicted_labels, no chosen_label", () => {
  const d = multiDecision();
  const base = { title: " Crash ", decision: d, modelVersion: "v3", clientId: "c" };
  const body = feedbackPayload({ ...base, action: "corrected", labels: ["bug", " docs ", "bug", ""], predictedLabels: ["bug", "ui"] });
  assert.deepEqual(body, {
    title: "Crash",
    description: "",
    predicted_label: "bug",
    confidence: 0.9,
    chosen_label: null,
    action: "corrected",
    model_version: "v3",
    client_id: "c",
    labels: ["bug", "docs"],
    predicted_labels: ["bug", "ui"],
  });
  const rejected = feedbackPayload({ ...base, action: "rejected", labels: ["bug"], predictedLabels: [] });
  assert.equal(rejected.labels, null);
  assert.deepEqual(rejected.predicted_labels, []);
  const many = Array.from({ length: MAX_LABELS + 5 }, (_, i) => `l${i}`);
  assert.equal(feedbackPayload({ ...base, action: "corrected", labels: many, predictedLabels: [] }).labels.length, MAX_LABELS);
  // single-label payloads have no label-set fields at all
  const single = feedbackPayload({ ...base, decision: decide(result({ A: 0.9 })), action: "accepted", chosenLabel: "A" });
  assert.equal("labels" in single || "predicted_labels" in single, false);
});
