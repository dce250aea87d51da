// Browser benchmark hooks, driven by `python -m tfcls.bench browser` through Playwright
// (served by the real app, under its CSP; TF.js configured as web/app/model.js does):
//   await window.tfclsBench.load(bundleUrl)  → ms from start to a classifier that has
//                                              predicted once, and its phases (backend
//                                              start, model fetch + weights, first prediction)
//   await window.tfclsBench.predict(texts)    → per-text ms of classify(title)

import { chooseBackend, configureWasm, loadClassifier } from "../sdk/tfcls.js";

let clf = null;

window.tfclsBench = {
  async load(bundleUrl) {
    const start = performance.now();
    configureWasm(globalThis.tf, "/vendor/tfjs-backend-wasm/dist/");
    await chooseBackend(globalThis.tf);
    const backendMs = performance.now() - start;
    clf = await loadClassifier(bundleUrl);
    const modelMs = performance.now() - start - backendMs;
    await clf.classify("warm up");
    const ms = performance.now() - start;
    const phases = { backend: backendMs, model: modelMs, first_prediction: ms - backendMs - modelMs };
    document.getElementById("status").textContent = `loaded ${clf.version} on ${clf.backend}`;
    return { ms, phases, backend: clf.backend, version: clf.version };
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
