// Types of @tfcls/sdk/tokenizer (tokenizer.js): BERT WordPiece, the Python preprocessor's ids.

/** Words longer than this many code points are one [UNK] (HuggingFace's max_input_chars_per_word). */
export declare const MAX_CHARS_PER_WORD: 100;
/** The prefix of a word piece that continues a word. */
export declare const CONTINUATION: "##";

/** Step 1 of the pipeline: the text as the Python preprocessor's `_normalize` leaves it. */
export declare function normalizeText(text: string, lowerCase?: boolean): string;

/** Step 2: the words of a normalised text (never empty strings). */
export declare function splitWords(normalized: string): string[];

/** The part of the Fetch API's Response that the SDK reads. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
  json(): Promise<any>;
}

/** A fetch() (the global one, or e.g. a file reader in Node). */
export type FetchLike = (url: string, init?: any) => Promise<ResponseLike>;

/** Fetch a vocab.txt (one token a line; the line number is the id) and return its tokens. */
export declare function loadVocab(url: string, options?: { fetch?: FetchLike }): Promise<string[]>;

export interface WordPieceTokenizerOptions {
  /** Lower-case and strip accents first (default true, as for uncased BERT models). */
  lowerCase?: boolean;
  /** The longest encoded input, [CLS] and [SEP] included (an integer ≥ 2; default 256). */
  maxSeqLen?: number;
}

/** One encoded text: [CLS] pieces[: maxSeqLen − 2] [SEP] and its mask (all 1). */
export interface Encoding {
  inputIds: Int32Array;
  inputMask: Int32Array;
}

/** A batch padded with [PAD] (mask 0) to its longest text: row-major [batch, seqLen]. */
export interface BatchEncoding {
  inputIds: Int32Array;
  inputMask: Int32Array;
  batch: number;
  seqLen: number;
}

export declare class WordPieceTokenizer {
  /**
   * @param vocab the text of vocab.txt ("\n" or "\r\n" lines), or its tokens (index = id);
   *   it must hold [CLS], [SEP], [PAD] and [UNK], each token once.
   */
  constructor(vocab: string | readonly string[], options?: WordPieceTokenizerOptions);
  readonly lowerCase: boolean;
  readonly maxSeqLen: number;
  /** token → id */
  readonly vocab: Map<string, number>;
  /** The longest vocabulary entry, in code points. */
  readonly maxTokenChars: number;
  /** Ids are 0 … vocabSize − 1. */
  readonly vocabSize: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  /** Word-piece ids of a text, without [CLS]/[SEP] and not truncated. */
  tokenize(text: string): number[];
  /** Model input of one text. */
  encode(text: string): Encoding;
  /** Model input of a batch. */
  encodeBatch(texts: Iterable<string>): BatchEncoding;
}
