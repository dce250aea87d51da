// The browser's cleanText / joinTitleDescription give exactly what tfcls/text.py gives.
//
// The expected strings come from tests/data/web_text_fixture.json (written by
// tests/data/make_web_fixtures.py).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { SENTENCE_END, cleanText, joinTitleDescription } from "../text.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const FIXTURE = JSON.parse(
  readFileSync(join(ROOT, "tests", "data", "web_text_fixture.json"), "utf8"),
);

function assertAllEqual(entries, actualOf, expectedOf, what) {
  const bad = entries
    .map((e) => ({ entry: e, expected: expectedOf(e), actual: actualOf(e) }))
    .filter((b) => b.actual !== b.expected);
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

describe("matches tfcls/text.py", () => {
  test(`cleanText: ${FIXTURE.clean.length} fixture cases`, () => {
    assert.ok(FIXTURE.clean.length >= 500);
    assertAllEqual(FIXTURE.clean, (e) => cleanText(e.text), (e) => e.clean, "cleaned texts");
  });

  test(`joinTitleDescription: ${FIXTURE.join.length} fixture cases`, () => {
    assert.ok(FIXTURE.join.some((e) => e.description === null));
    assertAllEqual(
      FIXTURE.join,
      (e) => joinTitleDescription(e.title, e.description),
      (e) => e.joined,
      "joined texts",
    );
  });

  test("cleanText is idempotent on every fixture case", () => {
    assertAllEqual(FIXTURE.clean, (e) => cleanText(e.clean), (e) => e.clean, "re-cleaned texts");
  });
});

describe("hand-written cases", () => {
  test("empty and whitespace-only texts clean to the empty string", () => {
    const blank = [
      "",
      " ",
      "\t\n\r\x0b\x0c",
      "\x1c\x1d\x1e\x1f\x85\u00a0\u1680",
      "\u2000\u200a\u2028\u2029\u202f\u205f\u3000",
    ];
    for (const text of blank) {
      assert.equal(cleanText(text), "", JSON.stringify(text));
    }
  });

  test("whitespace is Python's str.isspace(), not JavaScript's \\s or trim()", () => {
    assert.equal(cleanText("\ufeffx\ufeff"), "\ufeffx\ufeff"); // \s has U+FEFF, isspace() not
    assert.equal(cleanText("a\x1cb\x85c"), "a b c"); // \s lacks these, isspace() has them
    assert.equal(cleanText("\u180ex\u200b"), "\u180ex\u200b");
  });

  test("the examples of the specification", () => {
    const cases = [
      ["<p>Hello</p><br/>world", "Hello world"],
      ["&lt;b&gt;bold&lt;/b&gt; and <b>real</b>", "< b>bold< /b> and real"],
      ["&amp;lt;b&amp;gt; twice escaped", "< b> twice escaped"],
      [
        "&#65;&#x42;&#X43; &#xD800; &#0; &#12345678; &eacute;",
        "ABC &#xD800; &#0; &#12345678; &eacute;",
      ],
      ["&#x1F680;&#128640;", "🚀🚀"],
      ["![diagram](img.png) and [docs](https://x.y/z?a=1)", "diagram and docs"],
      ["**bold** __strong__ *em* _em_ ~~gone~~ ***both***", "bold strong em em gone both"],
      ["snake_case_words, 2*3*4 and a * b * c", "snake_case_words, 2*3*4 and a * b * c"],
      [
        "# Heading\n## Sub\n- one\n* two\n+ three\n1. four\n> quoted",
        "Heading Sub one two three four quoted",
      ],
      ["# # x", "x"],
      ["*😀*", "😀"],
    ];
    for (const [raw, clean] of cases) assert.equal(cleanText(raw), clean, JSON.stringify(raw));
  });

  test("join rule", () => {
    assert.equal(SENTENCE_END, ".!?:…");
    assert.equal(joinTitleDescription("Fix bug", "It crashes"), "Fix bug. It crashes");
    for (const end of SENTENCE_END) {
      assert.equal(joinTitleDescription(`Fix bug${end}`, "x"), `Fix bug${end} x`);
    }
    assert.equal(joinTitleDescription("Fix bug", null), "Fix bug");
    assert.equal(joinTitleDescription("Fix bug", undefined), "Fix bug");
    assert.equal(joinTitleDescription("Fix bug", " <br/> "), "Fix bug");
    assert.equal(joinTitleDescription("", "desc"), "desc");
    assert.equal(joinTitleDescription("  ", ""), "");
    assert.equal(joinTitleDescription("Rocket 🚀", "go"), "Rocket 🚀. go");
  });

  test("non-strings are rejected, as in Python", () => {
    assert.throws(() => cleanText(null), TypeError);
    assert.throws(() => joinTitleDescription(undefined, "x"), TypeError);
  });
});
