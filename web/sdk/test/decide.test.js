// decide() and classifyOutputs(): the decision rule the SDK applies (and the app imports),
// on plain results, no model. Its agreement with the Python rule
// (tfcls/decision/rule.py decide) is checked by tests/decision/test_rule_parity.py.

import assert from "node:assert/strict";
import { test } from "node:test";

import { classifyLabels, classifyOutputs, decide, SUGGESTIONS } from "../tfcls.js";
import { result } from "./results.js";

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
});

test("decide: below the threshold, the top 3 are suggestions and nothing is selected", () => {
  const d = decide(result({ A: 0.5, B: 0.3, C: 0.15, D: 0.05 }));
  assert.equal(d.mode, "suggest");
  assert.equal(d.selected, null);
  assert.deepEqual(
    d.suggestions.map((s) => s.label),
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

test("decide: suggestions are the top `count` (SUGGESTIONS by default; null: all)", () => {
  const r = result({ A: 0.4, B: 0.3, C: 0.2, D: 0.1 });
  assert.equal(decide(r).suggestions.length, SUGGESTIONS);
  assert.deepEqual(
    decide(r, { count: 1 }).suggestions.map((s) => s.label),
    ["A"],
  );
  assert.equal(decide(r, { count: null }).suggestions.length, 4);
});

test("classifyOutputs: sorted predictions (ties in label order) and the bundle's decisions", () => {
  const labels = ["A", "B", "C"];
  const r = classifyOutputs([0.25, 0.5, 0.25], labels, { threshold: 0.5 });
  assert.deepEqual(
    r.predictions.map((p) => p.label),
    ["B", "A", "C"],
  );
  assert.equal(r.autoSelect, true); // at the threshold
  assert.equal(r.unknown, false);
  assert.equal(r.unknownValue, 0.5); // no score named: the top probability
  assert.equal(classifyOutputs([0.25, 0.5, 0.25], labels).autoSelect, false); // no threshold: never
  const nearest = { threshold: 0.4, unknown: { score: "nearest", threshold: 0.3 } };
  const far = classifyOutputs([0.1, 0.9, 0], labels, { ...nearest, similarity: 0.2 });
  assert.deepEqual([far.unknown, far.autoSelect, far.unknownValue, far.similarity], [true, false, 0.2, 0.2]);
  const near = classifyOutputs([0.1, 0.9, 0], labels, { ...nearest, similarity: 0.3 });
  assert.deepEqual([near.unknown, near.autoSelect], [false, true]); // at the unknown threshold: known
  // "nearest" with no similarity cannot flag the text
  assert.equal(classifyOutputs([0.1, 0.9, 0], labels, nearest).unknown, false);
  // the result feeds decide() unchanged: its decisions are kept
  assert.equal(decide(far).mode, "unknown");
  assert.equal(decide(near).mode, "auto");
});

// --- multi-label ------------------------------------------------------------------------------

test("classifyLabels: per-label thresholds, most probable first, ties in label order", () => {
  const r = classifyLabels([0.5, 0.2, 0.5, 0.9], ["a", "b", "c", "d"], [0.5, 0.1, 0.6, 0.95]);
  assert.deepEqual(
    r.predictions.map((p) => p.label),
    ["d", "a", "c", "b"],
  );
  assert.deepEqual(r.labels, ["a", "b"]); // d 0.9 < 0.95, c 0.5 < 0.6; a at its threshold
  assert.equal(r.multiLabel, true);
  assert.equal(r.autoSelect, true);
  assert.equal(r.unknown, false);
  assert.throws(() => classifyLabels([0.5], ["a", "b"], [0.5]), /one threshold per label/);
  // classifyOutputs dispatches on the task
  assert.deepEqual(classifyOutputs([0.5, 0.2], ["a", "b"], { task: "multi_label", thresholds: [0.5, 0.5] }).labels, ["a"]);
});

test("decide: a multi-label result selects its labels and suggests the others", () => {
  const r = { ...classifyLabels([0.9, 0.1, 0.6, 0.3, 0.2], ["a", "b", "c", "d", "e"], [0.5, 0.5, 0.5, 0.5, 0.5]), text: "x" };
  const d = decide(r);
  assert.equal(d.mode, "multi");
  assert.deepEqual(d.selected, ["a", "c"]);
  assert.deepEqual(d.top, { label: "a", probability: 0.9 });
  assert.deepEqual(
    d.suggestions.map((s) => s.label),
    ["d", "e", "b"],
  );
  assert.equal(d.unknown, false);
  assert.deepEqual(
    decide(r, { count: 1 }).suggestions.map((s) => s.label),
    ["d"],
  );
  assert.equal(decide(r, { count: null }).suggestions.length, 3);
  // single-label thresholds do not apply; label thresholds (a server's) re-select
  assert.deepEqual(decide(r, { threshold: 0.99, unknownThreshold: 0.99 }).selected, ["a", "c"]);
  assert.deepEqual(decide(r, { thresholds: { a: 0.95, c: 0.6, d: 0.3, constructor: 0 } }).selected, ["c", "d"]);
  assert.equal(decide({ ...r, text: "" }).mode, "empty");
});

test("decide: a multi-label result with nothing above its threshold selects nothing", () => {
  const r = { ...classifyLabels([0.1, 0.2], ["a", "b"], [0.5, 0.5]), text: "x" };
  const d = decide(r);
  assert.equal(d.mode, "multi");
  assert.deepEqual(d.selected, []);
  assert.deepEqual(
    d.suggestions.map((s) => s.label),
    ["b", "a"],
  );
});
