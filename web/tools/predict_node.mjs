// node web/tools/predict_node.mjs BUNDLE_DIR < texts.jsonl > outputs.jsonl
//
// Runs a tfcls bundle in Node through the SDK (web/sdk/tfcls.js, tokenizer included). Each input line is
// {"text": ...} (already joined) or {"title": ..., "description": ...}; each output line
// is {"probabilities": [...], "similarity": x, "backend": "wasm"}.

import { createInterface } from "node:readline";

import { loadClassifier } from "../sdk/tfcls.js";
import { joinTitleDescription } from "../sdk/text.js";
import { fileFetch, tf } from "./node.mjs";

const BATCH = 32;

async function main() {
  const bundle = process.argv[2];
  if (!bundle) {
    console.error("usage: node predict_node.mjs BUNDLE_DIR < texts.jsonl");
    process.exit(2);
  }
  const clf = await loadClassifier(bundle, { tf, fetch: fileFetch, backends: ["wasm", "cpu"] });
  const texts = [];
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const row = JSON.parse(line);
    texts.push(row.text ?? joinTitleDescription(row.title ?? "", row.description ?? ""));
  }
  // batches of texts of similar token length (a batch is padded to its longest), written
  // back in input order
  const lengths = texts.map((t) => clf.tokenizer.encode(t).inputIds.length);
  const order = texts.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
  const lines = new Array(texts.length);
  for (let i = 0; i < order.length; i += BATCH) {
    const idx = order.slice(i, i + BATCH);
    const { probabilities, similarity } = await clf.predictTexts(idx.map((k) => texts[k]));
    idx.forEach((k, j) => {
      lines[k] = JSON.stringify({ probabilities: Array.from(probabilities[j]), similarity: similarity[j], backend: clf.backend });
    });
  }
  if (lines.length) process.stdout.write(lines.join("\n") + "\n");
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
