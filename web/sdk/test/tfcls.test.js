// tfcls.js: decisions, sorting, batching and loading, with a stand-in graph model.
// (The real exported bundle runs through tfcls.js in tests/bundle/test_export.py.)

import assert from "node:assert/strict";
import { test } from "node:test";

import * as tf from "@tensorflow/tfjs";

import { chooseBackend, Classifier, loadClassifier } from "../tfcls.js";
import { WordPieceTokenizer } from "../tokenizer.js";

const VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "fix", "bug", "meet", "##ing"].join("\n");

/** A graph model look-alike: fixed probabilities per row, similarity = row index / 10. */
function fakeModel(rows, seen = []) {
  return {
    modelSignature: {
      outputs: { probabilities: { name: "Identity:0" }, similarity: { name: "Identity_1:0" } },
    },
    execute(feeds, names) {
      assert.deepEqual(names, ["Identity:0", "Identity_1:0"]);
      const [batch, seqLen] = feeds.input_word_ids.shape;
      seen.push({ batch, seqLen, ids: feeds.input_word_ids.arraySync(), mask: feeds.input_mask.arraySync() });
      return [
        tf.tensor2d(rows.slice(0, batch)),
        tf.tensor1d(Array.from({ length: batch }, (_, i) => i / 10)),
      ];
    },
    dispose() {},
  };
}

const META = {
  labels: ["Design", "Development", "Meeting"],
  version: "v1",
  threshold: 0.9,
  unknown: { score: "nearest", threshold: 0.05 },
  tokenizer: { vocab: "vocab.txt", lower_case: true, max_seq_len: 8 },
};

function classifier(rows, meta = META, seen = []) {
  return new Classifier(tf, fakeModel(rows, seen), new WordPieceTokenizer(VOCAB, { maxSeqLen: 8 }), meta, "cpu");
}

test("predictions are sorted with every label; auto-select at the threshold", async () => {
  await chooseBackend(tf, ["cpu"]);
  const clf = classifier([[0.02, 0.95, 0.03]], { ...META, unknown: { score: "nearest", threshold: -1 } });
  const r = await clf.classify("Fix bug");
  assert.deepEqual(
    r.predictions.map((p) => p.label),
    ["Development", "Meeting", "Design"],
  );
  assert.ok(Math.abs(r.predictions[0].probability - 0.95) < 1e-6);
  assert.equal(r.autoSelect, true);
  assert.equal(r.unknown, false);
});

test("an unknown text is never auto-selected; below the threshold nothing is", async () => {
  const sure = classifier([[0.02, 0.95, 0.03]]); // similarity 0 < unknown threshold 0.05
  const low = { ...META, unknown: { score: "nearest", threshold: -1 } };
  assert.equal((await classifier([[0.02, 0.95, 0.03]], low).classify("fix")).autoSelect, true);
  assert.equal((await classifier([[0.3, 0.4, 0.3]], low).classify("fix")).autoSelect, false);
  const r = await sure.classify("fix");
  assert.equal(r.unknown, true);
  assert.equal(r.autoSelect, false);
  const noUnknown = { ...META, unknown: null };
  const plain = await classifier([[0.02, 0.95, 0.03]], noUnknown).classify("fix");
  assert.equal(plain.unknown, false);
  assert.equal(plain.similarity, 0);
});

test("title and description are cleaned and joined as in Python", async () => {
  const seen = [];
  const clf = classifier([[0.2, 0.5, 0.3]], META, seen);
  const r = await clf.classify("<b>Fix</b> bug", "  meeting ");
  assert.equal(r.text, "Fix bug. meeting");
  // [CLS] fix bug . meet ##ing [SEP] → "." is not in the vocabulary: [UNK]
  assert.deepEqual(seen[0].ids[0], [2, 4, 5, 1, 6, 7, 3]);
});

test("batches are padded to the longest text with mask 0", async () => {
  const seen = [];
  const clf = classifier(
    [
      [0.1, 0.8, 0.1],
      [0.6, 0.2, 0.2],
    ],
    META,
    seen,
  );
  const { probabilities, similarity } = await clf.predictTexts(["fix", "fix bug bug"]);
  assert.equal(probabilities.length, 2);
  assert.deepEqual(similarity, [0, Math.fround(0.1)]);
  assert.deepEqual(seen[0].mask, [
    [1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1],
  ]);
  assert.deepEqual(seen[0].ids[0], [2, 4, 3, 0, 0]);
});

test("a bundle without the outputs is refused", () => {
  const model = { ...fakeModel([]), modelSignature: { outputs: { probabilities: { name: "x" } } } };
  assert.throws(
    () => new Classifier(tf, model, new WordPieceTokenizer(VOCAB), META, "cpu"),
    /no 'similarity' output/,
  );
});

test("loadClassifier reports a missing bundle by URL and status", async () => {
  const fetch404 = async () => new Response(null, { status: 404 });
  await assert.rejects(
    loadClassifier("/models/nope/", { tf, fetch: fetch404, backends: ["cpu"] }),
    /metadata \/models\/nope\/metadata\.json: HTTP 404/,
  );
  await assert.rejects(loadClassifier("/x/", { backends: ["cpu"] }), /TensorFlow\.js not found/);
});

test("chooseBackend falls through to one that starts", async () => {
  assert.equal(await chooseBackend(tf, ["no-such-backend", "cpu"]), "cpu");
  await assert.rejects(chooseBackend(tf, ["no-such-backend"]), /could start/);
});

test("the default unknown score is the top probability", async () => {
  const meta = { ...META, unknown: { score: "max_softmax", threshold: 0.5 } };
  const unsure = await classifier([[0.3, 0.4, 0.3]], meta).classify("fix");
  assert.equal(unsure.unknown, true);
  assert.ok(Math.abs(unsure.unknownValue - 0.4) < 1e-6);
  const sure = await classifier([[0.02, 0.95, 0.03]], meta).classify("fix");
  assert.equal(sure.unknown, false);
  assert.equal(sure.autoSelect, true);
  const legacy = { ...META, unknown: { threshold: 0.5 } }; // no score named: max_softmax
  assert.equal((await classifier([[0.3, 0.4, 0.3]], legacy).classify("fix")).unknown, true);
});

// --- multi-label bundles --------------------------------------------------------------------

const MULTI = {
  ...META,
  labels: ["billing", "bug", "ui"],
  task: "multi_label",
  thresholds: [0.5, 0.4, 0.7],
  threshold: null,
  unknown: null,
};

test("a multi-label bundle returns the labels at or above their own thresholds", async () => {
  const clf = classifier([[0.45, 0.9, 0.75]], MULTI);
  assert.equal(clf.task, "multi_label");
  assert.equal(clf.multiLabel, true);
  assert.deepEqual(clf.thresholds, [0.5, 0.4, 0.7]);
  const r = await clf.classify("crash on the button");
  assert.deepEqual(
    r.predictions.map((p) => p.label),
    ["bug", "ui", "billing"],
  );
  // billing 0.45 < 0.5 is out; bug and ui are over their own thresholds
  assert.deepEqual(r.labels, ["bug", "ui"]);
  assert.equal(r.multiLabel, true);
  assert.equal(r.autoSelect, true);
  assert.equal(r.unknown, false);
  assert.equal(r.unknownValue, null);
  assert.equal(r.text, "crash on the button");
  const none = await classifier([[0.1, 0.2, 0.3]], MULTI).classify("hello");
  assert.deepEqual(none.labels, []);
  assert.equal(none.autoSelect, false);
});

test("a single-label bundle has no task, thresholds or label set", async () => {
  const clf = classifier([[0.02, 0.95, 0.03]]);
  assert.equal(clf.task, "single_label");
  assert.equal(clf.multiLabel, false);
  assert.equal(clf.thresholds, null);
  const r = await clf.classify("fix");
  assert.equal(r.labels, undefined);
  assert.equal(r.multiLabel, undefined);
});

test("a multi-label bundle without one threshold per label is refused", () => {
  assert.throws(() => classifier([[0.1, 0.2, 0.3]], { ...MULTI, thresholds: [0.5] }), /1 thresholds for 3 labels/);
});
