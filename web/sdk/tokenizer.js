// BERT WordPiece tokenizer for the browser: the same token ids as the Python preprocessor.
//
// This is a port of `BertPreprocessorModule` (tfcls/encoders/bert.py), which is the oracle:
// tests/data/web_tokenizer_fixture.json holds its output for thousands of strings and
// tests/test_web_tokenizer.py fuzzes both side by side. No dependencies.
//
// Pipeline (every step counts Unicode code points, never UTF-16 units):
//  1. normalise: \t \n \r and \p{Z} → " "; characters of category Cc, Cf, Co, Cs and U+FFFD
//     removed. (RE2's \p{C}, which the Python side uses, has no Cn: unassigned code points are
//     kept, so JavaScript's \p{C} would be wrong here.) If lower-casing: NFD, \p{Mn} removed,
//     every "Σ" → "σ" (ICU would give a word-final "ς"), then lower-cased.
//  2. split on runs of spaces; every punctuation character (the ASCII symbol ranges or \p{P})
//     and every CJK ideograph is a word of its own (KEEP_PATTERN in bert.py).
//  3. a word of more than 100 code points is [UNK]; otherwise greedy longest-match-first
//     WordPiece with "##" continuations, and a word with any piece not in the vocabulary is
//     one [UNK] (tensorflow_text's WordpieceTokenizer; its max_bytes_per_word, 408, is never
//     reached by a word of at most 100 code points).
//  4. encode: the pieces truncated to maxSeqLen − 2, between [CLS] and [SEP].
//
// Character properties come from the JavaScript engine's Unicode tables, the Python side's
// from TensorFlow's RE2 and ICU; for characters assigned in a newer Unicode version than one
// side knows the two can differ (see tests/test_web_tokenizer.py).

export const MAX_CHARS_PER_WORD = 100; // HuggingFace WordPiece's max_input_chars_per_word
export const CONTINUATION = "##";

const KEEP_SOURCE = [
  "[!-/]",
  "[:-@]",
  "[\\[-`]",
  "[{-~]",
  "\\p{P}",
  "[\\u{4E00}-\\u{9FFF}]",
  "[\\u{3400}-\\u{4DBF}]",
  "[\\u{20000}-\\u{2A6DF}]",
  "[\\u{2A700}-\\u{2B73F}]",
  "[\\u{2B740}-\\u{2B81F}]",
  "[\\u{2B820}-\\u{2CEAF}]",
  "[\\u{F900}-\\u{FAFF}]",
  "[\\u{2F800}-\\u{2FA1F}]",
].join("|");
// A match starting with " " is a run of spaces (a delimiter); any other match is a single
// character kept as a word of its own (no KEEP range contains U+0020).
const SPLIT_RE = new RegExp(` +|${KEEP_SOURCE}`, "gu");
const WHITESPACE_RE = /[\t\n\r\p{Z}]/gu;
const REMOVED_RE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u{FFFD}]/gu;
const NONSPACING_MARK_RE = /\p{Mn}/gu;

/** Step 1: the text as the Python preprocessor's `_normalize` leaves it. */
export function normalizeText(text, lowerCase = true) {
  let t = text.replace(WHITESPACE_RE, " ").replace(REMOVED_RE, "");
  if (lowerCase) {
    t = t.normalize("NFD").replace(NONSPACING_MARK_RE, "").replaceAll("Σ", "σ").toLowerCase();
  }
  return t;
}

/** Step 2: the words of a normalised text (never empty strings). */
export function splitWords(normalized) {
  const words = [];
  let last = 0;
  for (const match of normalized.matchAll(SPLIT_RE)) {
    if (match.index > last) words.push(normalized.slice(last, match.index));
    if (match[0][0] !== " ") words.push(match[0]);
    last = match.index + match[0].length;
  }
  if (last < normalized.length) words.push(normalized.slice(last));
  return words;
}

function codePointLength(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // a high surrogate followed by a low one is one code point
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function parseVocab(vocab) {
  if (typeof vocab === "string") {
    // "\n" or "\r\n" ends a line, as for TensorFlow's TextFileInitializer (the lookup table
    // the Python preprocessor reads vocab.txt into).
    return vocab.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  }
  if (Array.isArray(vocab)) return vocab;
  throw new TypeError("vocab must be the text of vocab.txt or an array of tokens");
}

/** Fetch a vocab.txt (one token a line; the line number is the id) and return its tokens. */
export async function loadVocab(url, { fetch: fetchImpl = globalThis.fetch } = {}) {
  const response = await fetchImpl(url);
  if (!response.ok) {
    throw new Error(`could not load the vocabulary ${url}: HTTP ${response.status}`);
  }
  return parseVocab(await response.text());
}

export class WordPieceTokenizer {
  /**
   * @param {string | string[]} vocab the text of vocab.txt, or its tokens (index = id)
   * @param {{lowerCase?: boolean, maxSeqLen?: number}} options
   */
  constructor(vocab, { lowerCase = true, maxSeqLen = 256 } = {}) {
    const tokens = parseVocab(vocab);
    if (!Number.isInteger(maxSeqLen) || maxSeqLen < 2) {
      throw new RangeError(`maxSeqLen must be an integer of at least 2, got ${maxSeqLen}`);
    }
    this.lowerCase = Boolean(lowerCase);
    this.maxSeqLen = maxSeqLen;
    this.vocab = new Map();
    this.maxTokenChars = 0; // the longest vocabulary entry, in code points
    this.vocabSize = 0; // ids are 0 … vocabSize − 1
    tokens.forEach((token, id) => {
      if (!token) return;
      if (typeof token !== "string") throw new TypeError(`vocab[${id}] is not a string`);
      if (this.vocab.has(token)) {
        // TensorFlow's lookup table refuses such a file too.
        throw new Error(`vocabulary has "${token}" twice (ids ${this.vocab.get(token)} and ${id})`);
      }
      this.vocab.set(token, id);
      this.vocabSize = id + 1;
      this.maxTokenChars = Math.max(this.maxTokenChars, codePointLength(token));
    });
    for (const special of ["[CLS]", "[SEP]", "[PAD]", "[UNK]"]) {
      if (!this.vocab.has(special)) throw new Error(`vocabulary has no ${special} token`);
    }
    this.clsId = this.vocab.get("[CLS]");
    this.sepId = this.vocab.get("[SEP]");
    this.padId = this.vocab.get("[PAD]");
    this.unkId = this.vocab.get("[UNK]");
  }

  /** The word pieces of one word (at most MAX_CHARS_PER_WORD code points). */
  _wordPieces(word, out) {
    const chars = Array.from(word); // code points
    const pieces = [];
    let start = 0;
    while (start < chars.length) {
      // Longer candidates than the longest vocabulary entry cannot match: skip them.
      let end = Math.min(chars.length, start + this.maxTokenChars);
      let id;
      for (; end > start; end--) {
        const sub = chars.slice(start, end).join("");
        id = this.vocab.get(start > 0 ? CONTINUATION + sub : sub);
        if (id !== undefined) break;
      }
      if (id === undefined) {
        out.push(this.unkId); // any unknown part makes the whole word [UNK]
        return;
      }
      pieces.push(id);
      start = end;
    }
    for (const id of pieces) out.push(id);
  }

  /** Word-piece ids of a text, without [CLS]/[SEP] and not truncated. */
  tokenize(text) {
    if (typeof text !== "string") throw new TypeError(`text must be a string, got ${typeof text}`);
    const ids = [];
    for (const word of splitWords(normalizeText(text, this.lowerCase))) {
      if (codePointLength(word) > MAX_CHARS_PER_WORD) ids.push(this.unkId);
      else this._wordPieces(word, ids);
    }
    return ids;
  }

  /** Model input of one text: [CLS] pieces[: maxSeqLen − 2] [SEP], and its mask (all 1). */
  encode(text) {
    const pieces = this.tokenize(text);
    const n = Math.min(pieces.length, this.maxSeqLen - 2);
    const inputIds = new Int32Array(n + 2);
    inputIds[0] = this.clsId;
    for (let i = 0; i < n; i++) inputIds[i + 1] = pieces[i];
    inputIds[n + 1] = this.sepId;
    return { inputIds, inputMask: new Int32Array(n + 2).fill(1) };
  }

  /**
   * Model input of a batch, padded with [PAD] (mask 0) to the batch's longest text:
   * inputIds and inputMask are row-major [batch, seqLen] Int32Arrays.
   */
  encodeBatch(texts) {
    const rows = Array.from(texts, (text) => this.encode(text).inputIds);
    const batch = rows.length;
    const seqLen = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const inputIds = new Int32Array(batch * seqLen).fill(this.padId);
    const inputMask = new Int32Array(batch * seqLen);
    rows.forEach((row, b) => {
      inputIds.set(row, b * seqLen);
      inputMask.fill(1, b * seqLen, b * seqLen + row.length);
    });
    return { inputIds, inputMask, batch, seqLen };
  }
}
