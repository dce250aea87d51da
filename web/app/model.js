// model.js: which model this page loads, and on which TF.js backend (no DOM; tested in Node
// by web/test/model.test.js). The client token (the signed id GET /api/model issues, kept in
// localStorage and sent back, so the server's A/B split is stable and verdicts are
// attributed), GET /api/model with the last model that loaded as the offline fallback, and
// TF.js's start-up: wasm files from /vendor, no wasm threads, a backend that hangs skipped;
// the model warmed up with realistic titles (one before it is reported loaded, the others
// while the page is idle), so the first keystroke is not the slow prediction.

import { BACKENDS, chooseBackend, configureWasm, loadClassifier } from "../sdk/tfcls.js";

export const CLIENT_TOKEN_KEY = "tfcls.client_token";
export const MODEL_INFO_KEY = "tfcls.model";
export const WASM_PATH = "/vendor/tfjs-backend-wasm/dist/";
export const BACKEND_TIMEOUT_MS = 20000; // a backend that has not started by then is skipped
// Warm-up inputs of the lengths people type (a first prediction of a new length is slow):
// the first runs before the model is reported loaded, the others when the page is idle.
export const WARM_UP_TEXTS = [
  ["Fix the login redirect bug on the settings page", ""],
  ["Standup", ""],
  ["Interview five users about the export feature", "Ask how they share reports with their team and what is missing today"],
];
export const IDLE_TIMEOUT_MS = 2000; // an idle warm-up runs by then even on a busy page

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

/** The client token the server issued this browser ("" before the first GET /api/model). */
export function clientToken(storage) {
  return safeGet(storage, CLIENT_TOKEN_KEY) ?? "";
}

/** Keep the token an answer of GET /api/model carries and return it (an answer without
 * one changes nothing: the stored token); storage that fails still gets the token back. */
export function rememberClientToken(storage, info) {
  if (typeof info?.client_token !== "string" || info.client_token === "") return clientToken(storage);
  safeSet(storage, CLIENT_TOKEN_KEY, info.client_token);
  return info.client_token;
}

/** A new client token from GET /api/model (the stored one was refused): the new token, or "". */
export async function renewClientToken({ fetch, storage, endpoint = "/api/model" }) {
  try {
    const res = await fetch(endpoint, { cache: "no-store", headers: { Accept: "application/json" } });
    if (res.ok) return rememberClientToken(storage, await res.json());
  } catch {
    // offline: the outbox keeps the verdicts and asks again on its next pass
  }
  return "";
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
export async function resolveModelInfo({ fetch, storage, endpoint = "/api/model" }) {
  const cached = cachedModelInfo(storage);
  const token = clientToken(storage);
  let fresh = null;
  let error = null;
  try {
    const query = token ? `?client_token=${encodeURIComponent(token)}` : "";
    const res = await fetch(`${endpoint}${query}`, {
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (!res.ok) throw new Error(`GET ${endpoint}: HTTP ${res.status}`);
    const info = await res.json();
    if (!isModelInfo(info)) throw new Error(`GET ${endpoint}: not a model description`);
    rememberClientToken(storage, info);
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
 * (script-src 'self') refuses, and the backend then never finishes starting; TF.js 4.22
 * also caps its pool at navigator.hardwareConcurrency / 2, and 2 threads forced on 2 cores
 * measured slower and erratic (`bench browser`). SIMD is used where the browser has it.
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

/** `fn` when the page is idle (requestIdleCallback, else a timer); resolves with its result. */
export function whenIdle(fn, { timers = globalThis, timeout = IDLE_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const run = () => Promise.resolve().then(fn).then(resolve, reject);
    if (typeof timers.requestIdleCallback === "function") timers.requestIdleCallback(run, { timeout });
    else timers.setTimeout(run, 0);
  });
}

/** The warm-up predictions after the first, one per idle period; resolves when done. */
export async function warmUpWhenIdle(clf, { texts = WARM_UP_TEXTS.slice(1), idle = whenIdle } = {}) {
  for (const [title, description] of texts) {
    try {
      await idle(() => clf.classify(title, description));
    } catch (err) {
      console.warn("tfcls: warm-up prediction failed", err);
      return;
    }
  }
}

/**
 * Start TF.js and load the first candidate model that works (GET /api/model's, then the
 * cached one), warmed up by one prediction of a realistic title so the first keystroke does
 * not compile kernels. `onCandidate(info)` is called before each try; `onProgress(fraction)`
 * as the weights download; `bundleFetch` fetches the bundle's files (default: `fetch`).
 * Resolves {clf, info}; the one that loaded is remembered in `storage`. Rejects with the
 * last failure when none loads.
 */
export async function loadModel({
  tf,
  storage,
  fetch,
  bundleFetch = fetch,
  onCandidate = () => {},
  onProgress = () => {},
  load = loadClassifier,
  start = startBackend,
}) {
  configureTf(tf);
  const [{ candidates, error }, backend] = await Promise.all([
    resolveModelInfo({ fetch, storage }),
    start(tf),
  ]);
  if (candidates.length === 0) throw error ?? new Error("no model available");
  let lastError = error;
  for (const info of candidates) {
    try {
      onCandidate(info);
      const clf = await load(info.bundle_url, { tf, backends: [backend], fetch: bundleFetch, onProgress });
      await clf.classify(...WARM_UP_TEXTS[0]); // compile kernels now, not on the first keystroke
      rememberModelInfo(storage, info);
      return { clf, info };
    } catch (err) {
      console.warn(`tfcls: model ${info.version} did not load`, err);
      lastError = err;
    }
  }
  throw lastError;
}
