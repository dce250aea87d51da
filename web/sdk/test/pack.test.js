// The SDK as a frontend gets it: `npm pack` this folder, `npm install` the tarball into a
// scratch project (offline: the SDK needs nothing from a registry) and import it by name
// there. Fails if a file is missing from (or leaks into) the tarball, if an `exports`
// entry does not resolve, or if the installed copy does not work.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const SDK = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WEB_MODULES = resolve(SDK, "..", "node_modules");
const MANIFEST = JSON.parse(readFileSync(join(SDK, "package.json"), "utf8"));

/** What the tarball must hold, and nothing else (tests, fixtures and tools stay out). */
const EXPECTED_FILES = [
  "README.md",
  "index.d.ts",
  "package.json",
  "text.d.ts",
  "text.js",
  "tfcls.js",
  "tokenizer.d.ts",
  "tokenizer.js",
];

let tmp;
let packed; // npm pack --json's entry for the tarball
let consumer; // the scratch project the tarball is installed into

/** npm without the npm_* variables of an enclosing `npm test` (they would redirect it). */
function npm(args, cwd) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_/iu.test(k) && k !== "NODE_TEST_CONTEXT"),
  );
  Object.assign(env, {
    npm_config_cache: join(tmp, "npm-cache"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  });
  return execFileSync("npm", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), "tfcls-sdk-pack-"));
  const out = npm(["pack", "--json", "--pack-destination", tmp], SDK);
  [packed] = JSON.parse(out);
  consumer = join(tmp, "consumer");
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "tfcls-sdk-consumer", version: "0.0.0", private: true, type: "module" }),
  );
  const tarball = join(tmp, packed.filename);
  npm(["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", "--ignore-scripts", tarball], consumer);
  // The optional peer dependency, as a frontend that installs TF.js has it (no download:
  // the copy in web/node_modules).
  mkdirSync(join(consumer, "node_modules", "@tensorflow"), { recursive: true });
  symlinkSync(join(WEB_MODULES, "@tensorflow", "tfjs"), join(consumer, "node_modules", "@tensorflow", "tfjs"), "dir");
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("npm pack: the tarball holds exactly the SDK's modules, types, README and package.json", () => {
  assert.equal(packed.name, MANIFEST.name);
  assert.equal(packed.version, MANIFEST.version);
  assert.ok(existsSync(join(tmp, packed.filename)), packed.filename);
  assert.deepEqual(packed.files.map((f) => f.path).sort(), EXPECTED_FILES);
  assert.deepEqual(packed.bundled, []);
});

test("package.json: every exports target, main and types is in the tarball", () => {
  const targets = [MANIFEST.main, MANIFEST.types];
  for (const entry of Object.values(MANIFEST.exports)) {
    targets.push(...(typeof entry === "string" ? [entry] : Object.values(entry)));
  }
  const files = new Set(packed.files.map((f) => f.path));
  for (const target of targets) assert.ok(files.has(target.replace(/^\.\//u, "")), `${target} is not packed`);
  assert.deepEqual(Object.keys(MANIFEST.exports), [".", "./tokenizer", "./text", "./package.json"]);
  // the SDK needs nothing installed: TF.js is passed in, so it is an optional peer only
  assert.equal(MANIFEST.dependencies, undefined);
  assert.deepEqual(Object.keys(MANIFEST.peerDependencies), ["@tensorflow/tfjs"]);
  assert.equal(MANIFEST.peerDependenciesMeta["@tensorflow/tfjs"].optional, true);
});

const CHECK = `
import { createRequire } from "node:module";
const out = {};
const names = (m) => Object.keys(m).sort();
out.resolved = Object.fromEntries(
  ["@tfcls/sdk", "@tfcls/sdk/tokenizer", "@tfcls/sdk/text"].map((s) => [s, import.meta.resolve(s)]),
);
const sdk = await import("@tfcls/sdk");
const tokenizer = await import("@tfcls/sdk/tokenizer");
const text = await import("@tfcls/sdk/text");
out.exports = { sdk: names(sdk), tokenizer: names(tokenizer), text: names(text) };
out.manifest = createRequire(import.meta.url)("@tfcls/sdk/package.json").name;
try {
  await import("@tfcls/sdk/tfcls.js");
  out.deepImport = "allowed";
} catch (err) {
  out.deepImport = err.code;
}
const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "fix", "login", "bug", "##s", "."].join("\\n");
const tok = new tokenizer.WordPieceTokenizer(vocab, { maxSeqLen: 8 });
const joined = text.joinTitleDescription("Fix **login**", "<p>bugs</p>");
out.joined = joined;
out.ids = Array.from(tok.encode(joined).inputIds);
try {
  await sdk.loadClassifier("/models/v1/");
  out.noTf = "loaded";
} catch (err) {
  out.noTf = err.message;
}
// the peer dependency: a Classifier on the real TF.js (cpu), with a stand-in graph model
const tf = await import("@tensorflow/tfjs");
await sdk.chooseBackend(tf, ["cpu"]);
const model = {
  modelSignature: { outputs: { probabilities: { name: "p" }, similarity: { name: "s" } } },
  execute: (feeds) => [tf.tensor2d([[0.1, 0.9]]), tf.tensor1d([feeds.input_mask.shape[1] / 10])],
  dispose() {},
};
const meta = { labels: ["Design", "Development"], version: "v1", threshold: 0.8, tokenizer: { vocab: "vocab.txt" } };
const clf = new sdk.Classifier(tf, model, tok, meta, "cpu");
const r = await clf.classify("Fix login", "bugs");
out.classify = { top: r.predictions[0], autoSelect: r.autoSelect, unknown: r.unknown, similarity: r.similarity, text: r.text };
const d = sdk.decide(r);
out.decide = { mode: d.mode, selected: d.selected, suggestions: d.suggestions.map((s) => s.label) };
console.log("RESULT " + JSON.stringify(out));
`;

test("installed from the tarball, the package imports by name and works", () => {
  writeFileSync(join(consumer, "check.mjs"), CHECK);
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const stdout = execFileSync(process.execPath, ["check.mjs"], {
    cwd: consumer,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"], // TF.js's "install the node backend" banner stays out
  });
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, stdout);
  const out = JSON.parse(line.slice("RESULT ".length));

  const installed = `${pathToFileURL(join(consumer, "node_modules", "@tfcls", "sdk")).href}/`;
  assert.deepEqual(out.resolved, {
    "@tfcls/sdk": `${installed}tfcls.js`,
    "@tfcls/sdk/tokenizer": `${installed}tokenizer.js`,
    "@tfcls/sdk/text": `${installed}text.js`,
  });
  assert.deepEqual(out.exports, {
    sdk: ["BACKENDS", "Classifier", "SUGGESTIONS", "chooseBackend", "classifyLabels", "classifyOutputs", "configureWasm", "decide", "loadClassifier"],
    tokenizer: ["CONTINUATION", "MAX_CHARS_PER_WORD", "WordPieceTokenizer", "loadVocab", "normalizeText", "splitWords"],
    text: ["SENTENCE_END", "cleanText", "joinTitleDescription"],
  });
  assert.equal(out.manifest, "@tfcls/sdk");
  assert.equal(out.deepImport, "ERR_PACKAGE_PATH_NOT_EXPORTED"); // only the exports map is public
  assert.equal(out.joined, "Fix login. bugs");
  assert.deepEqual(out.ids, [2, 4, 5, 8, 6, 7, 3]);
  assert.match(out.noTf, /TensorFlow\.js not found/u);
  assert.deepEqual(out.decide, { mode: "auto", selected: "Development", suggestions: ["Development", "Design"] });
  assert.deepEqual(out.classify, {
    top: { label: "Development", probability: out.classify.top.probability },
    autoSelect: true,
    unknown: false,
    similarity: out.classify.similarity,
    text: "Fix login. bugs",
  });
  assert.ok(Math.abs(out.classify.top.probability - 0.9) < 1e-6);
  assert.ok(Math.abs(out.classify.similarity - 0.7) < 1e-6); // 7 tokens: [CLS] … [SEP]
});

test("the installed types are the ones the exports map names", () => {
  const root = join(consumer, "node_modules", "@tfcls", "sdk");
  const installed = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const [subpath, entry] of Object.entries(installed.exports)) {
    if (typeof entry === "string") continue;
    assert.ok(existsSync(join(root, entry.types)), `${subpath}: ${entry.types}`);
    assert.match(readFileSync(join(root, entry.types), "utf8"), /export declare/u, subpath);
  }
});
