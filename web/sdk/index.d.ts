// Types of @tfcls/sdk (tfcls.js): load a tfcls TF.js bundle and classify short texts.
//
// TensorFlow.js is not imported by the SDK: pass it as `options.tf` (or load it with a
// <script> tag first, as globalThis.tf). The interfaces below name only what the SDK uses,
// so `import * as tf from "@tensorflow/tfjs"` (4.x) fits them without a type dependency.

import type { FetchLike, WordPieceTokenizer } from "./tokenizer.js";

export type { FetchLike, ResponseLike } from "./tokenizer.js";

/** A TF.js backend name: "wasm", "webgl", "cpu", "webgpu", … */
export type BackendName = string;

/** The backends tried by default, in order. */
export declare const BACKENDS: readonly BackendName[];

/** The graph model a bundle's model.json loads as (a tf.GraphModel). */
export interface GraphModelLike {
  modelSignature?: any;
  execute(inputs: any, outputs: string[]): any;
  dispose(): void;
}

/** The part of the TensorFlow.js namespace (`tf`) that the SDK uses. */
export interface TensorFlowLike {
  setBackend(backendName: string): Promise<boolean>;
  ready(): Promise<void>;
  env(): { set(flag: string, value: any): void };
  tensor2d(values: any, shape?: [number, number], dtype?: any): any;
  dispose(container?: any): void;
  loadGraphModel(modelUrl: any, options?: any): Promise<GraphModelLike>;
  io: { http(path: string, loadOptions?: any): any };
  /** Present once @tensorflow/tfjs-backend-wasm is loaded. */
  wasm?: { setWasmPaths?(prefixOrFileMap: any, usePlatformFetch?: boolean): void };
}

/** A bundle's metadata.json (the fields the SDK reads; the file has more). */
export interface BundleMetadata {
  labels: string[];
  version: string;
  /** "multi_label": one independent probability per label, each with its own threshold
   * (missing: "single_label"). */
  task?: "single_label" | "multi_label";
  /** Multi-label: each label's threshold on its calibrated probability, aligned with `labels`. */
  thresholds?: number[] | null;
  /** Auto-select the top label when its probability is at least this (null: never). */
  threshold?: number | null;
  unknown?: {
    /** What is compared with the threshold: the top probability or the similarity. */
    score?: "max_softmax" | "nearest";
    /** Below it, a text fits no known category. */
    threshold?: number | null;
  } | null;
  tokenizer: {
    /** The vocabulary's file name in the bundle (vocab.txt). */
    vocab: string;
    lower_case?: boolean;
    max_seq_len?: number;
  };
  [key: string]: unknown;
}

export interface Prediction {
  label: string;
  /** Calibrated probability. */
  probability: number;
}

export interface SingleLabelClassification {
  /** Every label, most probable first. */
  predictions: Prediction[];
  /** The top label may be chosen for the user (not unknown, top probability ≥ threshold). */
  autoSelect: boolean;
  /** The text fits no known category: offer a new one. */
  unknown: boolean;
  /** The score compared with unknownThreshold (top probability or similarity). */
  unknownValue: number;
  /** Similarity to the nearest training text. */
  similarity: number;
  /** The cleaned, joined text the model saw. */
  text: string;
  multiLabel?: false;
}

/** A multi-label bundle's classify() result. */
export interface MultiLabelClassification {
  /** Every label with its own probability (they need not sum to 1), most probable first. */
  predictions: Prediction[];
  /** The labels at or above their own threshold, most probable first (may be empty). */
  labels: string[];
  multiLabel: true;
  /** At least one label is selected. */
  autoSelect: boolean;
  /** Multi-label bundles have no unknown rule: always false. */
  unknown: false;
  unknownValue: null;
  /** The bundle's similarity output (zeros for multi-label bundles). */
  similarity: number | null;
  text: string;
}

export type Classification = SingleLabelClassification | MultiLabelClassification;

/** The bundle's decision rule as classifyOutputs() takes it (metadata.json's fields). */
export interface DecisionRule {
  /** Auto-select the top label when its probability is at least this (null: never). */
  threshold?: number | null;
  /** The unknown-category rule (null: off). */
  unknown?: BundleMetadata["unknown"];
  /** Similarity to the nearest training text (the unknown score when score is "nearest"). */
  similarity?: number | null;
  /** "multi_label": judge with `thresholds` (classifyLabels()). */
  task?: "single_label" | "multi_label" | null;
  /** Multi-label: one threshold per label, aligned with the labels. */
  thresholds?: readonly number[] | null;
}

/** A classify() result without the text: what classifyOutputs() returns. */
export type OutputsClassification =
  | (Omit<SingleLabelClassification, "text" | "unknownValue" | "similarity"> & {
      /** The score compared with the unknown threshold; null when "nearest" has no similarity. */
      unknownValue: number | null;
      similarity: number | null;
    })
  | Omit<MultiLabelClassification, "text">;

/** What decide() returns: what a client shows and may select for one text. */
export type Decision = SingleLabelDecision | MultiLabelDecision;

/** decide() on a single-label result. */
export interface SingleLabelDecision {
  /**
   * "empty": no text or no predictions; "auto": `selected` is chosen for the user;
   * "suggest": below the threshold, the user picks; "unknown": fits no category.
   */
  mode: "empty" | "auto" | "suggest" | "unknown";
  /** The most probable label (null when empty). */
  top: Prediction | null;
  /** The auto-selected label (mode "auto" only). */
  selected: string | null;
  /** The top `count` predictions (empty when empty). */
  suggestions: Prediction[];
  unknown: boolean;
}

/** decide() on a multi-label result (`multiLabel: true`). */
export interface MultiLabelDecision {
  mode: "multi";
  /** The most probable label. */
  top: Prediction;
  /** The labels chosen for the user: at or above their thresholds, most probable first. */
  selected: string[];
  /** The `count` most probable labels not selected. */
  suggestions: Prediction[];
  unknown: false;
  /** Every label, most probable first (e.g. to show a chosen label's probability). */
  predictions: Prediction[];
}

export interface DecideOptions {
  /** Overrides the result's autoSelect (null: keep it). */
  threshold?: number | null;
  /** Compared with result.unknownValue; overrides the result's unknown (null: keep it). */
  unknownThreshold?: number | null;
  /** How many suggestions (default SUGGESTIONS; null: every prediction). */
  count?: number | null;
  /** Multi-label: label → threshold, re-selecting from the predictions (a label it does
   * not name is never selected); null keeps the result's `labels`. */
  thresholds?: Readonly<Record<string, number>> | null;
}

/** What decide() reads of a result: a Classification or anything shaped like one. */
export interface DecidableResult {
  predictions: Prediction[];
  unknownValue?: number | null;
  autoSelect?: boolean;
  unknown?: boolean;
  text?: string;
  /** A multi-label result: decide() answers a MultiLabelDecision. */
  multiLabel?: boolean;
  /** Multi-label: the labels at or above their thresholds. */
  labels?: string[];
}

/** How many suggestions decide() gives by default. */
export declare const SUGGESTIONS: number;

/**
 * The decision rule (tfcls.decision.rule.decide in Python is the same rule): unknown when
 * result.unknownValue < unknownThreshold; auto-selected when not unknown and the top
 * probability ≥ threshold; a null threshold keeps the result's own decision.
 */
export declare function decide(result: DecidableResult | null | undefined, options?: DecideOptions): Decision;

/**
 * A multi-label bundle's raw outputs (probabilities in label order) judged by its
 * per-label thresholds (aligned with `labels`): throws when their counts differ.
 */
export declare function classifyLabels(
  probabilities: ArrayLike<number>,
  labels: readonly string[],
  thresholds: readonly number[],
  options?: { similarity?: number | null },
): Omit<MultiLabelClassification, "text">;

/** One text's raw outputs (probabilities in label order) judged by a bundle's rule. */
export declare function classifyOutputs(
  probabilities: ArrayLike<number>,
  labels: readonly string[],
  rule?: DecisionRule,
): OutputsClassification;

export interface RawOutputs {
  /** One row per text, in label order. */
  probabilities: Float32Array[];
  similarity: number[];
}

export declare class Classifier {
  constructor(
    tf: TensorFlowLike,
    model: GraphModelLike,
    tokenizer: WordPieceTokenizer,
    metadata: BundleMetadata,
    backend: BackendName,
  );
  readonly tf: TensorFlowLike;
  readonly model: GraphModelLike;
  readonly tokenizer: WordPieceTokenizer;
  readonly metadata: BundleMetadata;
  /** The TF.js backend it runs on. */
  readonly backend: BackendName;
  readonly labels: string[];
  readonly version: string;
  readonly threshold: number | null;
  readonly unknownThreshold: number | null;
  readonly unknownScore: "max_softmax" | "nearest";
  /** metadata.json's task ("single_label" when it names none). */
  readonly task: "single_label" | "multi_label";
  readonly multiLabel: boolean;
  /** Multi-label: each label's threshold, aligned with `labels` (null: single-label). */
  readonly thresholds: number[] | null;
  /** The model's output tensor names: [probabilities, similarity]. */
  readonly outputNames: [string, string];
  /** Raw outputs for texts already cleaned and joined. */
  predictTexts(texts: string[]): Promise<RawOutputs>;
  /** Every label with its calibrated probability, most probable first. */
  predict(title: string, description?: string | null): Promise<Prediction[]>;
  /** Predictions plus the decisions a client makes with them. */
  classify(title: string, description?: string | null): Promise<Classification>;
  /** Free the model's weights. */
  dispose(): void;
}

export interface LoadOptions {
  /** The TensorFlow.js namespace (default globalThis.tf). */
  tf?: TensorFlowLike;
  /** Backends to try in order (default BACKENDS). */
  backends?: readonly BackendName[];
  /** Fetches the bundle's files (default globalThis.fetch; in Node, e.g. a file reader). */
  fetch?: FetchLike;
  /** Called with the fraction of the weights loaded. */
  onProgress?: (fraction: number) => void;
}

/** Load a bundle: the folder (URL or path) holding model.json, vocab.txt and metadata.json. */
export declare function loadClassifier(bundleUrl: string, options?: LoadOptions): Promise<Classifier>;

/** Use the first of `backends` that initialises; resolves with its name. */
export declare function chooseBackend(tf: TensorFlowLike, backends?: readonly BackendName[]): Promise<BackendName>;

/**
 * Point the wasm backend at its .wasm files (a URL prefix ending in "/"). `threads` > 0
 * turns on its multi-threaded build with that many threads; 0 (default) keeps it
 * single-threaded (the threaded build needs blob: scripts, which a strict CSP refuses).
 */
export declare function configureWasm(tf: TensorFlowLike, wasmPath: string, options?: { threads?: number }): void;
