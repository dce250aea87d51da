// main.js: the task form's entry (index.html loads it after TF.js's UMD scripts). Predicts
// a category on-device as the user types (the SDK, web/sdk/tfcls.js), lets the user accept,
// correct, reject or add a category, and sends that verdict to POST /api/feedback through
// a durable outbox that survives reloads and offline spells. On a multi-label model the
// labels the model selects are chips the user removes or adds to, and Accept sends the set.
// It wires the parts together:
//   state.js           what to show and what to send (pure; decide() is the SDK's)
//   model.js           which model, on which TF.js backend
//   view.js            the DOM: rendering and events
//   feedback-queue.js  the outbox
//   offline.js         the service worker (web/sw.js)
//
// The bootstrap runs only in a browser (importing this module in Node does nothing). For
// end-to-end tests the page exposes
//   window.tfclsApp = {ready, version, backend, clientId, queue, classifier, offlineReady, warmedUp}
// where `ready` resolves with {version, backend} once the model has loaded and predicted
// (and rejects if it cannot load); `classifier` is the loaded tfcls.js Classifier;
// `offlineReady` (set when `ready` resolves) resolves true once the service worker holds
// the app shell and every file of the bundle, so an offline reload will work; `warmedUp`
// (set then too) resolves once the idle-time warm-up predictions have run. While the model
// loads the page is usable: typing is kept (and predicted once the model is there) and the
// status line reads "Loading model… N%" as the weights download.

import { FeedbackQueue, uuid } from "./feedback-queue.js";
import { clientToken, loadModel, renewClientToken, warmUpWhenIdle } from "./model.js";
import { cachingFetch, keepModelOffline, registerServiceWorker } from "./offline.js";
import { decide } from "../sdk/tfcls.js";
import {
  addLabel,
  chosenLabels,
  createPredictor,
  feedbackPayload,
  initialState,
  labelsToAdd,
  labelVerdictFor,
  matchLabel,
  MAX_LABELS,
  NO_EDITS,
  normalizeLabel,
  probabilityOf,
  removeLabel,
  statusParts,
  thresholdsFor,
  verdictFor,
} from "./state.js";
import { View } from "./view.js";

export const FLUSH_EVERY_MS = 30000;

function openStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled: ids and the outbox live in memory
  }
}

/** The page: its state, the outbox and the predictor, driving the view. */
class TaskPage {
  constructor(view, storage) {
    this.view = view;
    this.storage = storage;
    this.state = initialState(clientToken(storage));
    this.tasks = new Map(); // queue uid → task row
    this.registration = null; // the service worker's, once registerServiceWorker() is called
    const page = this;
    this.app = {
      ready: null,
      version: null,
      backend: null,
      get clientId() {
        return page.state.clientId.split(".")[0]; // the id the server stores (the token's first part)
      },
      queue: null,
      classifier: null,
      offlineReady: Promise.resolve(false),
      warmedUp: Promise.resolve(),
    };
    globalThis.tfclsApp = this.app;
    this.queue = new FeedbackQueue({
      storage,
      fetch: globalThis.fetch.bind(globalThis),
      locks: globalThis.navigator?.locks ?? null,
      clientToken: () => this.state.clientId,
      renewToken: async () => {
        const token = await renewClientToken({ fetch: globalThis.fetch.bind(globalThis), storage });
        if (token) this.state.clientId = token;
      },
      onChange: (event) => this.onQueueChange(event),
    });
    this.app.queue = this.queue;
    this.predictor = createPredictor({
      predict: async ({ title, description }) => {
        if (!this.state.clf || (!title.trim() && !description.trim())) return null;
        return this.state.clf.classify(title, description);
      },
      onResult: (result) => this.render(decide(result, thresholdsFor(this.state))),
      onError: (error) => {
        console.error("tfcls: prediction failed", error);
        this.render(decide(null));
      },
    });
  }

  renderStatus() {
    const { state } = this;
    const online = navigator.onLine !== false;
    const queued = this.queue.pending().length;
    const parts = statusParts({
      version: state.clf?.version ?? state.info?.version,
      backend: state.clf?.backend,
      online,
      queued,
      loading: state.loading,
      failed: state.failed,
      progress: state.progress,
    });
    this.view.renderStatus(parts, { online, queued });
  }

  render(decision) {
    this.state.decision = decision;
    const labelSet = decision.mode === "multi" ? this.labelSet(decision) : null;
    this.view.render(decision, { loaded: Boolean(this.state.clf), failed: this.state.failed, labelSet });
  }

  /** The chips and "+ label" buttons for a multi-label decision and the user's edits. */
  labelSet(decision) {
    const known = this.state.clf?.labels ?? [];
    const chosen = chosenLabels(decision, this.state.edits).map((label) => ({
      label,
      probability: probabilityOf(decision, label),
      isNew: !known.includes(label),
    }));
    return { chosen, addable: labelsToAdd(decision, this.state.edits) };
  }

  /** Multi-label: a label added (a "+ label" button, or a typed name) or a chip removed. */
  editLabels(kind, name) {
    const { state, view } = this;
    if (state.decision.mode !== "multi") return;
    view.showError("");
    if (kind === "remove") {
      state.edits = removeLabel(state.edits, name);
    } else {
      const label = matchLabel(state.clf.labels, name) ?? normalizeLabel(name);
      if (!label) {
        view.showError("Type a label to add.");
        view.focus("newCategoryName");
        return;
      }
      const chosen = chosenLabels(state.decision, state.edits);
      if (!chosen.includes(label) && chosen.length >= MAX_LABELS) {
        view.showError(`At most ${MAX_LABELS} labels.`);
        return;
      }
      state.edits = addLabel(state.edits, label);
      view.clearLabelInput();
    }
    this.render(state.decision);
  }

  onQueueChange(event) {
    const row = this.tasks.get(event.item?.uid);
    if (row && event.type === "sent") this.view.setDelivery(row, "sent");
    if (row && event.type === "dropped") this.view.setDelivery(row, "rejected", event.error);
    if (row && event.type === "failed") this.view.setDelivery(row, "queued");
    this.renderStatus();
  }

  onInput() {
    this.view.showError("");
    const { title, description } = this.view.input();
    if (!title.trim() && !description.trim()) {
      this.predictor.cancel();
      this.state.edits = NO_EDITS; // no text, no task: the next one starts from the model's set
      this.render(decide(null));
      return;
    }
    if (this.state.clf) this.predictor.update(this.view.input());
  }

  /** Enter in the title: accept the auto-selected label, else go to the choices. */
  async onEnter() {
    if (!this.state.clf || this.state.busy) return;
    const result = await this.predictor.settle();
    const decision = decide(result, thresholdsFor(this.state));
    const multi = decision.mode === "multi";
    if (multi ? chosenLabels(decision, this.state.edits).length > 0 : decision.selected) {
      this.commit("accept");
    } else if (decision.mode !== "empty") {
      // nothing to accept: take the keyboard to the choices
      this.render(decision);
      this.view.focusChoices(decision.mode);
    }
  }

  /** A verdict gesture (see verdictFor): record it, clear the form, deliver it. */
  async commit(kind, { label = null } = {}) {
    const { state, view } = this;
    if (state.busy || !state.clf) return;
    if (!view.input().title.trim()) {
      view.showError("Enter a title first.");
      view.focus("title");
      return;
    }
    state.busy = true;
    let payload;
    try {
      payload = await this.takeVerdict(kind, label);
    } finally {
      state.busy = false;
    }
    if (payload) await this.deliver(payload);
  }

  /** The feedback payload for a gesture on the text as it is now (null: none yet). */
  async takeVerdict(kind, label) {
    const { state, view } = this;
    // the verdict is about the text as it is now: finish a prediction still waiting
    const result = await this.predictor.settle();
    const { title, description } = view.input(); // the text that result is for
    const decision = decide(result, thresholdsFor(state));
    this.render(decision);
    const verdict =
      decision.mode === "multi"
        ? labelVerdictFor(decision, kind, { chosen: chosenLabels(decision, state.edits), labels: state.clf.labels })
        : verdictFor(decision, kind, { label, labels: state.clf.labels });
    if (!verdict) {
      if (kind === "new") {
        view.showError("Type a name for the new category.");
        view.focus("newCategoryName");
      }
      return null;
    }
    const payload = feedbackPayload({
      title,
      description,
      decision,
      action: verdict.action,
      chosenLabel: verdict.chosenLabel ?? null,
      labels: verdict.labels ?? null,
      predictedLabels: verdict.predictedLabels ?? null,
      modelVersion: state.clf.version ?? state.info?.version,
      clientId: state.clientId,
    });
    // the form is ready for the next task at once; delivery goes on in the background
    view.clearForm();
    view.showError("");
    state.edits = NO_EDITS;
    this.predictor.cancel();
    this.render(decide(null));
    view.focus("title");
    return payload;
  }

  /** A task row for `payload`, then the outbox: the row tells how delivery stands. */
  async deliver(payload) {
    const { view } = this;
    const chosenLabel = payload.labels ? payload.labels.join(", ") : payload.chosen_label;
    const row = view.addTask({ title: payload.title, chosenLabel, action: payload.action });
    const uid = uuid();
    this.tasks.set(uid, row);
    try {
      const outcome = await this.queue.submit(payload, { uid });
      if (outcome.status === "sent") view.setDelivery(row, "sent");
      else if (outcome.status === "rejected") view.setDelivery(row, "rejected", outcome);
      else view.setDelivery(row, "queued");
    } catch (err) {
      console.error("tfcls: feedback", err);
      view.setDelivery(row, "queued");
    }
    this.renderStatus();
  }

  flush() {
    return this.queue.flush().then(
      () => this.renderStatus(),
      () => this.renderStatus(),
    );
  }

  /** Send the outbox when the network comes back, and every FLUSH_EVERY_MS. */
  watchConnectivity() {
    globalThis.addEventListener("online", () => {
      this.renderStatus();
      this.flush();
    });
    globalThis.addEventListener("offline", () => this.renderStatus());
    globalThis.addEventListener("storage", (event) => {
      if (event.key === this.queue.key) this.renderStatus(); // another tab changed the outbox
    });
    setInterval(() => this.flush(), FLUSH_EVERY_MS);
  }

  /** Load the model; resolves with the classifier once it has predicted. */
  async start() {
    this.renderStatus();
    this.render(decide(null));
    this.flush();
    const tf = globalThis.tf;
    if (!tf) throw new Error("TensorFlow.js did not load");
    const fetch = globalThis.fetch.bind(globalThis);
    const bundleFetch = cachingFetch(fetch); // the worker must not download it again
    const { clf, info } = await loadModel({
      tf,
      storage: this.storage,
      fetch,
      bundleFetch,
      onCandidate: (candidate) => {
        this.state.info = candidate;
        this.state.progress = null;
        this.renderStatus();
      },
      onProgress: (fraction) => {
        this.state.progress = fraction;
        this.renderStatus();
      },
    });
    this.state.clf = clf;
    // the token GET /api/model issued or confirmed (in the answer too: storage may be off)
    this.state.clientId = clientToken(this.storage) || info.client_token || this.state.clientId;
    this.app.offlineReady = keepModelOffline(this.registration, info, undefined, { settled: bundleFetch.settled });
    return clf;
  }

  loaded(clf) {
    this.state.loading = false;
    Object.assign(this.app, { version: clf.version, backend: clf.backend, classifier: clf });
    this.view.setLabels(clf.labels);
    this.renderStatus();
    this.onInput(); // predict what was typed while loading (or show the empty state)
    this.app.warmedUp = warmUpWhenIdle(clf); // the other input lengths, when the page is idle
    return { version: clf.version, backend: clf.backend };
  }

  failed(err) {
    this.state.loading = false;
    this.state.failed = true;
    this.renderStatus();
    this.render(decide(null));
    this.view.showError(`The model could not be loaded: ${err?.message ?? err}`);
    throw err;
  }
}

function bootstrap() {
  const page = new TaskPage(new View(document), openStorage());
  page.view.bind({
    input: () => page.onInput(),
    enter: () => page.onEnter(),
    accept: () => page.commit("accept"),
    reject: () => page.commit("reject"),
    newCategory: (name) => (page.state.decision.mode === "multi" ? page.editLabels("add", name) : page.commit("new", { label: name })),
    pick: (label) => page.commit("pick", { label }),
    add: (label) => page.editLabels("add", label),
    remove: (label) => page.editLabels("remove", label),
  });
  page.watchConnectivity();
  page.registration = registerServiceWorker();
  page.app.ready = page.start().then(
    (clf) => page.loaded(clf),
    (err) => page.failed(err),
  );
  page.app.ready.catch(() => {}); // reported on the page; tests awaiting `ready` still see it
}

if (typeof document !== "undefined" && typeof window !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bootstrap, { once: true });
  else bootstrap();
}
