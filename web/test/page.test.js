// The page as served: index.html, the service worker's precache list and the module graph
// the page loads (web/app/ and web/sdk/). Importing the app's modules must not touch the
// DOM: Node has no `document`, so the bootstrap does not run.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

const WEB = new URL("../", import.meta.url);

test("importing the app's modules leaves the global scope alone", async () => {
  for (const name of ["main", "state", "model", "view", "offline", "feedback-queue"]) {
    await import(`../app/${name}.js`);
  }
  assert.equal(typeof globalThis.document, "undefined");
  assert.equal(globalThis.tfclsApp, undefined);
});

test("index.html: no inline script or style, every test id present, TF.js builds that pass the CSP", async () => {
  const { readFile } = await import("node:fs/promises");
  const html = await readFile(new URL("../index.html", import.meta.url), "utf8");
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/u); // every script is external
  assert.doesNotMatch(html, /\sstyle=/u);
  assert.doesNotMatch(html, /<style/u);
  assert.doesNotMatch(html, /\son[a-z]+=/u); // no inline event handlers
  for (const id of ["title", "description", "prediction", "chosen-labels", "accept", "new-category", "new-category-name", "reject", "task-list", "status"]) {
    assert.match(html, new RegExp(`data-testid="${id}"`, "u"), id);
  }
  assert.match(html, /data-testid="prediction"[^>]*aria-live="polite"/u);
  assert.match(html, /<label for="title">/u);
  assert.match(html, /<label for="description">/u);
  // tf.min.js calls Function() (regenerator-runtime): refused by script-src without 'unsafe-eval'
  assert.match(html, /src="\/vendor\/tfjs\/dist\/tf\.es2017\.min\.js"/u);
  assert.match(html, /src="\/vendor\/tfjs-backend-wasm\/dist\/tf-backend-wasm\.es2017\.min\.js"/u);
  assert.match(html, /<script type="module" src="\/web\/app\/main\.js"><\/script>/u);
});

test("sw.js precaches files that exist, the page's TF.js builds among them", async () => {
  const { readFile, access } = await import("node:fs/promises");
  const sw = await readFile(new URL("../sw.js", import.meta.url), "utf8");
  const html = await readFile(new URL("../index.html", import.meta.url), "utf8");
  const list = sw.slice(sw.indexOf("const SHELL = ["), sw.indexOf("];", sw.indexOf("const SHELL = [")));
  const wasmDir = /const WASM_DIR = "([^"]+)"/u.exec(sw)[1];
  const urls = [...list.matchAll(/["`]([^"`]+)["`]/gu)].map((m) => m[1].replace("${WASM_DIR}", wasmDir));
  assert.ok(urls.includes("/"));
  const root = new URL("../", import.meta.url);
  const onDisk = (url) => {
    if (url === "/") return new URL("index.html", root);
    if (url.startsWith("/web/")) return new URL(url.slice(5), root);
    const m = /^\/vendor\/(tfjs|tfjs-backend-wasm)\/(.+)$/u.exec(url);
    assert.ok(m, url);
    return new URL(`node_modules/@tensorflow/${m[1]}/${m[2]}`, root);
  };
  for (const url of urls) await access(onDisk(url));
  for (const [, src] of html.matchAll(/(?:src|href)="(\/[^"]+)"/gu)) assert.ok(urls.includes(src), `${src} is not precached`);
});

/** The SHELL list of sw.js, as URLs. */
async function shellUrls() {
  const sw = await readFile(new URL("sw.js", WEB), "utf8");
  const list = sw.slice(sw.indexOf("const SHELL = ["), sw.indexOf("];", sw.indexOf("const SHELL = [")));
  const wasmDir = /const WASM_DIR = "([^"]+)"/u.exec(sw)[1];
  return [...list.matchAll(/["`]([^"`]+)["`]/gu)].map((m) => m[1].replace("${WASM_DIR}", wasmDir));
}

/** The /web/ URLs of `url`'s static imports (import … from, export … from, import "…"). */
async function importsOf(url) {
  const source = await readFile(new URL(url.slice("/web/".length), WEB), "utf8");
  const statement = /^\s*(?:import\s+(?:[\w$*{}\s,]+\s+from\s+)?|export\s+(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s+)["']([^"']+)["']/gmu;
  const specs = [...source.matchAll(statement)].map((m) => m[1]);
  for (const spec of specs) assert.match(spec, /^\.\.?\//u, `${url} imports ${spec}: a browser needs a relative URL`);
  return specs.map((spec) => new URL(spec, `http://page${url}`).pathname);
}

test("sw.js precaches every module the page loads, and nothing it does not", async () => {
  const html = await readFile(new URL("index.html", WEB), "utf8");
  const entries = [...html.matchAll(/<script type="module" src="([^"]+)"/gu)].map((m) => m[1]);
  assert.deepEqual(entries, ["/web/app/main.js"]);
  const graph = new Set();
  const todo = [...entries];
  while (todo.length) {
    const url = todo.pop();
    if (graph.has(url)) continue;
    graph.add(url);
    todo.push(...(await importsOf(url)));
  }
  for (const url of ["/web/app/state.js", "/web/app/view.js", "/web/sdk/tfcls.js", "/web/sdk/tokenizer.js"]) {
    assert.ok(graph.has(url), `${url} is not loaded by the page`);
  }
  const shell = await shellUrls();
  for (const url of graph) assert.ok(shell.includes(url), `${url} is loaded by the page but not precached`);
  const shellModules = shell.filter((u) => u.startsWith("/web/") && u.endsWith(".js"));
  for (const url of shellModules) assert.ok(graph.has(url), `${url} is precached but the page never loads it`);
});

test("the benchmark page, tests and tools are no part of the app", async () => {
  for (const url of await shellUrls()) assert.doesNotMatch(url, /^\/web\/(?:bench|test|tools|sdk\/test)\//u, url);
  const html = await readFile(new URL("index.html", WEB), "utf8");
  assert.doesNotMatch(html, /\/web\/bench\//u);
});
