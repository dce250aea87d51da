// tfcls.js: on-device short-text classification with a tfcls TF.js bundle.
//
//   const clf = await loadClassifier("/models/<version>/");
//   const top = await clf.predict("Fix login redirect bug", "users land on /home");
//   // → [{label: "Development", probability: 0.97}, ...] (calibrated, sorted)
//   clf.labels, clf.version, clf.threshold, clf.unknownThreshold
//   const r = await clf.classify(title, description);
//   // → {predictions, autoSelect, unknown, unknownValue, similarity, text}
//   decide(r, {threshold, unknownThreshold})   // → {mode, top, selected, suggestions, unknown}
//
// A multi-label bundle (metadata.json `task: "multi_label"`, one threshold per label in
// `thresholds`) outputs one independent calibrated probability per label: classify() then
// also returns `labels` (every label at or above its own threshold, most probable first)
// and `multiLabel: true`, and decide() answers {mode: "multi", selected: [labels], ...}
// (tfcls/decision/label_rule.py `decide_labels` is its Python twin).
//
// TensorFlow.js is not imported here: pass it as `options.tf` or load it first with a
// <script> tag (globalThis.tf), so any frontend or Node can supply its own copy. Text is
// cleaned and joined exactly as in Python (./text.js), then tokenized with the bundle's
// vocabulary (./tokenizer.js); the bundle computes calibrated probabilities (and the
// similarity to the nearest training text). A text whose unknown score (the top
// probability, or that similarity: metadata.unknown.score) is below `unknownThreshold`
// fits no known category: offer a new one. That rule is written once, in decide() below
// (tfcls/decision/rule.py `decide` is its Python twin; tests/decision/test_rule_parity.py
// holds the two to the same answers).

import { joinTitleDescription } from "./text.js";
import { WordPieceTokenizer } from "./tokenizer.js";

export const BACKENDS = ["wasm", "webgl", "cpu"];

/** How many predictions decide() offers as suggestions by default. */
export const SUGGESTIONS = 3;

/**
 * The decision rule: what a client does with one text's predictions (a classify() result:
 * `predictions` most probable first, `unknownValue` the unknown score). Returns
 *   {mode: "empty"}                         no text, nothing to predict
 *   {mode: "auto", selected, top, ...}      confident: `selected` is chosen for the user
 *   {mode: "suggest", top, suggestions}     below the threshold: the user picks
 *   {mode: "unknown", top, suggestions}     unlike every category: lead with a new one
 *   {mode: "multi", selected: [...], ...}   a multi-label result (`multiLabel`): see
 *                                           decideLabels(); `thresholds` applies there
 * plus `unknown` (a boolean). The text is unknown when `unknownValue` is below
 * `unknownThreshold`; it is auto-selected when it is not unknown and the top probability
 * reaches `threshold`. A threshold left null keeps the decision `result` already carries
 * (`result.unknown`, `result.autoSelect`: classify()'s, made with the bundle's thresholds;
 * none carried: never), so a server's thresholds can override the bundle's.
 * `suggestions` is the top `count` predictions (all of them when `count` is null).
 */
export function decide(result, { threshold = null, unknownThreshold = null, count = SUGGESTIONS, thresholds = null } = {}) {
  const predictions = result?.predictions ?? [];
  if (!result || predictions.length === 0 || result.text === "") {
    return { mode: "empty", top: null, selected: null, suggestions: [], unknown: false };
  }
  if (result.multiLabel) return decideLabels(result, { thresholds, count });
  const top = predictions[0];
  const unknown =
    unknownThreshold !== null && typeof result.unknownValue === "number"
      ? result.unknownValue < unknownThreshold
      : Boolean(result.unknown);
  const auto = !unknown && (threshold !== null ? top.probability >= threshold : Boolean(result.autoSelect));
  const shown = count === null ? predictions : predictions.slice(0, count);
  const suggestions = shown.map(({ label, probability }) => ({ label, probability }));
  const mode = unknown ? "unknown" : auto ? "auto" : "suggest";
  return { mode, top: { label: top.label, probability: top.probability }, selected: auto ? top.label : null, suggestions, unknown };
}

/**
 * decide() for a multi-label result (`multiLabel`, `labels` the labels at or above their
 * thresholds): {mode: "multi", top, selected: the labels chosen for the user (most probable
 * first; may be empty), suggestions: the `count` most probable labels not selected,
 * unknown: false, predictions: every label (to show a chosen label's probability)}. `thresholds` (label → threshold, e.g. a server's) re-selects from the
 * predictions, a label it does not name is never selected; null keeps `result.labels`.
 */
function decideLabels(result, { thresholds = null, count = SUGGESTIONS } = {}) {
  const { predictions } = result;
  const chosen =
    thresholds !== null
      ? predictions.filter(({ label, probability }) => Object.hasOwn(thresholds, label) && probability >= thresholds[label]).map((p) => p.label)
      : [...(result.labels ?? [])];
  const others = predictions.filter((p) => !chosen.includes(p.label));
  const shown = count === null ? others : others.slice(0, count);
  const top = predictions[0];
  return {
    mode: "multi",
    top: { label: top.label, probability: top.probability },
    selected: chosen,
    suggestions: shown.map(({ label, probability }) => ({ label, probability })),
    unknown: false,
    predictions: predictions.map(({ label, probability }) => ({ label, probability })),
  };
}

/**
 * A multi-label bundle's outputs judged by its per-label `thresholds` (aligned with
 * `labels`): every label with its probability, most probable first (ties keep label order),
 * and `labels`, those at or above their own threshold, in the same order. No unknown rule:
 * a text that fits no label simply selects none.
 */
export function classifyLabels(probabilities, labels, thresholds, { similarity = null } = {}) {
  if (!thresholds || thresholds.length !== labels.length) {
    throw new Error(`tfcls: a multi-label bundle needs one threshold per label (${labels.length})`);
  }
  const predictions = Array.from(probabilities, (probability, i) => ({ label: labels[i], probability, i }))
    .sort((a, b) => b.probability - a.probability);
  const chosen = predictions.filter(({ probability, i }) => probability >= thresholds[i]).map((p) => p.label);
  return {
    predictions: predictions.map(({ label, probability }) => ({ label, probability })),
    labels: chosen,
    multiLabel: true,
    autoSelect: chosen.length > 0,
    unknown: false,
    unknownValue: null,
    similarity,
  };
}

/**
 * One text's outputs judged by a bundle's rule (the shape of metadata.json: `threshold`,
 * `unknown: {score, threshold}`): every label with its probability, most probable first
 * (ties keep label order), the unknown score (`similarity` for score "nearest", else the
 * top probability) and decide()'s verdicts. classify() is this plus the model. With
 * `task: "multi_label"` it is classifyLabels() with `thresholds`.
 */
export function classifyOutputs(probabilities, labels, { threshold = null, unknown = null, similarity = null, task = null, thresholds = null } = {}) {
  if (task === "multi_label") return classifyLabels(probabilities, labels, thresholds, { similarity });
  const predictions = Array.from(probabilities, (probability, i) => ({ label: labels[i], probability }))
    .sort((a, b) => b.probability - a.probability);
  const score = unknown?.score ?? "max_softmax";
  const unknownValue = score === "nearest" ? similarity : predictions[0]?.probability ?? null;
  const decision = decide({ predictions, unknownValue }, { threshold, unknownThreshold: unknown?.threshold ?? null });
  return { predictions, autoSelect: decision.mode === "auto", unknown: decision.unknown, unknownValue, similarity };
}

function joinUrl(base, name) {
  return base.endsWith("/") ? base + name : `${base}/${name}`;
}

async function fetchOk(fetchFn, url, what) {
  const res = await fetchFn(url);
  if (!res.ok) throw new Error(`tfcls: ${what} ${url}: HTTP ${res.status}`);
  return res;
}

/**
 * Point TF.js's wasm backend at its .wasm files; `threads` > 0 turns on its multi-threaded
 * build with that many threads (tf.wasm.setThreadsCount), 0 (the default) keeps it
 * single-threaded. The threaded build starts its workers from blob: URLs and they
 * importScripts() a blob:, which a Content-Security-Policy without blob: in script-src
 * refuses (the backend would then hang, not fail); and TF.js 4.22 caps its thread pool at
 * navigator.hardwareConcurrency / 2 (one thread on 2 cores). SIMD is used either way where
 * the browser has it (the -simd.wasm binary).
 */
export function configureWasm(tf, wasmPath, { threads = 0 } = {}) {
  tf.wasm?.setWasmPaths?.(wasmPath);
  try {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", threads > 0);
    if (threads > 0) tf.wasm?.setThreadsCount?.(threads);
  } catch {
    // an older TF.js without the flag: nothing to turn off
  }
}

/** Use the first backend of `backends` that initialises; returns its name. */
export async function chooseBackend(tf, backends = BACKENDS) {
  for (const name of backends) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // not available here (no WebAssembly, no WebGL): try the next one
    }
  }
  throw new Error(`tfcls: none of the TF.js backends ${backends.join(", ")} could start`);
}

export class Classifier {
  constructor(tf, model, tokenizer, metadata, backend) {
    this.tf = tf;
    this.model = model;
    this.tokenizer = tokenizer;
    this.metadata = metadata;
    this.backend = backend;
    this.labels = metadata.labels;
    this.version = metadata.version;
    this.threshold = metadata.threshold ?? null;
    this.unknownThreshold = metadata.unknown?.threshold ?? null;
    // what is compared with unknownThreshold: the top probability, or the similarity
    this.unknownScore = metadata.unknown?.score ?? "max_softmax";
    // "multi_label": independent per-label probabilities, each with its own threshold
    this.task = metadata.task ?? "single_label";
    this.multiLabel = this.task === "multi_label";
    this.thresholds = this.multiLabel ? [...metadata.thresholds] : null;
    if (this.multiLabel && this.thresholds.length !== this.labels.length) {
      throw new Error(`tfcls: metadata.json has ${this.thresholds.length} thresholds for ${this.labels.length} labels`);
    }
    const outputs = model.modelSignature?.outputs ?? {};
    this.outputNames = ["probabilities", "similarity"].map((key) => {
      if (!outputs[key]) throw new Error(`tfcls: the bundle's model has no '${key}' output`);
      return outputs[key].name;
    });
  }

  /** Raw outputs for already joined texts: {probabilities: Float32Array[], similarity: number[]}. */
  async predictTexts(texts) {
    const tf = this.tf;
    const { inputIds, inputMask, batch, seqLen } = this.tokenizer.encodeBatch(texts);
    const ids = tf.tensor2d(inputIds, [batch, seqLen], "int32");
    const mask = tf.tensor2d(inputMask, [batch, seqLen], "int32");
    try {
      const [proba, sim] = this.model.execute(
        { input_word_ids: ids, input_mask: mask },
        this.outputNames,
      );
      const [p, s] = await Promise.all([proba.data(), sim.data()]);
      tf.dispose([proba, sim]);
      const n = this.labels.length;
      const probabilities = [];
      for (let i = 0; i < batch; i++) probabilities.push(p.slice(i * n, (i + 1) * n));
      return { probabilities, similarity: Array.from(s) };
    } finally {
      tf.dispose([ids, mask]);
    }
  }

  /** Every label with its calibrated probability, most probable first (multi-label: each
   * label's own probability; they need not sum to 1). */
  async predict(title, description = "") {
    return (await this.classify(title, description)).predictions;
  }

  /** Predictions plus the decisions the client makes with them (a multi-label bundle's:
   * classifyLabels()'s, with `labels` above their thresholds). */
  async classify(title, description = "") {
    const text = joinTitleDescription(title ?? "", description ?? "");
    const { probabilities, similarity } = await this.predictTexts([text]);
    const rule = {
      threshold: this.threshold,
      unknown: { score: this.unknownScore, threshold: this.unknownThreshold },
      similarity: similarity[0],
      task: this.task,
      thresholds: this.thresholds,
    };
    return { ...classifyOutputs(probabilities[0], this.labels, rule), text };
  }

  dispose() {
    this.model.dispose();
  }
}

/**
 * Load a bundle (the folder holding model.json, vocab.txt and metadata.json).
 * options: tf (default globalThis.tf), backends (default wasm → webgl → cpu),
 * fetch (default globalThis.fetch; Node passes a file reader), onProgress.
 */
export async function loadClassifier(bundleUrl, options = {}) {
  const tf = options.tf ?? globalThis.tf;
  if (!tf) throw new Error("tfcls: TensorFlow.js not found; load it first or pass options.tf");
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const backend = await chooseBackend(tf, options.backends ?? BACKENDS);
  const metadata = await (await fetchOk(fetchFn, joinUrl(bundleUrl, "metadata.json"), "metadata")).json();
  const vocab = await (await fetchOk(fetchFn, joinUrl(bundleUrl, metadata.tokenizer.vocab), "vocabulary")).text();
  const tokenizer = new WordPieceTokenizer(vocab, {
    lowerCase: metadata.tokenizer.lower_case ?? true,
    maxSeqLen: metadata.tokenizer.max_seq_len ?? 256,
  });
  // an explicit HTTP handler, so a custom fetch (Node's file reader) serves the shards too
  const handler = tf.io.http(joinUrl(bundleUrl, "model.json"), {
    fetchFunc: fetchFn,
    onProgress: options.onProgress,
  });
  const model = await tf.loadGraphModel(handler);
  return new Classifier(tf, model, tokenizer, metadata, backend);
}
