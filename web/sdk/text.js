// Text cleaning and the title/description rule: a port of tfcls/text.py, whose docstrings are
// the specification. tests/data/web_text_fixture.json holds the Python output for hundreds of
// cases and tests/test_web_tokenizer.py fuzzes both side by side.
//
// Every regex has the `u` flag, so it matches code points as Python's `re` does (an astral
// character is one character, not two UTF-16 units).

export const SENTENCE_END = ".!?:…"; // a title ending in one of these is joined by " "

// Python's str.isspace() characters, spelled out: JavaScript's \s is a different set (it has
// U+FEFF and lacks U+001C–001F and U+0085), and trim() strips \s.
const WS =
  "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0" +
  "\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const TAG = /<\/?[A-Za-z][^<>]*>|<![^<>]*>/gu;
const ENTITY = /&(?:(amp|lt|gt|quot|apos|nbsp)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));/gu;
const NAMED = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };
const LINK = /!?\[([^\[\]]*)\]\([^()]*\)/gu;
const CODE = /`([^`]+)`/gu;
const LINE_MARK = /(^|\n)[ \t]*(?:#+|>+|[-*+]|[0-9]{1,3}\.)[ \t]+/gu;
const EMPHASIS = ["**", "__", "~~", "*", "_"].map((marker) => {
  // Only "*" needs escaping (with the u flag, "\_" and "\~" are syntax errors).
  const esc = (s) => s.replaceAll("*", "\\*");
  const m = esc(marker);
  const c = esc(marker[0]);
  return new RegExp(
    `(?<![A-Za-z0-9])${m}([^${c}${WS}](?:[^${c}]*[^${c}${WS}])?)${m}(?![A-Za-z0-9])`,
    "gu",
  );
});
const TAG_START = /<(?=[A-Za-z/!])/gu;
const WS_RUN = new RegExp(`[${WS}]+`, "gu");

function decodeEntity(match, name, dec, hex) {
  if (name) return NAMED[name];
  const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex, 16);
  if (code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)) {
    return String.fromCodePoint(code);
  }
  return match;
}

function stripSpaces(text) {
  // Python's str.strip(" "): U+0020 only.
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) === 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) === 0x20) end--;
  return text.slice(start, end);
}

function cleanPass(text) {
  text = text.replace(TAG, " ");
  text = text.replace(ENTITY, decodeEntity);
  text = text.replace(LINK, "$1");
  text = text.replace(CODE, "$1");
  text = text.replace(LINE_MARK, "$1");
  for (const pattern of EMPHASIS) text = text.replace(pattern, "$1");
  text = text.replace(TAG_START, "< ");
  return stripSpaces(text.replace(WS_RUN, " "));
}

/**
 * Normalise a title or description: markup out, words kept (tfcls.text.clean_text).
 * One pass strips tags, decodes entities, removes markdown, spaces out "<" before a
 * letter/"/"/"!", and collapses whitespace; passes repeat until the text stops changing.
 */
export function cleanText(text) {
  if (typeof text !== "string") throw new TypeError(`text must be a string, got ${typeof text}`);
  let previous;
  do {
    previous = text;
    text = cleanPass(text);
  } while (text !== previous);
  return text;
}

/**
 * The model input "title. description" (tfcls.text.join_title_description): both cleaned; an
 * empty part gives the other alone; a title ending in SENTENCE_END is joined by one space.
 */
export function joinTitleDescription(title, description) {
  title = cleanText(title);
  description = cleanText(description ?? "");
  if (!description || !title) return title || description;
  return title + (SENTENCE_END.includes(title.slice(-1)) ? " " : ". ") + description;
}
