// The hand-written .d.ts files declare exactly what each module exports at run time, and the
// exports map gives each entry point its own types.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const read = (name) => readFileSync(new URL(`../${name}`, import.meta.url), "utf8");
const MANIFEST = JSON.parse(read("package.json"));

/** The values a .d.ts declares (consts, functions, classes; not types or interfaces). */
function declaredValues(dts) {
  return [...dts.matchAll(/^export declare (?:const|function|class) ([A-Za-z_$][\w$]*)/gmu)]
    .map((m) => m[1])
    .sort();
}

for (const [subpath, entry] of Object.entries(MANIFEST.exports)) {
  if (typeof entry === "string") continue; // ./package.json
  test(`${subpath}: ${entry.types} declares every export of ${entry.default}`, async () => {
    const runtime = Object.keys(await import(new URL(`../${entry.default}`, import.meta.url))).sort();
    assert.deepEqual(declaredValues(read(entry.types)), runtime);
  });
}

test("the package's default types are those of its main entry", () => {
  assert.equal(MANIFEST.types, MANIFEST.exports["."].types);
  assert.equal(MANIFEST.main, MANIFEST.exports["."].default);
  // "types" first: TypeScript takes the first condition that matches
  for (const entry of Object.values(MANIFEST.exports)) {
    if (typeof entry !== "string") assert.deepEqual(Object.keys(entry), ["types", "default"]);
  }
});

for (const [file, types, name] of [
  ["tfcls.js", "index.d.ts", "Classifier"],
  ["tokenizer.js", "tokenizer.d.ts", "WordPieceTokenizer"],
]) {
  test(`${types} declares every public method of ${name}`, async () => {
    const cls = (await import(new URL(`../${file}`, import.meta.url)))[name];
    const methods = Object.getOwnPropertyNames(cls.prototype).filter((m) => m !== "constructor" && !m.startsWith("_"));
    assert.ok(methods.length > 0);
    const dts = read(types);
    const start = dts.indexOf(`export declare class ${name} `);
    assert.notEqual(start, -1, name);
    const body = dts.slice(start, dts.indexOf("\n}", start));
    for (const method of methods) assert.match(body, new RegExp(`\\n  ${method}\\(`, "u"), `${name}.${method}`);
  });
}
