// app.js: the task form. Predicts a category on-device as the user types (web/tfcls.js on
// TF.js, loaded as UMD scripts by index.html), lets the user accept, correct, reject or
// add a category, and sends that verdict to POST /api/feedback through a durable outbox
// (web/feedback-queue.js) that survives reloads and offline spells.
//
// The exports are DOM-free and tested in Node (web/test/app.test.js); the bootstrap at
// the bottom runs only in a browser. For end-to-end tests the page exposes
//   window.tfclsApp = {ready, version, backend, clientId, queue, classifier, offlineReady}
// where `ready` resolves with {version, backend} once the model has loaded and predicted
// (and rejects if it cannot load); `classifier` is the loaded tfcls.js Classifier;
// `offlineReady` (set when `ready` resolves) resolves true once the service worker holds
// the app shell and every file of the bundle, so an offline reload will work.

import { FeedbackQueue, uuid } from "./feedback-queue.js";
import { BACKENDS, chooseBackend, configureWasm, loadClassifier } from "./tfcls.js";

export const DEBOUNCE_MS = 150;
export const SUGGESTIONS = 3;
export const MAX_TEXT = 2000; // the server's limit for title and description, in code points
export const FLUSH_EVERY_MS = 30000;
export const CLIENT_ID_KEY = "tfcls.client_id";
export const MODEL_INFO_KEY = "tfcls.model";
export const WASM_PATH = "/vendor/tfjs-backend-wasm/dist/";
export const BACKEND_TIMEOUT_MS = 20000; // a backend that has not started by then is skipped
export const ACTIONS = ["accepted", "rejected", "corrected", "new_category"];

// ---------------------------------------------------------------------------------------
// Pure logic

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

/**
 * What to show for a classify() result:
 *   {mode: "empty"}                         no text, nothing to predict
 *   {mode: "auto", selected, top, ...}      confident: `selected` is chosen for the user
 *   {mode: "suggest", top, suggestions}     below the threshold: the user picks
 *   {mode: "unknown", top, suggestions}     unlike every category: lead with a new one
 * `suggestions` is the top `count` predictions in every non-empty mode. `threshold` and
 * `unknownThreshold`, when given (not null), override the decisions classify() made.
 */
export function decide(result, { threshold = null, unknownThreshold = null, count = SUGGESTIONS } = {}) {
  const predictions = result?.predictions ?? [];
  if (!result || predictions.length === 0 || result.text === "") {
    return { mode: "empty", top: null, selected: null, suggestions: [], unknown: false };
  }
  const top = predictions[0];
  const unknown =
    unknownThreshold !== null && typeof result.unknownValue === "number"
      ? result.unknownValue < unknownThreshold
      : Boolean(result.unknown);
  const auto = !unknown && (threshold !== null ? top.probability >= threshold : Boolean(result.autoSelect));
  const suggestions = predictions.slice(0, count).map(({ label, probability }) => ({ label, probability }));
  const mode = unknown ? "unknown" : auto ? "auto" : "suggest";
  return { mode, top: { label: top.label, probability: top.probability }, selected: auto ? top.label : null, suggestions, unknown };
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

/** The POST /api/feedback body. */
export function feedbackPayload({ title, description = "", decision = null, action, chosenLabel = null, modelVersion, clientId }) {
  if (!ACTIONS.includes(action)) throw new Error(`unknown feedback action ${action}`);
  const confidence = decision?.top?.probability;
  return {
    title: cleanField(title),
    description: cleanField(description),
    predicted_label: decision?.top?.label ?? null,
    // float32 softmax can land a hair outside [0, 1]; the server wants 0 ≤ confidence ≤ 1
    confidence: typeof confidence === "number" && Number.isFinite(confidence) ? Math.min(1, Math.max(0, confidence)) : null,
    chosen_label: action === "rejected" ? null : chosenLabel ?? null,
    action,
    model_version: String(modelVersion ?? ""),
    client_id: String(clientId ?? ""),
  };
}

/**
 * Debounced predictions with sequence numbers: update(input) schedules predict(input)
 * after `delay` ms; a result is delivered to onResult only if no newer input arrived
 * meanwhile (stale results are dropped). settle() resolves with the result for the latest
 * input, predicting at once if it is still waiting (for a verdict made before the pause).
 */
export function createPredictor({ predict, onResult = () => {}, onError = () => {}, delay = DEBOUNCE_MS, timers = globalThis }) {
  let seq = 0;
  let input = null;
  let timer = null;
  let running = null; // {seq, promise}
  let done = null; // {seq, result}

  function run() {
    timer = null;
    const mySeq = seq;
    const myInput = input;
    const promise = Promise.resolve()
      .then(() => predict(myInput))
      .then(
        (result) => {
          if (mySeq !== seq) return { stale: true };
          done = { seq: mySeq, result };
          onResult(result, myInput, mySeq);
          return { result };
        },
        (error) => {
          if (mySeq !== seq) return { stale: true };
          done = { seq: mySeq, result: null };
          onError(error, myInput, mySeq);
          return { result: null };
        },
      );
    running = { seq: mySeq, promise };
    return promise;
  }

  return {
    get seq() {
      return seq;
    },
    /** A new input: returns its sequence number. */
    update(next, wait = delay) {
      seq += 1;
      input = next;
      if (timer !== null) timers.clearTimeout(timer);
      timer = timers.setTimeout(run, wait);
      return seq;
    },
    /** The result for the latest input (null: none, or its prediction failed). */
    async settle() {
      for (;;) {
        let outcome;
        if (done && done.seq === seq) return done.result;
        if (timer !== null) {
          timers.clearTimeout(timer);
          outcome = await run();
        } else if (running && running.seq === seq) {
          outcome = await running.promise;
        } else {
          return null;
        }
        if (!outcome.stale) return outcome.result;
        // newer input arrived while predicting: settle that one
      }
    },
    /** Forget the current input; results in flight are dropped. */
    cancel() {
      seq += 1;
      input = null;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}

function safeGet(storage, key) {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function safeSet(storage, key, value) {
  try {
    storage?.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/** The stable client id: a random UUID kept in `storage` (made on first use). */
export function getClientId(storage, makeId = uuid) {
  const stored = safeGet(storage, CLIENT_ID_KEY);
  if (stored && UUID_RE.test(stored)) return stored;
  const id = makeId();
  safeSet(storage, CLIENT_ID_KEY, id);
  return id;
}

/** Is `info` a usable GET /api/model answer? */
export function isModelInfo(info) {
  return (
    info !== null &&
    typeof info === "object" &&
    typeof info.version === "string" &&
    info.version !== "" &&
    typeof info.bundle_url === "string" &&
    info.bundle_url !== ""
  );
}

/** The last model info that loaded, from `storage` (null if none or unreadable). */
export function cachedModelInfo(storage) {
  const raw = safeGet(storage, MODEL_INFO_KEY);
  if (!raw) return null;
  try {
    const info = JSON.parse(raw);
    return isModelInfo(info) ? info : null;
  } catch {
    return null;
  }
}

/** Remember `info` as the model to load when /api/model cannot be reached. */
export function rememberModelInfo(storage, info) {
  return safeSet(storage, MODEL_INFO_KEY, JSON.stringify(info));
}

/**
 * The models to try, in order: what GET /api/model says for this client, then the last
 * one that loaded (kept in storage: offline, its bundle is in the service worker's cache).
 * Returns {candidates: [info, ...], source: "network" | "cache", error?}.
 */
export async function resolveModelInfo({ fetch, storage, clientId, endpoint = "/api/model" }) {
  const cached = cachedModelInfo(storage);
  let fresh = null;
  let error = null;
  try {
    const res = await fetch(`${endpoint}?client_id=${encodeURIComponent(clientId)}`, {
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (!res.ok) throw new Error(`GET ${endpoint}: HTTP ${res.status}`);
    const info = await res.json();
    if (!isModelInfo(info)) throw new Error(`GET ${endpoint}: not a model description`);
    fresh = info;
  } catch (err) {
    error = err;
  }
  const candidates = [];
  if (fresh) candidates.push(fresh);
  if (cached && (!fresh || cached.version !== fresh.version)) candidates.push(cached);
  return { candidates, source: fresh ? "network" : "cache", ...(error ? { error } : {}) };
}

/** `promise`, or a rejection once `ms` have passed without it settling. */
export function withTimeout(promise, ms, what = "operation", timers = globalThis) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = timers.setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => timers.clearTimeout(timer));
}

/**
 * Prepare TF.js for this page: where the wasm files are, and no wasm threads. The threaded
 * build starts pthread workers that importScripts() a blob: URL, which the page's CSP
 * (script-src 'self') refuses, and the backend then never finishes starting.
 */
export function configureTf(tf) {
  configureWasm(tf, WASM_PATH);
}

/** The first of `backends` that starts within `ms` (one that hangs is skipped). */
export async function startBackend(tf, { backends = BACKENDS, ms = BACKEND_TIMEOUT_MS, choose = chooseBackend } = {}) {
  const failures = [];
  for (const name of backends) {
    try {
      return await withTimeout(choose(tf, [name]), ms, `TF.js backend ${name}`);
    } catch (err) {
      failures.push(`${name}: ${err?.message ?? err}`);
    }
  }
  throw new Error(`no TF.js backend could start (${failures.join("; ")})`);
}

/** The status line's parts. */
export function statusParts({ version = null, backend = null, online = true, queued = 0, loading = false, failed = false }) {
  let model;
  if (failed) model = "Model unavailable";
  else if (loading || !version) model = "Loading model…";
  else model = `Model ${version}${backend ? ` · ${backend}` : ""}`;
  return { model, network: online ? "Online" : "Offline", queue: `${queued} queued` };
}

/** How a task's feedback stands, in words. */
export function deliveryText(state) {
  return { sending: "sending…", sent: "sent", queued: "queued", rejected: "not accepted by the server" }[state] ?? state;
}

// ---------------------------------------------------------------------------------------
// Browser

function bootstrap() {
  const $ = (id) => document.getElementById(id);
  const ui = {
    title: $("title"),
    description: $("description"),
    error: $("error"),
    status: $("status"),
    statusModel: $("status-model"),
    statusNetwork: $("status-network"),
    statusQueue: $("status-queue"),
    prediction: $("prediction"),
    predictionText: $("prediction-text"),
    autoBadge: $("auto-badge"),
    unknownNote: $("unknown-note"),
    choices: $("choices"),
    suggestionsBlock: $("suggestions-block"),
    suggestionsHeading: $("suggestions-heading"),
    suggestions: $("suggestions"),
    newCategoryForm: $("new-category-form"),
    newCategoryLabel: $("new-category-label"),
    newCategoryName: $("new-category-name"),
    knownLabels: $("known-labels"),
    accept: $("accept"),
    reject: $("reject"),
    taskList: $("task-list"),
    tasksEmpty: $("tasks-empty"),
  };

  let storage = null;
  try {
    storage = globalThis.localStorage ?? null;
  } catch {
    storage = null; // storage disabled: ids and the outbox live in memory
  }

  const state = {
    clientId: getClientId(storage),
    clf: null,
    info: null,
    loading: true,
    failed: false,
    decision: decide(null),
    layout: null, // the choices layout last rendered ("unknown" puts new category first)
    busy: false,
  };
  const tasks = new Map(); // queue uid → task row

  const app = {
    ready: null,
    version: null,
    backend: null,
    clientId: state.clientId,
    queue: null,
    classifier: null,
    offlineReady: Promise.resolve(false),
  };
  globalThis.tfclsApp = app;

  // --- status ---------------------------------------------------------------------------
  function renderStatus() {
    const online = navigator.onLine !== false;
    const queued = queue.pending().length;
    const parts = statusParts({
      version: state.clf?.version ?? state.info?.version,
      backend: state.clf?.backend,
      online,
      queued,
      loading: state.loading,
      failed: state.failed,
    });
    ui.statusModel.textContent = parts.model;
    ui.statusNetwork.textContent = parts.network;
    ui.statusQueue.textContent = parts.queue;
    ui.status.dataset.online = String(online);
    ui.status.dataset.queued = String(queued);
  }

  function showError(message) {
    ui.error.textContent = message ?? "";
    ui.error.hidden = !message;
  }

  // --- feedback outbox --------------------------------------------------------------------
  const queue = new FeedbackQueue({
    storage,
    fetch: globalThis.fetch.bind(globalThis),
    locks: globalThis.navigator?.locks ?? null,
    onChange(event) {
      const row = tasks.get(event.item?.uid);
      if (row && event.type === "sent") setDelivery(row, "sent");
      if (row && event.type === "dropped") setDelivery(row, "rejected", event.error);
      if (row && event.type === "failed") setDelivery(row, "queued");
      renderStatus();
    },
  });
  app.queue = queue;

  // --- predictions ------------------------------------------------------------------------
  function thresholds() {
    return {
      threshold: state.info?.threshold ?? state.clf?.threshold ?? null,
      unknownThreshold: state.info?.unknown_threshold ?? state.clf?.unknownThreshold ?? null,
    };
  }

  function currentInput() {
    return { title: ui.title.value, description: ui.description.value };
  }

  const predictor = createPredictor({
    async predict({ title, description }) {
      if (!state.clf || (!title.trim() && !description.trim())) return null;
      return state.clf.classify(title, description);
    },
    onResult(result) {
      render(decide(result, thresholds()));
    },
    onError(error) {
      console.error("tfcls: prediction failed", error);
      render(decide(null));
    },
  });

  function onInput() {
    showError("");
    if (!ui.title.value.trim() && !ui.description.value.trim()) {
      predictor.cancel();
      render(decide(null));
      return;
    }
    if (state.clf) predictor.update(currentInput());
  }

  // --- rendering --------------------------------------------------------------------------
  function suggestionButton(suggestion) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "suggestion";
    button.dataset.testid = "suggestion";
    button.dataset.label = suggestion.label;
    const name = document.createElement("span");
    name.className = "suggestion-label";
    name.textContent = suggestion.label;
    const pct = document.createElement("span");
    pct.className = "suggestion-probability";
    pct.textContent = formatPercent(suggestion.probability);
    button.append(name, " ", pct);
    button.addEventListener("click", () => commit("pick", { label: suggestion.label }));
    return button;
  }

  function layoutChoices(mode) {
    const layout = mode === "unknown" ? "unknown" : "default";
    if (state.layout === layout) return;
    // Moving nodes is done only when the mode changes, which happens while the user types
    // in the title or description, so focus is never inside the moved nodes.
    if (layout === "unknown") ui.choices.prepend(ui.newCategoryForm);
    else ui.choices.append(ui.newCategoryForm);
    state.layout = layout;
  }

  function render(decision) {
    state.decision = decision;
    const { mode } = decision;
    const p = ui.prediction;
    p.dataset.state = state.failed ? "error" : state.clf ? mode : "loading";
    p.dataset.label = decision.top?.label ?? "";
    p.classList.toggle("is-auto", mode === "auto");
    p.classList.toggle("is-unknown", mode === "unknown");
    ui.autoBadge.hidden = mode !== "auto";
    ui.unknownNote.hidden = mode !== "unknown";
    if (state.failed) ui.predictionText.textContent = "The model could not be loaded.";
    else if (!state.clf) ui.predictionText.textContent = "Loading the model…";
    else if (mode === "empty") ui.predictionText.textContent = "Type a title to get a category.";
    else ui.predictionText.textContent = formatPrediction(decision.top);

    const shown = mode === "empty" ? [] : suggestionsToShow(decision);
    ui.choices.hidden = mode === "empty";
    layoutChoices(mode);
    ui.suggestionsBlock.hidden = shown.length === 0;
    ui.suggestionsHeading.textContent =
      mode === "auto" ? "Not right? Pick another" : mode === "unknown" ? "Or pick one of your categories" : "Pick a category";
    ui.newCategoryLabel.textContent = mode === "unknown" ? "Add a new category (suggested)" : "Add a new category";
    ui.suggestions.replaceChildren(...shown.map(suggestionButton));

    ui.accept.disabled = !decision.selected;
    ui.accept.textContent = decision.selected ? `Accept ${decision.selected}` : "Accept";
    ui.reject.disabled = !state.clf || mode === "empty";
  }

  // --- tasks ------------------------------------------------------------------------------
  function addTask({ title, chosenLabel, action }) {
    const li = document.createElement("li");
    li.className = "task";
    li.dataset.testid = "task";
    li.dataset.action = action;
    const titleEl = document.createElement("span");
    titleEl.className = "task-title";
    titleEl.textContent = title;
    const meta = document.createElement("span");
    meta.className = "task-meta";
    const category = document.createElement("span");
    category.className = "task-category";
    category.textContent = chosenLabel ?? "no category";
    const act = document.createElement("span");
    act.className = "task-action";
    act.textContent = action.replace("_", " ");
    const delivery = document.createElement("span");
    delivery.className = "task-delivery";
    meta.append(category, " · ", act, " · ", delivery);
    li.append(titleEl, meta);
    ui.taskList.append(li);
    ui.tasksEmpty.hidden = true;
    setDelivery(li, "sending");
    return li;
  }

  function setDelivery(li, delivery, error = null) {
    li.dataset.state = delivery;
    const el = li.querySelector(".task-delivery");
    let text = deliveryText(delivery);
    if (delivery === "rejected" && error?.errors) {
      text += `: ${Object.entries(error.errors)
        .map(([field, message]) => `${field} ${message}`)
        .join("; ")}`;
    }
    el.textContent = text;
  }

  // --- verdicts ---------------------------------------------------------------------------
  async function commit(kind, { label = null } = {}) {
    if (state.busy || !state.clf) return;
    if (!ui.title.value.trim()) {
      showError("Enter a title first.");
      ui.title.focus();
      return;
    }
    state.busy = true;
    let payload;
    let verdict;
    try {
      // the verdict is about the text as it is now: finish a prediction still waiting
      const result = await predictor.settle();
      const { title, description } = currentInput(); // the text that result is for
      const decision = decide(result, thresholds());
      render(decision);
      verdict = verdictFor(decision, kind, { label, labels: state.clf.labels });
      if (!verdict) {
        if (kind === "new") {
          showError("Type a name for the new category.");
          ui.newCategoryName.focus();
        }
        return;
      }
      payload = feedbackPayload({
        title,
        description,
        decision,
        action: verdict.action,
        chosenLabel: verdict.chosenLabel,
        modelVersion: state.clf.version ?? state.info?.version,
        clientId: state.clientId,
      });
      // the form is ready for the next task at once; delivery goes on in the background
      ui.title.value = "";
      ui.description.value = "";
      ui.newCategoryName.value = "";
      showError("");
      predictor.cancel();
      render(decide(null));
      ui.title.focus();
    } finally {
      state.busy = false;
    }
    const row = addTask({ title: payload.title, chosenLabel: payload.chosen_label, action: payload.action });
    const uid = uuid();
    tasks.set(uid, row);
    try {
      const outcome = await queue.submit(payload, { uid });
      if (outcome.status === "sent") setDelivery(row, "sent");
      else if (outcome.status === "rejected") setDelivery(row, "rejected", outcome);
      else setDelivery(row, "queued");
    } catch (err) {
      console.error("tfcls: feedback", err);
      setDelivery(row, "queued");
    }
    renderStatus();
  }

  ui.title.addEventListener("input", onInput);
  ui.description.addEventListener("input", onInput);
  ui.title.addEventListener("keydown", async (event) => {
    if (event.key !== "Enter" || event.isComposing || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (!state.clf || state.busy) return;
    const result = await predictor.settle();
    const decision = decide(result, thresholds());
    if (decision.selected) {
      commit("accept");
    } else if (decision.mode !== "empty") {
      // nothing to accept: take the keyboard to the choices
      render(decision);
      const first = decision.mode === "unknown" ? ui.newCategoryName : ui.suggestions.querySelector("button");
      (first ?? ui.newCategoryName).focus();
    }
  });
  ui.accept.addEventListener("click", () => commit("accept"));
  ui.reject.addEventListener("click", () => commit("reject"));
  ui.newCategoryForm.addEventListener("submit", (event) => {
    event.preventDefault();
    commit("new", { label: ui.newCategoryName.value });
  });

  // --- connectivity -----------------------------------------------------------------------
  const flush = () => queue.flush().then(renderStatus, renderStatus);
  globalThis.addEventListener("online", () => {
    renderStatus();
    flush();
  });
  globalThis.addEventListener("offline", renderStatus);
  globalThis.addEventListener("storage", (event) => {
    if (event.key === queue.key) renderStatus(); // another tab changed the outbox
  });
  setInterval(flush, FLUSH_EVERY_MS);

  // --- service worker ---------------------------------------------------------------------
  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(null);
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((err) => {
      console.warn("tfcls: service worker not registered", err);
      return null;
    });
  }
  const registration = registerServiceWorker();

  /**
   * Ask the worker to hold this bundle for offline use (the page may have fetched it before
   * the worker controlled it) and to let go of other versions. Resolves true once the
   * worker says every file of the bundle is cached, false if it cannot.
   */
  async function keepModelOffline(info) {
    try {
      if (!(await registration)) return false;
      const ready = await withTimeout(navigator.serviceWorker.ready, 30000, "service worker");
      const channel = new MessageChannel();
      const reply = new Promise((resolve) => {
        channel.port1.onmessage = (event) => resolve(Boolean(event.data?.ok));
      });
      ready.active.postMessage({ type: "model-in-use", version: info.version, bundleUrl: info.bundle_url }, [
        channel.port2,
      ]);
      return await withTimeout(reply, 300000, "caching the model");
    } catch (err) {
      console.warn("tfcls: the model is not cached for offline use", err);
      return false;
    }
  }

  // --- the model --------------------------------------------------------------------------
  async function start() {
    renderStatus();
    render(decide(null));
    flush();
    const tf = globalThis.tf;
    if (!tf) throw new Error("TensorFlow.js did not load");
    configureTf(tf);
    const [{ candidates, error }, backend] = await Promise.all([
      resolveModelInfo({ fetch: globalThis.fetch.bind(globalThis), storage, clientId: state.clientId }),
      startBackend(tf),
    ]);
    if (candidates.length === 0) throw error ?? new Error("no model available");
    let lastError = error;
    for (const info of candidates) {
      try {
        state.info = info;
        renderStatus();
        const clf = await loadClassifier(info.bundle_url, { tf, backends: [backend] });
        await clf.classify("warm up"); // compile kernels now, not on the first keystroke
        state.clf = clf;
        rememberModelInfo(storage, info);
        app.offlineReady = keepModelOffline(info);
        return clf;
      } catch (err) {
        console.warn(`tfcls: model ${info.version} did not load`, err);
        lastError = err;
      }
    }
    throw lastError;
  }

  app.ready = start().then(
    (clf) => {
      state.loading = false;
      app.version = clf.version;
      app.backend = clf.backend;
      app.classifier = clf;
      ui.knownLabels.replaceChildren(
        ...clf.labels.map((label) => {
          const option = document.createElement("option");
          option.value = label;
          return option;
        }),
      );
      renderStatus();
      onInput(); // predict what was typed while loading (or show the empty state)
      return { version: clf.version, backend: clf.backend };
    },
    (err) => {
      state.loading = false;
      state.failed = true;
      renderStatus();
      render(decide(null));
      showError(`The model could not be loaded: ${err?.message ?? err}`);
      throw err;
    },
  );
  app.ready.catch(() => {}); // reported on the page; tests awaiting `ready` still see it
}

if (typeof document !== "undefined" && typeof window !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bootstrap, { once: true });
  else bootstrap();
}
