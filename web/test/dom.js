// A stand-in DOM for the app's Node tests (main.test.js, main-multi.test.js): the elements
// of index.html that have an id, and just enough of Element for view.js. The real browser
// run is the Playwright tests (tests/test_e2e.py, tests/test_e2e_multilabel.py).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

export class Element {
  constructor(doc, tag, id = "") {
    this.doc = doc;
    this.tagName = tag.toUpperCase();
    this.id = id;
    this.children = [];
    this.parent = null;
    this.dataset = {};
    this.hidden = false;
    this.disabled = false;
    this.value = "";
    this.type = "";
    this.className = "";
    this.listeners = {};
    this.ownText = "";
    this.attributes = {};
    const classes = new Set();
    this.classList = {
      toggle: (name, on) => (on ? classes.add(name) : classes.delete(name)),
      contains: (name) => classes.has(name),
    };
  }
  get textContent() {
    if (this.children.length === 0) return this.ownText;
    return this.children.map((c) => (typeof c === "string" ? c : c.textContent)).join("");
  }
  set textContent(text) {
    this.children = [];
    this.ownText = String(text);
  }
  setAttribute(name, value) {
    this.attributes[name] = String(value);
  }
  getAttribute(name) {
    return this.attributes[name] ?? null;
  }
  addEventListener(type, fn) {
    (this.listeners[type] ??= []).push(fn);
  }
  dispatch(type, props = {}) {
    const event = { type, target: this, defaultPrevented: false, ...props };
    event.preventDefault = () => (event.defaultPrevented = true);
    for (const fn of this.listeners[type] ?? []) fn(event);
    return event;
  }
  click() {
    if (!this.disabled) this.dispatch("click");
  }
  focus() {
    this.doc.activeElement = this;
  }
  adopt(nodes) {
    for (const n of nodes) {
      if (typeof n === "string") continue;
      if (n.parent) n.parent.children = n.parent.children.filter((c) => c !== n);
      n.parent = this;
    }
    return nodes;
  }
  append(...nodes) {
    const adopted = this.adopt(nodes); // first: it may take a node out of this.children
    this.children = [...this.children, ...adopted];
  }
  prepend(...nodes) {
    const adopted = this.adopt(nodes);
    this.children = [...adopted, ...this.children];
  }
  replaceChildren(...nodes) {
    this.children = [];
    this.append(...nodes);
  }
  *descendants() {
    for (const c of this.children) {
      if (typeof c === "string") continue;
      yield c;
      yield* c.descendants();
    }
  }
  querySelector(selector) {
    const match = selector.startsWith(".")
      ? (el) => el.className.split(" ").includes(selector.slice(1))
      : (el) => el.tagName === selector.toUpperCase();
    for (const el of this.descendants()) if (match(el)) return el;
    return null;
  }
}

/** The elements of index.html that have an id (as they start: `hidden` or not). */
export function pageDocument() {
  const html = readFileSync(new URL("../index.html", import.meta.url), "utf8");
  const doc = { readyState: "complete", activeElement: null, byId: new Map() };
  doc.createElement = (tag) => new Element(doc, tag);
  doc.getElementById = (id) => doc.byId.get(id) ?? null;
  for (const [, tag, attrs] of html.matchAll(/<([a-z0-9]+)\b([^>]*\bid="[^"]+"[^>]*)>/gu)) {
    const id = /\bid="([^"]+)"/u.exec(attrs)[1];
    const el = new Element(doc, tag, id);
    el.hidden = /\shidden\b/u.test(attrs);
    el.disabled = /\sdisabled\b/u.test(attrs);
    doc.byId.set(id, el);
  }
  // the nesting the view moves nodes within
  doc.byId.get("choices").append(doc.byId.get("new-category-form"), doc.byId.get("suggestions-block"));
  return doc;
}

/** Resolves once `check()` is true (polled every 10 ms for up to 2 s); fails naming `what`. */
export async function until(check, what) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}
