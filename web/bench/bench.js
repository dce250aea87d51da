// Browser benchmark hooks, driven by `python -m tfcls.bench browser` through Playwright
// (served by the real app, under its CSP; TF.js configured as app.js does):
//   await window.tfclsBench.load(bundleUrl)  → ms from start to a classifier that has
//                                              predicted once (weights fetched, wasm compiled)
//   await window.tfclsBench.predict(texts)    → per-text ms of classify(title)

import { configureWasm, loadClassifier } from "../tfcls.js";

let clf = null;

window.tfclsBench = {
  async load(bundleUrl) {
    const start = performance.now();
    configureWasm(globalThis.tf, "/vendor/tfjs-backend-wasm/dist/");
    clf = await loadClassifier(bundleUrl);
    await clf.classify("warm up");
    const ms = performance.now() - start;
    document.getElementById("status").textContent = `loaded ${clf.version} on ${clf.backend}`;
    return { ms, backend: clf.backend, version: clf.version };
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
