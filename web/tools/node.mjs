// Node plumbing for the SDK (web/sdk/tfcls.js): TF.js with the wasm backend and a fetch that
// reads files. Used by tools/predict_node.mjs (export fidelity, Python↔JS parity tests).
//
// It loads the very builds the page loads (tf.es2017.min.js, tf-backend-wasm.es2017.min.js:
// the /vendor/ files), from ../node_modules/@tensorflow/<package>/dist/ beside this file. That
// path holds in the checkout (npm ci) and in an installed wheel, which carries only those files
// (tfcls/resources.py PACKAGED), so export fidelity runs the browser's TF.js either way.

import { readFile } from "node:fs/promises";
import Module, { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const dist = (name) => fileURLToPath(new URL(`../node_modules/@tensorflow/${name}/dist/`, import.meta.url));

const tf = require(`${dist("tfjs")}tf.es2017.min.js`);

// The wasm build is UMD and requires "@tensorflow/tfjs-core": hand it the tf loaded above,
// so the backend registers with that engine (an installed wheel has no tfjs-core to find).
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "@tensorflow/tfjs-core" ? tf : load.call(this, request, ...rest);
};
let wasm;
try {
  wasm = require(`${dist("tfjs-backend-wasm")}tf-backend-wasm.es2017.min.js`);
} finally {
  Module._load = load;
}
wasm.setWasmPaths(dist("tfjs-backend-wasm"));

/** fetch() for local paths (or file:// URLs): the bytes with status 200, else 404. */
export async function fileFetch(url) {
  const path = String(url).startsWith("file://") ? fileURLToPath(url) : String(url);
  try {
    return new Response(await readFile(path), { status: 200 });
  } catch {
    return new Response(null, { status: 404 });
  }
}

export { tf };
