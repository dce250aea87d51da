// state.js: what the task form shows and what it sends, as pure functions (no DOM, no
// network; tested in Node by web/test/state.test.js). The page's state object, the
// thresholds to decide with, the verdict a gesture means, the POST /api/feedback body,
// debounced predictions, and the words of the status line and task list. The decision
// for a classify() result is the SDK's decide() (web/sdk/tfcls.js), not re-coded here.
// On a multi-label model the user edits the label set decide() selected (chips): the
// edits are kept as labels added and removed, so a new prediction while typing moves the
// model's selection under them without losing what the user did.

import { decide } from "../sdk/tfcls.js";
// The feedback actions POST /api/feedback accepts: generated from the server's schema.
import { ACTIONS, MAX_LABELS } from "./feedback-schema.js";

export const DEBOUNCE_MS = 150;
export const MAX_TEXT = 2000; // the server's limit for title and description, in code points

export { ACTIONS, MAX_LABELS };

/** No edits to the model's label set. */
export const NO_EDITS = Object.freeze({ added: Object.freeze([]), removed: Object.freeze([]) });

/** The page's state before anything has loaded. */
export function initialState(clientId) {
  return {
    clientId,
    clf: null, // the loaded tfcls Classifier
    info: null, // the GET /api/model answer it was loaded for
    loading: true,
    progress: null, // 0..1 while the weights download
    failed: false,
    decision: decide(null), // what is shown
    edits: NO_EDITS, // multi-label: the user's changes to the selected label set
    busy: false, // a verdict is being taken
  };
}

/** A multi-label /api/model answer's per-label thresholds as label → threshold (else null). */
export function labelThresholds(info) {
  const { task, labels, thresholds } = info ?? {};
  if (task !== "multi_label" || !Array.isArray(labels) || !Array.isArray(thresholds)) return null;
  if (labels.length !== thresholds.length) return null;
  return Object.fromEntries(labels.map((label, i) => [label, thresholds[i]]));
}

/** The thresholds to pass to decide(): the server's (/api/model) first, else the bundle's. */
export function thresholdsFor({ info = null, clf = null } = {}) {
  return {
    threshold: info?.threshold ?? clf?.threshold ?? null,
    unknownThreshold: info?.unknown_threshold ?? clf?.unknownThreshold ?? null,
    thresholds: labelThresholds(info), // multi-label; null: the bundle's (classify()'s)
  };
}

// --- multi-label: the chosen label set --------------------------------------------------------

/** The labels shown as chips: the model's selection less what the user removed, then what
 * the user added (in the order added). */
export function chosenLabels(decision, edits = NO_EDITS) {
  const base = (decision?.mode === "multi" ? decision.selected : []).filter((l) => !edits.removed.includes(l));
  return [...base, ...edits.added.filter((l) => !base.includes(l))];
}

/** `edits` with `label` added (no longer removed). */
export function addLabel(edits, label) {
  return {
    added: [...edits.added.filter((l) => l !== label), label],
    removed: edits.removed.filter((l) => l !== label),
  };
}

/** `edits` with `label` removed (no longer added). */
export function removeLabel(edits, label) {
  return {
    added: edits.added.filter((l) => l !== label),
    removed: [...edits.removed.filter((l) => l !== label), label],
  };
}

/** The "+ label" buttons: the model's labels the user removed (to put back), then the
 * suggestions not chosen; each {label, probability}. */
export function labelsToAdd(decision, edits = NO_EDITS) {
  if (decision?.mode !== "multi") return [];
  const chosen = chosenLabels(decision, edits);
  const removed = decision.predictions.filter((p) => decision.selected.includes(p.label) && edits.removed.includes(p.label));
  const shown = new Set(removed.map((p) => p.label));
  return [...removed, ...decision.suggestions.filter((s) => !chosen.includes(s.label) && !shown.has(s.label))];
}

/** A label's probability in a multi-label decision (null: not one of the model's labels). */
export function probabilityOf(decision, label) {
  return decision?.predictions?.find((p) => p.label === label)?.probability ?? null;
}

/** "Development · 97%, Design · 61%": a multi-label decision's selection, in words. */
export function formatSelection(decision) {
  if (decision.selected.length === 0) return `No label is likely · top: ${formatPrediction(decision.top)}`;
  return decision.selected.map((label) => formatPrediction({ label, probability: probabilityOf(decision, label) })).join(", ");
}

/** "97%"; never rounds a non-certain probability up to 100% or a non-zero one down to 0%. */
export function formatPercent(probability) {
  if (typeof probability !== "number" || !Number.isFinite(probability)) return "–";
  const p = Math.min(1, Math.max(0, probability));
  const pct = Math.round(p * 100);
  if (pct === 100 && p < 1) return ">99%";
  if (pct === 0 && p > 0) return "<1%";
  return `${pct}%`;
}

/** "Development · 97%" */
export function formatPrediction({ label, probability }) {
  return `${label} · ${formatPercent(probability)}`;
}

/** The suggestion buttons to show: in "auto" mode the alternatives to the selected label. */
export function suggestionsToShow(decision) {
  if (decision.mode === "auto") return decision.suggestions.filter((s) => s.label !== decision.selected);
  return decision.suggestions;
}

/** `name` tidied for a category: trimmed, inner whitespace collapsed. */
export function normalizeLabel(name) {
  return String(name ?? "").replace(/\s+/gu, " ").trim();
}

/** The existing label `name` spells (case- and space-insensitively), or null. */
export function matchLabel(labels, name) {
  const key = normalizeLabel(name).toLocaleLowerCase();
  if (!key) return null;
  return (labels ?? []).find((label) => normalizeLabel(label).toLocaleLowerCase() === key) ?? null;
}

/**
 * The feedback a user gesture means, or null when it means nothing yet:
 *   accept            the auto-selected label → accepted (null when nothing is selected)
 *   pick {label}      a suggestion: the top prediction → accepted, another → corrected
 *   reject            no label → rejected
 *   new {label}       a typed name: an existing category (any case) → accepted/corrected,
 *                     anything else → new_category
 * Returns {action, chosenLabel}.
 */
export function verdictFor(decision, kind, { label = null, labels = [] } = {}) {
  const top = decision?.top?.label ?? null;
  const pick = (chosen) => ({ action: chosen === top ? "accepted" : "corrected", chosenLabel: chosen });
  switch (kind) {
    case "accept":
      return decision?.selected ? { action: "accepted", chosenLabel: decision.selected } : null;
    case "pick":
      return label ? pick(label) : null;
    case "reject":
      return { action: "rejected", chosenLabel: null };
    case "new": {
      const name = normalizeLabel(label);
      if (!name) return null;
      const existing = matchLabel(labels, name);
      return existing ? pick(existing) : { action: "new_category", chosenLabel: name };
    }
    default:
      throw new Error(`unknown verdict kind ${kind}`);
  }
}

/**
 * The feedback a gesture means on a multi-label model, or null when it means nothing yet:
 *   accept   the chips (`chosen`, non-empty): the model's selection unchanged → accepted;
 *            with a name that is not one of the model's `labels` → new_category; else corrected
 *   reject   no label fits → rejected (no labels)
 * Returns {action, labels, predictedLabels} (`predictedLabels`: what the model selected).
 */
export function labelVerdictFor(decision, kind, { chosen = [], labels = [] } = {}) {
  if (decision?.mode !== "multi") return null;
  const predictedLabels = [...decision.selected];
  if (kind === "reject") return { action: "rejected", labels: null, predictedLabels };
  if (kind !== "accept") throw new Error(`unknown label verdict kind ${kind}`);
  if (chosen.length === 0) return null;
  const same = chosen.length === predictedLabels.length && chosen.every((l) => predictedLabels.includes(l));
  const action = same ? "accepted" : chosen.some((l) => !labels.includes(l)) ? "new_category" : "corrected";
  return { action, labels: [...chosen], predictedLabels };
}

/** `text` cut to `max` code points (Python's len()), as the server counts. */
export function truncate(text, max = MAX_TEXT) {
  const s = String(text ?? "");
  if (s.length <= max) return s; // UTF-16 length ≥ code points: no cut needed
  return Array.from(s).slice(0, max).join("");
}

/** A text field as the server takes it: no NUL characters, trimmed, at most MAX_TEXT. */
function cleanField(text) {
  return truncate(String(text ?? "").replaceAll("\0", "").trim());
}

/**
 * The POST /api/feedback body. A multi-label verdict passes `predictedLabels` (the model's
 * selection, maybe []) and `labels` (the chosen set; none when rejected): they are sent as
 * `predicted_labels` and `labels`, and `chosen_label` is null.
 */
export function feedbackPayload({
  title,
  description = "",
  decision = null,
  action,
  chosenLabel = null,
  labels = null,
  predictedLabels = null,
  modelVersion,
  clientId,
}) {
  if (!ACTIONS.includes(action)) throw new Error(`unknown feedback action ${action}`);
  const confidence = decision?.top?.probability;
  const multi = predictedLabels !== null;
  const sets = multi ? { labels: action === "rejected" ? null : labelSet(labels), predicted_labels: labelSet(predictedLabels) } : {};
  return {
    title: cleanField(title),
    description: cleanField(description),
    predicted_label: decision?.top?.label ?? null,
    // float32 softmax can land a hair outside [0, 1]; the server wants 0 ≤ confidence ≤ 1
    confidence: typeof confidence === "number" && Number.isFinite(confidence) ? Math.min(1, Math.max(0, confidence)) : null,
    chosen_label: action === "rejected" || multi ? null : chosenLabel ?? null,
    action,
    model_version: String(modelVersion ?? ""),
    client_id: String(clientId ?? ""),
    ...sets,
  };
}

/** A label set as the server takes it: cleaned, blank and repeated names dropped, at most MAX_LABELS. */
function labelSet(labels) {
  const names = (labels ?? []).map(cleanField).filter(Boolean);
  return [...new Set(names)].slice(0, MAX_LABELS);
}

/**
 * Debounced predictions with sequence numbers: update(input) schedules predict(input)
 * after `delay` ms; a result is delivered to onResult only if no newer input arrived
 * meanwhile (stale results are dropped). settle() resolves with the result for the latest
 * input, predicting at once if it is still waiting (for a verdict made before the pause).
 */
export function createPredictor({ predict, onResult = () => {}, onError = () => {}, delay = DEBOUNCE_MS, timers = globalThis }) {
  return new Predictor({ predict, onResult, onError, delay, timers });
}

class Predictor {
  #seq = 0;
  #input = null;
  #timer = null;
  #running = null; // {seq, promise}
  #done = null; // {seq, result}

  constructor({ predict, onResult, onError, delay, timers }) {
    Object.assign(this, { predict, onResult, onError, delay, timers });
  }

  get seq() {
    return this.#seq;
  }

  /** Predict the latest input now; resolves {result} or {stale: true}. */
  #run() {
    this.#timer = null;
    const mySeq = this.#seq;
    const myInput = this.#input;
    const promise = Promise.resolve()
      .then(() => this.predict(myInput))
      .then(
        (result) => {
          if (mySeq !== this.#seq) return { stale: true };
          this.#done = { seq: mySeq, result };
          this.onResult(result, myInput, mySeq);
          return { result };
        },
        (error) => {
          if (mySeq !== this.#seq) return { stale: true };
          this.#done = { seq: mySeq, result: null };
          this.onError(error, myInput, mySeq);
          return { result: null };
        },
      );
    this.#running = { seq: mySeq, promise };
    return promise;
  }

  /** A new input: returns its sequence number. */
  update(next, wait = this.delay) {
    this.#seq += 1;
    this.#input = next;
    if (this.#timer !== null) this.timers.clearTimeout(this.#timer);
    this.#timer = this.timers.setTimeout(() => this.#run(), wait);
    return this.#seq;
  }

  /** The result for the latest input (null: none, or its prediction failed). */
  async settle() {
    for (;;) {
      let outcome;
      if (this.#done && this.#done.seq === this.#seq) return this.#done.result;
      if (this.#timer !== null) {
        this.timers.clearTimeout(this.#timer);
        outcome = await this.#run();
      } else if (this.#running && this.#running.seq === this.#seq) {
        outcome = await this.#running.promise;
      } else {
        return null;
      }
      if (!outcome.stale) return outcome.result;
      // newer input arrived while predicting: settle that one
    }
  }

  /** Forget the current input; results in flight are dropped. */
  cancel() {
    this.#seq += 1;
    this.#input = null;
    if (this.#timer !== null) this.timers.clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/** "Loading model… 42%" while the weights download (`progress`: 0..1, null: not yet known). */
export function loadingText(progress = null) {
  if (typeof progress !== "number" || !Number.isFinite(progress)) return "Loading model…";
  const pct = Math.floor(Math.min(1, Math.max(0, progress)) * 100);
  return `Loading model… ${pct}%`;
}

/** The status line's parts. */
export function statusParts({ version = null, backend = null, online = true, queued = 0, loading = false, failed = false, progress = null }) {
  let model;
  if (failed) model = "Model unavailable";
  else if (loading || !version) model = loadingText(progress);
  else model = `Model ${version}${backend ? ` · ${backend}` : ""}`;
  return { model, network: online ? "Online" : "Offline", queue: `${queued} queued` };
}

/**
 * How a task's feedback stands, in words; a rejection names the server's complaints
 * (`error.errors`: {field: message}).
 */
export function deliveryText(state, error = null) {
  const text = { sending: "sending…", sent: "sent", queued: "queued", rejected: "not accepted by the server" }[state] ?? state;
  if (state !== "rejected" || !error?.errors) return text;
  const reasons = Object.entries(error.errors).map(([field, message]) => `${field} ${message}`);
  return `${text}: ${reasons.join("; ")}`;
}
