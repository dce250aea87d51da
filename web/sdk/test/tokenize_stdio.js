// JSON-lines bridge to the browser tokenizer and text cleaning, for the Python fuzz tests
// (tests/test_web_tokenizer.py keeps one of these processes for a whole module).
//
//   node web/sdk/test/tokenize_stdio.js [VOCAB_PATH]      (or TFCLS_VOCAB=VOCAB_PATH)
//
// One JSON request a line on stdin, one JSON response a line on stdout (ASCII only: every
// non-ASCII character is \u-escaped, so no line separator can appear inside a response):
//   {"op": "encode", "texts": [...], "maxSeqLen": 256}
//       → {"ids": [[CLS ... SEP], ...], "pieces": [[...untruncated...], ...]}
//   {"op": "batch", "texts": [...], "maxSeqLen": 256}
//       → {"inputIds": [[...], ...], "inputMask": [[...], ...]}       (padded rows)
//   {"op": "normalize", "texts": [...]} → {"normalized": [...], "words": [[...], ...]}
//   {"op": "clean", "texts": [...]} → {"result": [...]}
//   {"op": "join", "pairs": [[title, description or null], ...]} → {"result": [...]}
// A failing request gets {"error": "message"}; the process carries on.
//
// The vocabulary is read on the first tokenizer request, so the text ops need none.
// Under `node --test` (which runs every file in test/) this file tests its own protocol.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

import { cleanText, joinTitleDescription } from "../text.js";
import { WordPieceTokenizer, normalizeText, splitWords } from "../tokenizer.js";

function asciiJson(value) {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function serve(vocabPath) {
  let vocabText = null;
  const tokenizers = new Map(); // maxSeqLen → tokenizer
  const tokenizer = (maxSeqLen = 256) => {
    if (!tokenizers.has(maxSeqLen)) {
      if (!vocabPath) throw new Error("no vocabulary: pass its path or set TFCLS_VOCAB");
      vocabText ??= readFileSync(vocabPath, "utf8");
      tokenizers.set(maxSeqLen, new WordPieceTokenizer(vocabText, { maxSeqLen }));
    }
    return tokenizers.get(maxSeqLen);
  };
  const handlers = {
    encode: ({ texts, maxSeqLen }) => {
      const tok = tokenizer(maxSeqLen);
      return {
        ids: texts.map((t) => Array.from(tok.encode(t).inputIds)),
        pieces: texts.map((t) => tok.tokenize(t)),
      };
    },
    batch: ({ texts, maxSeqLen }) => {
      const { inputIds, inputMask, batch, seqLen } = tokenizer(maxSeqLen).encodeBatch(texts);
      const row = (a, b) => Array.from(a.subarray(b * seqLen, (b + 1) * seqLen));
      const rows = (a) => Array.from({ length: batch }, (_, b) => row(a, b));
      return { inputIds: rows(inputIds), inputMask: rows(inputMask) };
    },
    normalize: ({ texts }) => {
      const normalized = texts.map((t) => normalizeText(t));
      return { normalized, words: normalized.map(splitWords) };
    },
    clean: ({ texts }) => ({ result: texts.map(cleanText) }),
    join: ({ pairs }) => ({ result: pairs.map(([t, d]) => joinTitleDescription(t, d)) }),
  };
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on("line", (line) => {
    if (!line.trim()) return;
    let response;
    try {
      const request = JSON.parse(line);
      const handler = handlers[request.op];
      if (!handler) throw new Error(`unknown op ${JSON.stringify(request.op)}`);
      response = handler(request);
    } catch (err) {
      response = { error: String(err?.stack ?? err) };
    }
    process.stdout.write(`${asciiJson(response)}\n`);
  });
}

async function selfTest() {
  const { test } = await import("node:test");
  const assert = await import("node:assert/strict");
  test("tokenize_stdio.js answers each JSON line with one ASCII JSON line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfcls-stdio-"));
    try {
      const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "##s", "!", "é"];
      writeFileSync(join(dir, "vocab.txt"), `${vocab.join("\n")}\n`);
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const args = [fileURLToPath(import.meta.url), join(dir, "vocab.txt")];
      const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "inherit"] });
      const requests = [
        { op: "encode", texts: ["Hello worlds!", "", "xyz"], maxSeqLen: 4 },
        { op: "batch", texts: ["hello", "hello world"] },
        { op: "normalize", texts: ["A\u2028É🚀"] },
        { op: "clean", texts: ["<b>x</b>\u2028y"] },
        { op: "join", pairs: [["T", null], ["T?", "d"]] },
        { op: "nope" },
      ];
      for (const r of requests) child.stdin.write(`${JSON.stringify(r)}\n`);
      child.stdin.end();
      const lines = [];
      for await (const line of readline.createInterface({ input: child.stdout })) lines.push(line);
      assert.equal(lines.length, requests.length);
      for (const line of lines) assert.match(line, /^[\x20-\x7e]*$/);
      const [encode, batch, normalize, clean, join_, error] = lines.map((l) => JSON.parse(l));
      assert.deepEqual(encode, {
        ids: [
          [2, 4, 5, 3],
          [2, 3],
          [2, 1, 3],
        ],
        pieces: [[4, 5, 6, 7], [], [1]],
      });
      assert.deepEqual(batch, {
        inputIds: [
          [2, 4, 3, 0],
          [2, 4, 5, 3],
        ],
        inputMask: [
          [1, 1, 1, 0],
          [1, 1, 1, 1],
        ],
      });
      assert.deepEqual(normalize, { normalized: ["a e🚀"], words: [["a", "e🚀"]] });
      assert.deepEqual(clean, { result: ["x y"] });
      assert.deepEqual(join_, { result: ["T", "T? d"] });
      assert.match(error.error, /unknown op/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

if (process.env.NODE_TEST_CONTEXT) {
  await selfTest();
} else {
  serve(process.argv[2] ?? process.env.TFCLS_VOCAB);
}
