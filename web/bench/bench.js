// Browser benchmark hooks, driven by `python -m tfcls.bench browser` through Playwright
// (served by the real app; TF.js configured as web/app/model.js does, or with threads):
//   await window.tfclsBench.load(bundleUrl, {threads})
//       → {ms, phases, backend, version, threads, wasm}: ms from start to a classifier that
//         has predicted once (warm-up as the app does), its phases (backend start, model
//         fetch + weights, first prediction), the threads in use and the .wasm binary loaded.
//         threads 0: single-threaded (the app); -1: navigator.hardwareConcurrency threads
//         with TF.js's stock threaded build (needs blob: scripts: the benchmark page's CSP
//         allows them, the app's does not). TF.js 4.22 caps its pool at
//         hardwareConcurrency / 2, so for that variant the page reports twice the cores.
//   await window.tfclsBench.first(title)  → ms of the first real prediction after load,
//                                            after the app's idle-time warm-up
//   await window.tfclsBench.predict(texts) → per-text ms of classify(title)

import { WARM_UP_TEXTS, warmUpWhenIdle } from "../app/model.js";
import { chooseBackend, configureWasm, loadClassifier } from "../sdk/tfcls.js";

let clf = null;

/** The .wasm binaries this page has fetched (file names). */
function wasmLoaded() {
  return performance
    .getEntriesByType("resource")
    .map((entry) => new URL(entry.name).pathname.split("/").pop())
    .filter((name) => name.endsWith(".wasm"));
}

window.tfclsBench = {
  async load(bundleUrl, { threads = 0 } = {}) {
    const start = performance.now();
    const tf = globalThis.tf;
    const count = threads < 0 ? navigator.hardwareConcurrency : threads;
    if (count > 0) {
      // the backend uses min(threads, hardwareConcurrency / 2): report enough cores
      Object.defineProperty(navigator, "hardwareConcurrency", { value: 2 * count, configurable: true });
    }
    configureWasm(tf, "/vendor/tfjs-backend-wasm/dist/", { threads: count });
    await chooseBackend(tf);
    const backendMs = performance.now() - start;
    clf = await loadClassifier(bundleUrl);
    const modelMs = performance.now() - start - backendMs;
    await clf.classify(...WARM_UP_TEXTS[0]);
    const ms = performance.now() - start;
    const phases = { backend: backendMs, model: modelMs, first_prediction: ms - backendMs - modelMs };
    document.getElementById("status").textContent = `loaded ${clf.version} on ${clf.backend}`;
    const used = clf.backend === "wasm" ? tf.wasm.getThreadsCount() : null;
    return { ms, phases, backend: clf.backend, version: clf.version, threads: used, wasm: wasmLoaded().join(",") };
  },
  async first(title) {
    await warmUpWhenIdle(clf);
    const start = performance.now();
    await clf.classify(title);
    return performance.now() - start;
  },
  async predict(texts) {
    const times = [];
    for (const text of texts) {
      const start = performance.now();
      await clf.classify(text);
      times.push(performance.now() - start);
    }
    return times;
  },
};
document.getElementById("status").textContent = "ready";
document.body.dataset.ready = "1"; // Playwright waits on this selector (no eval under the CSP)
