// Node plumbing for the SDK (web/sdk/tfcls.js): TF.js with the wasm backend and a fetch that
// reads files. Used by tools/predict_node.mjs (export fidelity, Python↔JS parity tests).

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

const require = createRequire(import.meta.url);
setWasmPaths(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm")) + "/");

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
