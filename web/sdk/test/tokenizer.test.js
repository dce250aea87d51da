// The browser tokenizer gives exactly the Python preprocessor's ids.
//
// The expected ids come from tests/data/web_tokenizer_fixture.json (written by
// tests/data/make_web_fixtures.py). The vocabulary is all-MiniLM-L6-v2's vocab.txt from the
// Python weights package: set TFCLS_VOCAB to its path, or the test asks the repository's
// Python (TFCLS_PYTHON, else .venv/bin/python, else python3) where the package is. Its
// sha256 must be the one the fixture was made with.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { WordPieceTokenizer, loadVocab, normalizeText } from "../tokenizer.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const FIXTURE = JSON.parse(
  readFileSync(join(ROOT, "tests", "data", "web_tokenizer_fixture.json"), "utf8"),
);

function findVocab() {
  if (process.env.TFCLS_VOCAB) return process.env.TFCLS_VOCAB;
  const venv = join(ROOT, ".venv", "bin", "python");
  const python = process.env.TFCLS_PYTHON ?? (existsSync(venv) ? venv : "python3");
  const { module, file } = FIXTURE.vocab;
  // find_spec only: importing tfcls.encoders would import TensorFlow (seconds).
  const code =
    "import importlib.util, pathlib, sys; " +
    "s = importlib.util.find_spec(sys.argv[1]); " +
    "print(pathlib.Path(s.origin).parent / sys.argv[2])";
  return execFileSync(python, ["-c", code, module, file], { encoding: "utf8" }).trim();
}

const VOCAB_PATH = findVocab();
const VOCAB_BYTES = readFileSync(VOCAB_PATH);
const VOCAB_TEXT = VOCAB_BYTES.toString("utf8");

/** Compare every entry and report all mismatches (up to 10 shown), not just the first. */
function assertAllEqual(entries, actualOf, expectedOf, what) {
  const bad = [];
  for (const e of entries) {
    const actual = actualOf(e);
    const expected = expectedOf(e);
    if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
      bad.push({ text: e.text, expected, actual });
    }
  }
  assert.equal(
    bad.length,
    0,
    `${bad.length} of ${entries.length} ${what} differ, e.g.:\n` +
      bad
        .slice(0, 10)
        .map((b) => JSON.stringify(b))
        .join("\n"),
  );
}

test("the vocabulary is the one the fixture was made with", () => {
  const sha = createHash("sha256").update(VOCAB_BYTES).digest("hex");
  assert.equal(sha, FIXTURE.vocab.sha256, `${VOCAB_PATH}: wrong vocab.txt`);
});

describe("matches the Python preprocessor", () => {
  const tok = new WordPieceTokenizer(VOCAB_TEXT, {
    lowerCase: FIXTURE.lower_case,
    maxSeqLen: FIXTURE.max_seq_len,
  });

  test(`encode(): ${FIXTURE.cases.length} fixture strings`, () => {
    assert.ok(FIXTURE.cases.length >= 2000);
    const ids = (e) => Array.from(tok.encode(e.text).inputIds);
    assertAllEqual(FIXTURE.cases, ids, (e) => e.ids, "ids");
  });

  test("tokenize(): untruncated pieces", () => {
    assert.ok(FIXTURE.cases.some((e) => e.pieces), "the fixture has truncated texts");
    const expected = (e) => e.pieces ?? e.ids.slice(1, -1);
    assertAllEqual(FIXTURE.cases, (e) => tok.tokenize(e.text), expected, "pieces");
  });

  test("encode(): the mask is all ones", () => {
    for (const e of FIXTURE.cases.slice(0, 200)) {
      const { inputIds, inputMask } = tok.encode(e.text);
      assert.ok(inputMask instanceof Int32Array && inputIds instanceof Int32Array);
      assert.equal(inputMask.length, inputIds.length);
      assert.ok(inputMask.every((m) => m === 1));
    }
  });

  test(`truncation at maxSeqLen=${FIXTURE.truncation_max_seq_len}`, () => {
    const short = new WordPieceTokenizer(VOCAB_TEXT, { maxSeqLen: FIXTURE.truncation_max_seq_len });
    const lengths = new Set(FIXTURE.truncation.map((e) => e.ids.length));
    for (const n of [14, 15, 16]) assert.ok(lengths.has(n), `a case of ${n} ids`);
    const ids = (e) => Array.from(short.encode(e.text).inputIds);
    assertAllEqual(FIXTURE.truncation, ids, (e) => e.ids, "ids");
  });

  test("encodeBatch(): the padded batch Python returns", () => {
    const { texts, input_word_ids: ids, input_mask: mask } = FIXTURE.batch;
    const out = tok.encodeBatch(texts);
    assert.equal(out.batch, ids.length);
    assert.equal(out.seqLen, ids[0].length);
    assert.deepEqual(Array.from(out.inputIds), ids.flat());
    assert.deepEqual(Array.from(out.inputMask), mask.flat());
  });
});

describe("hand-written cases", () => {
  const tok = new WordPieceTokenizer(VOCAB_TEXT);
  const { clsId: CLS, sepId: SEP, padId: PAD, unkId: UNK } = tok;
  const ids = (text, t = tok) => Array.from(t.encode(text).inputIds);

  test("special tokens are BERT's", () => {
    assert.deepEqual([PAD, UNK, CLS, SEP], [0, 100, 101, 102]);
    assert.equal(tok.vocabSize, 30522);
  });

  test("empty and whitespace-only texts are [CLS] [SEP]", () => {
    const blank = ["", " ", "   ", "\t\n\r", "\u00a0\u3000\u2028\u2029", "\u200b\ufeff\u00ad"];
    blank.push("\x00\x7f", "\ufffd");
    for (const text of blank) {
      assert.deepEqual(tok.tokenize(text), [], JSON.stringify(text));
      assert.deepEqual(ids(text), [CLS, SEP], JSON.stringify(text));
    }
  });

  test("words of 100 code points are tokenized, longer ones are [UNK]", () => {
    assert.notDeepEqual(tok.tokenize("a".repeat(100)), [UNK]);
    assert.deepEqual(tok.tokenize("a".repeat(101)), [UNK]);
    // counted in code points, not UTF-16 units (this vocabulary has no astral tokens, a
    // made-up one does): 100 astral characters are 200 units
    const astral = new WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "🚀", "##🚀"]);
    assert.deepEqual(astral.tokenize("🚀".repeat(60)), [4, ...Array(59).fill(5)]);
    assert.deepEqual(astral.tokenize("🚀".repeat(100)), [4, ...Array(99).fill(5)]);
    assert.deepEqual(astral.tokenize("🚀".repeat(101)), [1]);
    // and after normalisation: combining accents are gone by then
    assert.deepEqual(tok.tokenize("e\u0301".repeat(100)), tok.tokenize("e".repeat(100)));
  });

  test("one unknown piece makes the whole word [UNK]", () => {
    assert.deepEqual(tok.tokenize("hello\u0378world"), [UNK]);
    const [hello, world] = [tok.vocab.get("hello"), tok.vocab.get("world")];
    assert.deepEqual(tok.tokenize("hello \u0378 world"), [hello, UNK, world]);
  });

  test("truncation boundary: maxSeqLen − 2 pieces are kept", () => {
    const t = new WordPieceTokenizer(VOCAB_TEXT, { maxSeqLen: 8 });
    const a = t.vocab.get("a");
    for (const n of [5, 6, 7, 20]) {
      const text = Array(n).fill("a").join(" ");
      assert.deepEqual(t.tokenize(text), Array(n).fill(a));
      assert.deepEqual(ids(text, t), [CLS, ...Array(Math.min(n, 6)).fill(a), SEP]);
    }
    const two = new WordPieceTokenizer(VOCAB_TEXT, { maxSeqLen: 2 });
    assert.deepEqual(ids("a a a", two), [CLS, SEP]);
    assert.throws(() => new WordPieceTokenizer(VOCAB_TEXT, { maxSeqLen: 1 }), RangeError);
  });

  test("encodeBatch pads with [PAD] and mask 0 to the longest text", () => {
    const texts = ["a", "", "a a a"];
    const { inputIds, inputMask, batch, seqLen } = tok.encodeBatch(texts);
    const a = tok.vocab.get("a");
    assert.equal(batch, 3);
    assert.equal(seqLen, 5);
    assert.deepEqual(Array.from(inputIds), [
      ...[CLS, a, SEP, PAD, PAD],
      ...[CLS, SEP, PAD, PAD, PAD],
      ...[CLS, a, a, a, SEP],
    ]);
    assert.deepEqual(Array.from(inputMask), [1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1]);
    const empty = tok.encodeBatch([]);
    assert.equal(empty.batch, 0);
    assert.equal(empty.inputIds.length, 0);
  });

  test("lower-casing can be turned off", () => {
    const cased = new WordPieceTokenizer(VOCAB_TEXT, { lowerCase: false });
    assert.equal(normalizeText("Café ΟΔΟΣ", false), "Café ΟΔΟΣ");
    assert.equal(normalizeText("Café ΟΔΟΣ"), "cafe οδοσ");
    assert.deepEqual(cased.tokenize("hello world"), tok.tokenize("hello world"));
    assert.notDeepEqual(cased.tokenize("HELLO"), tok.tokenize("HELLO"));
  });

  test("rejects bad input and bad vocabularies", () => {
    assert.throws(() => tok.tokenize(undefined), TypeError);
    assert.throws(() => new WordPieceTokenizer(["a", "b"]), /no \[CLS\]/);
    const twice = ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "x", "x"];
    assert.throws(() => new WordPieceTokenizer(twice), /twice/);
  });

  test("a vocabulary array and vocab.txt text (\\n or \\r\\n) give the same tokenizer", () => {
    const lines = VOCAB_TEXT.split("\n");
    const fromArray = new WordPieceTokenizer(lines);
    const fromCrlf = new WordPieceTokenizer(lines.join("\r\n"));
    const text = "Fix login redirect bug 🚀 café";
    assert.deepEqual(fromArray.tokenize(text), tok.tokenize(text));
    assert.deepEqual(fromCrlf.tokenize(text), tok.tokenize(text));
  });
});

describe("loadVocab", () => {
  let server;
  let base;
  before(async () => {
    const http = await import("node:http");
    server = http.createServer((req, res) => {
      if (req.url === "/vocab.txt") {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        res.end(VOCAB_BYTES);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((ok) => server.close(ok)));

  test("fetches the tokens of a vocab.txt", async () => {
    const tokens = await loadVocab(`${base}/vocab.txt`);
    assert.equal(tokens[101], "[CLS]");
    const tok = new WordPieceTokenizer(tokens);
    const expected = new WordPieceTokenizer(VOCAB_TEXT).tokenize("hello world");
    assert.deepEqual(tok.tokenize("hello world"), expected);
  });

  test("an HTTP error is an error", async () => {
    await assert.rejects(loadVocab(`${base}/missing.txt`), /HTTP 404/);
  });
});
