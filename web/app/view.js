// view.js: the task form's DOM (web/index.html): reads the inputs, renders the status line,
// the prediction panel and the task list, and turns DOM events into calls of the handlers
// main.js binds. No decisions are made here: they come from the SDK's decide() and state.js.
// On a multi-label model the chosen labels are chips (each with a × button) and the other
// labels "+ label" buttons; keyboard focus stays on a chip or button when one goes away.

import { deliveryText, formatPercent, formatPrediction, formatSelection, suggestionsToShow } from "./state.js";

/** The page's elements, by id. */
function elements(doc) {
  const $ = (id) => doc.getElementById(id);
  return {
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
    newCategoryButton: $("new-category"),
    labelsBlock: $("labels-block"),
    chosenLabels: $("chosen-labels"),
    labelsEmpty: $("labels-empty"),
    knownLabels: $("known-labels"),
    accept: $("accept"),
    reject: $("reject"),
    taskList: $("task-list"),
    tasksEmpty: $("tasks-empty"),
  };
}

function span(doc, className, text = "") {
  const el = doc.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}

/** A suggestion button: "Label 42%", which calls onPick(label). */
function suggestionButton(doc, suggestion, onPick) {
  const button = doc.createElement("button");
  button.type = "button";
  button.className = "suggestion";
  button.dataset.testid = "suggestion";
  button.dataset.label = suggestion.label;
  const name = span(doc, "suggestion-label", suggestion.label);
  const pct = span(doc, "suggestion-probability", formatPercent(suggestion.probability));
  button.append(name, " ", pct);
  button.addEventListener("click", () => onPick(suggestion.label));
  return button;
}

/** A chip for a chosen label: "bug 87%" and a × button (aria "Remove bug") calling onRemove. */
function chip(doc, { label, probability, isNew }, onRemove) {
  const li = doc.createElement("li");
  li.className = isNew ? "chip chip-new" : "chip";
  li.dataset.testid = "chip";
  li.dataset.label = label;
  li.append(span(doc, "chip-label", label));
  li.append(" ", span(doc, "chip-probability", isNew ? "new" : formatPercent(probability)));
  const remove = doc.createElement("button");
  remove.type = "button";
  remove.className = "chip-remove";
  remove.dataset.testid = "chip-remove";
  remove.setAttribute("aria-label", `Remove ${label}`);
  remove.textContent = "×";
  remove.addEventListener("click", () => onRemove(label));
  li.append(remove);
  return li;
}

/** A "+ label 42%" button (aria "Add label, 42%") calling onAdd(label). */
function addButton(doc, { label, probability }, onAdd) {
  const button = suggestionButton(doc, { label, probability }, onAdd);
  button.className = "suggestion suggestion-add";
  button.dataset.testid = "label-add";
  button.prepend(span(doc, "suggestion-plus", "+"), " ");
  button.setAttribute("aria-label", `Add ${label}, ${formatPercent(probability)}`);
  return button;
}

/** A row of the task list: title, then "category · action · delivery". */
function taskRow(doc, { title, chosenLabel, action }) {
  const li = doc.createElement("li");
  li.className = "task";
  li.dataset.testid = "task";
  li.dataset.action = action;
  const meta = span(doc, "task-meta");
  const category = span(doc, "task-category", chosenLabel ?? "no category");
  const act = span(doc, "task-action", action.replace("_", " "));
  meta.append(category, " · ", act, " · ", span(doc, "task-delivery"));
  li.append(span(doc, "task-title", title), meta);
  return li;
}

export class View {
  constructor(doc = globalThis.document) {
    this.doc = doc;
    this.ui = elements(doc);
    this.layout = null; // the choices layout last rendered ("unknown" puts new category first)
    this.handlers = { pick() {}, add() {}, remove() {} };
    this.multi = false; // the last render was of a multi-label decision
  }

  /** What the user has typed. */
  input() {
    return { title: this.ui.title.value, description: this.ui.description.value };
  }

  /** Empty the form for the next task. */
  clearForm() {
    this.ui.title.value = "";
    this.ui.description.value = "";
    this.ui.newCategoryName.value = "";
  }

  /** Empty the label / new-category input (a label was added from it). */
  clearLabelInput() {
    this.ui.newCategoryName.value = "";
  }

  /** Focus an element of `ui` ("title", "newCategoryName", …). */
  focus(name) {
    this.ui[name].focus();
  }

  showError(message) {
    this.ui.error.textContent = message ?? "";
    this.ui.error.hidden = !message;
  }

  /** The status line: `parts` from statusParts(), plus data-online / data-queued. */
  renderStatus(parts, { online, queued }) {
    const { ui } = this;
    ui.statusModel.textContent = parts.model;
    ui.statusNetwork.textContent = parts.network;
    ui.statusQueue.textContent = parts.queue;
    ui.status.dataset.online = String(online);
    ui.status.dataset.queued = String(queued);
  }

  /** Put the new-category form first when the text looks like no known category. */
  layoutChoices(mode) {
    const layout = mode === "unknown" ? "unknown" : "default";
    if (this.layout === layout) return;
    // Moving nodes is done only when the mode changes, which happens while the user types
    // in the title or description, so focus is never inside the moved nodes.
    if (layout === "unknown") this.ui.choices.prepend(this.ui.newCategoryForm);
    else this.ui.choices.append(this.ui.newCategoryForm);
    this.layout = layout;
  }

  /**
   * The prediction panel for `decision` (the SDK's decide()), once the model is loaded or
   * failed. A multi-label decision also needs `labelSet`: {chosen: [{label, probability,
   * isNew}], addable: [{label, probability}]} (state.js chosenLabels / labelsToAdd).
   */
  render(decision, { loaded, failed, labelSet = null }) {
    this.multi = decision.mode === "multi";
    this.renderLabels(decision, labelSet);
    if (this.multi) {
      this.renderMulti(decision, labelSet);
      return;
    }
    const { ui } = this;
    const { mode } = decision;
    const p = ui.prediction;
    p.dataset.state = failed ? "error" : loaded ? mode : "loading";
    p.dataset.label = decision.top?.label ?? "";
    p.classList.toggle("is-auto", mode === "auto");
    p.classList.toggle("is-unknown", mode === "unknown");
    ui.autoBadge.hidden = mode !== "auto";
    ui.unknownNote.hidden = mode !== "unknown";
    if (failed) ui.predictionText.textContent = "The model could not be loaded.";
    else if (!loaded) ui.predictionText.textContent = "Loading the model…";
    else if (mode === "empty") ui.predictionText.textContent = "Type a title to get a category.";
    else ui.predictionText.textContent = formatPrediction(decision.top);

    const shown = mode === "empty" ? [] : suggestionsToShow(decision);
    ui.choices.hidden = mode === "empty";
    this.layoutChoices(mode);
    ui.suggestionsBlock.hidden = shown.length === 0;
    ui.suggestionsHeading.textContent =
      mode === "auto" ? "Not right? Pick another" : mode === "unknown" ? "Or pick one of your categories" : "Pick a category";
    ui.newCategoryLabel.textContent = mode === "unknown" ? "Add a new category (suggested)" : "Add a new category";
    ui.suggestions.replaceChildren(...shown.map((s) => suggestionButton(this.doc, s, (label) => this.handlers.pick(label))));

    ui.accept.disabled = !decision.selected;
    ui.accept.textContent = decision.selected ? `Accept ${decision.selected}` : "Accept";
    ui.reject.disabled = !loaded || mode === "empty";
    ui.newCategoryButton.textContent = "Add category";
  }

  /** The chips block: shown for a multi-label decision only. */
  renderLabels(decision, labelSet) {
    const { ui } = this;
    const chosen = this.multi ? labelSet?.chosen ?? [] : [];
    ui.labelsBlock.hidden = !this.multi;
    ui.labelsEmpty.hidden = chosen.length > 0;
    ui.chosenLabels.replaceChildren(...chosen.map((c) => chip(this.doc, c, (label) => this.removeLabel(label))));
  }

  /** A multi-label decision: the selection in words, "+ label" buttons, accept the set. */
  renderMulti(decision, labelSet) {
    const { ui } = this;
    const chosen = labelSet?.chosen ?? [];
    const p = ui.prediction;
    p.dataset.state = "multi";
    p.dataset.label = decision.top.label;
    p.classList.toggle("is-auto", decision.selected.length > 0);
    p.classList.toggle("is-unknown", false);
    ui.autoBadge.hidden = decision.selected.length === 0;
    ui.unknownNote.hidden = true;
    ui.predictionText.textContent = formatSelection(decision);
    ui.choices.hidden = false;
    this.layoutChoices("multi");
    const addable = labelSet?.addable ?? [];
    ui.suggestionsBlock.hidden = addable.length === 0;
    ui.suggestionsHeading.textContent = "Add a label";
    ui.newCategoryLabel.textContent = "Add another label";
    ui.newCategoryButton.textContent = "Add label";
    ui.suggestions.replaceChildren(...addable.map((s) => addButton(this.doc, s, (label) => this.addLabel(label))));
    ui.accept.disabled = chosen.length === 0;
    ui.accept.textContent = chosen.length === 0 ? "Accept" : `Accept ${chosen.length} label${chosen.length === 1 ? "" : "s"}`;
    ui.reject.disabled = false;
  }

  /** A chip's ×: remove it, then focus the chip now in its place (else the label input). */
  removeLabel(label) {
    const index = Array.from(this.ui.chosenLabels.children).findIndex((c) => c.dataset.label === label);
    this.handlers.remove(label);
    const chips = Array.from(this.ui.chosenLabels.children);
    (chips[Math.min(index, chips.length - 1)]?.querySelector(".chip-remove") ?? this.ui.newCategoryName).focus();
  }

  /** A "+ label" button: add it, then focus the button now in its place (else the label input). */
  addLabel(label) {
    const index = Array.from(this.ui.suggestions.children).findIndex((b) => b.dataset.label === label);
    this.handlers.add(label);
    const buttons = Array.from(this.ui.suggestions.children);
    (buttons[Math.min(index, buttons.length - 1)] ?? this.ui.newCategoryName).focus();
  }

  /** Keyboard users after Enter with nothing to accept: to the first choice. */
  focusChoices(mode) {
    const first = mode === "unknown" || mode === "multi" ? this.ui.newCategoryName : this.ui.suggestions.querySelector("button");
    (first ?? this.ui.newCategoryName).focus();
  }

  /** The model's labels, offered while typing a category name. */
  setLabels(labels) {
    this.ui.knownLabels.replaceChildren(
      ...labels.map((label) => {
        const option = this.doc.createElement("option");
        option.value = label;
        return option;
      }),
    );
  }

  /** A new row in the task list, "sending"; returns it for setDelivery(). */
  addTask(task) {
    const li = taskRow(this.doc, task);
    this.ui.taskList.append(li);
    this.ui.tasksEmpty.hidden = true;
    this.setDelivery(li, "sending");
    return li;
  }

  setDelivery(li, delivery, error = null) {
    li.dataset.state = delivery;
    li.querySelector(".task-delivery").textContent = deliveryText(delivery, error);
  }

  /**
   * Call `handlers` on user gestures: input() on typing, enter() on Enter in the title
   * (not while composing, nor with Shift/Alt), accept(), reject(), newCategory(name),
   * pick(label) on a suggestion; on a multi-label model add(label) for a "+ label" button,
   * remove(label) for a chip's × (or Backspace in the empty label input: the last chip).
   */
  bind(handlers) {
    const { ui } = this;
    this.handlers = handlers;
    ui.title.addEventListener("input", () => handlers.input());
    ui.description.addEventListener("input", () => handlers.input());
    ui.title.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing || event.shiftKey || event.altKey) return;
      event.preventDefault();
      handlers.enter();
    });
    ui.accept.addEventListener("click", () => handlers.accept());
    ui.reject.addEventListener("click", () => handlers.reject());
    ui.newCategoryForm.addEventListener("submit", (event) => {
      event.preventDefault();
      handlers.newCategory(ui.newCategoryName.value);
    });
    ui.newCategoryName.addEventListener("keydown", (event) => {
      if (!this.multi || event.key !== "Backspace" || ui.newCategoryName.value !== "") return;
      const last = Array.from(ui.chosenLabels.children).at(-1);
      if (!last) return;
      event.preventDefault();
      handlers.remove(last.dataset.label);
    });
  }
}
