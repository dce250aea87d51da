// feedback-queue.js: the durable outbox, with an in-memory storage and a fake fetch.

import assert from "node:assert/strict";
import { test } from "node:test";

import { FeedbackQueue, MemoryStorage, STORAGE_KEY, uuid } from "../app/feedback-queue.js";

const payload = (title) => ({
  title,
  description: "",
  predicted_label: "Development",
  confidence: 0.97,
  chosen_label: "Development",
  action: "accepted",
  model_version: "v1",
  client_id: "c1",
});

function response(status, body = {}) {
  return {
    status,
    ok: status >= 200 && status < 300,
    json: async () => body,
  };
}

/**
 * A fetch double: `mode` is "online" (201 with increasing ids), "offline" (rejects like a
 * lost connection) or a status number; `calls` records the titles it was given, in order.
 */
function fakeServer() {
  const server = { mode: "online", calls: [], nextId: 1, gate: null };
  server.fetch = async (url, init) => {
    assert.equal(url, "/api/feedback");
    assert.equal(init.method, "POST");
    assert.equal(init.headers["Content-Type"], "application/json");
    const body = JSON.parse(init.body);
    if (server.gate) await server.gate; // hold requests to interleave calls
    if (server.mode === "offline") throw new TypeError("Failed to fetch");
    server.calls.push(body.title);
    if (typeof server.mode === "number") {
      return response(server.mode, server.mode === 400 ? { errors: { title: "must not be empty" } } : {});
    }
    return response(201, { id: server.nextId++ });
  };
  return server;
}

test("uuid is a v4 UUID, with or without crypto.randomUUID", () => {
  const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/u;
  assert.match(uuid(), re);
  const insecure = { getRandomValues: (a) => globalThis.crypto.getRandomValues(a) };
  assert.match(uuid(insecure), re);
  assert.notEqual(uuid(insecure), uuid(insecure));
});

test("sent immediately when online; nothing stays pending", async () => {
  const server = fakeServer();
  const storage = new MemoryStorage();
  const queue = new FeedbackQueue({ storage, fetch: server.fetch });
  const r = await queue.submit(payload("a"));
  assert.equal(r.status, "sent");
  assert.equal(r.id, 1);
  assert.equal(typeof r.uid, "string");
  assert.deepEqual(server.calls, ["a"]);
  assert.deepEqual(queue.pending(), []);
  assert.deepEqual(JSON.parse(storage.getItem(STORAGE_KEY)), []);
});

test("queued when fetch rejects, persisted across a reload, replayed in order", async () => {
  const server = fakeServer();
  const storage = new MemoryStorage();
  server.mode = "offline";
  const first = new FeedbackQueue({ storage, fetch: server.fetch });
  assert.equal((await first.submit(payload("a"))).status, "queued");
  assert.equal((await first.submit(payload("b"))).status, "queued");
  assert.equal((await first.submit(payload("c"))).status, "queued");
  assert.deepEqual(first.pending().map((it) => it.payload.title), ["a", "b", "c"]);
  assert.equal(await first.flush(), 0);

  // a reload: a new queue on the same storage
  const reloaded = new FeedbackQueue({ storage, fetch: server.fetch });
  const pending = reloaded.pending();
  assert.deepEqual(pending.map((it) => it.payload.title), ["a", "b", "c"]);
  assert.equal(new Set(pending.map((it) => it.uid)).size, 3);
  assert.deepEqual(pending[0].payload, payload("a"));

  server.mode = "online";
  assert.equal(await reloaded.flush(), 3);
  assert.deepEqual(server.calls, ["a", "b", "c"]);
  assert.deepEqual(reloaded.pending(), []);
  assert.equal(await reloaded.flush(), 0);
  assert.deepEqual(server.calls, ["a", "b", "c"]);
});

test("flush stops at the first network failure and keeps the order", async () => {
  const server = fakeServer();
  const storage = new MemoryStorage();
  const queue = new FeedbackQueue({ storage, fetch: server.fetch });
  server.mode = "offline";
  await queue.submit(payload("a"));
  await queue.submit(payload("b"));
  let attempts = 0;
  const flaky = async (url, init) => {
    attempts += 1;
    if (attempts === 2) throw new TypeError("Failed to fetch"); // "b" fails
    return response(201, { id: attempts });
  };
  const q2 = new FeedbackQueue({ storage, fetch: flaky });
  assert.equal(await q2.flush(), 1);
  assert.equal(attempts, 2);
  assert.deepEqual(q2.pending().map((it) => it.payload.title), ["b"]);
});

test("exactly once with two concurrent flush() calls", async () => {
  const server = fakeServer();
  const storage = new MemoryStorage();
  server.mode = "offline";
  const queue = new FeedbackQueue({ storage, fetch: server.fetch });
  for (const t of ["a", "b", "c"]) await queue.submit(payload(t));
  server.mode = "online";
  let open;
  server.gate = new Promise((resolve) => {
    open = resolve;
  });
  const one = queue.flush();
  const two = queue.flush();
  const three = queue.flush();
  open();
  server.gate = null;
  const counts = await Promise.all([one, two, three]);
  assert.deepEqual(server.calls, ["a", "b", "c"]);
  assert.equal(counts[0] + counts[1], 3);
  assert.equal(counts[1], counts[2]); // the calls made during a pass share the next pass
  assert.deepEqual(queue.pending(), []);
});

test("an item submitted while a flush is sending is sent too, once", async () => {
  const server = fakeServer();
  const storage = new MemoryStorage();
  server.mode = "offline";
  const queue = new FeedbackQueue({ storage, fetch: server.fetch });
  await queue.submit(payload("a"));
  server.mode = "online";
  let open;
  server.gate = new Promise((resolve) => {
    open = resolve;
  });
  const flushing = queue.flush();
  const submitting = queue.submit(payload("b"));
  open();
  server.gate = null;
  const [, r] = await Promise.all([flushing, submitting]);
  assert.equal(r.status, "sent");
  assert.deepEqual(server.calls, ["a", "b"]);
  assert.deepEqual(queue.pending(), []);
});

test("5xx keeps the item queued and stops; it is sent once the server recovers", async () => {
  const server = fakeServer();
  const queue = new FeedbackQueue({ storage: new MemoryStorage(), fetch: server.fetch });
  server.mode = 503;
  assert.equal((await queue.submit(payload("a"))).status, "queued");
  assert.equal((await queue.submit(payload("b"))).status, "queued");
  // "a" is retried each time and stops the pass: "b" never overtakes it
  assert.deepEqual(server.calls, ["a", "a"]);
  assert.equal(queue.pending().length, 2);
  for (const status of [500, 502, 429, 408, 404]) {
    server.mode = status;
    assert.equal(await queue.flush(), 0);
  }
  assert.equal(queue.pending().length, 2);
  server.mode = "online";
  assert.equal(await queue.flush(), 2);
  assert.deepEqual(server.calls.slice(-2), ["a", "b"]);
});

test("400/413/415 drop the item, report it, and do not block the queue", async () => {
  const server = fakeServer();
  const events = [];
  const storage = new MemoryStorage();
  server.mode = "offline";
  const queue = new FeedbackQueue({ storage, fetch: server.fetch, onChange: (e) => events.push(e) });
  await queue.submit(payload("bad"));
  await queue.submit(payload("good"));

  let n = 0;
  const server2 = async (url, init) => {
    n += 1;
    const { title } = JSON.parse(init.body);
    return title === "bad" ? response(400, { errors: { title: "too long" } }) : response(201, { id: 7 });
  };
  const q2 = new FeedbackQueue({ storage, fetch: server2, onChange: (e) => events.push(e) });
  assert.equal(await q2.flush(), 1);
  assert.equal(n, 2);
  assert.deepEqual(q2.pending(), []);
  const dropped = events.filter((e) => e.type === "dropped");
  assert.equal(dropped.length, 1);
  assert.equal(dropped[0].item.payload.title, "bad");
  assert.deepEqual(dropped[0].error, { httpStatus: 400, errors: { title: "too long" } });

  for (const status of [400, 413, 415]) {
    server.mode = status;
    const q = new FeedbackQueue({ storage: new MemoryStorage(), fetch: server.fetch });
    const r = await q.submit(payload(`x${status}`));
    assert.equal(r.status, "rejected");
    assert.equal(r.httpStatus, status);
    assert.deepEqual(q.pending(), []);
  }
});

test("onChange is called on every change with the pending count", async () => {
  const server = fakeServer();
  const events = [];
  const queue = new FeedbackQueue({
    storage: new MemoryStorage(),
    fetch: server.fetch,
    onChange: (e) => events.push([e.type, e.item.payload.title, e.pending]),
  });
  server.mode = "offline";
  await queue.submit(payload("a"));
  server.mode = "online";
  await queue.flush();
  assert.deepEqual(events, [
    ["queued", "a", 1],
    ["failed", "a", 1],
    ["sent", "a", 0],
  ]);
  const withId = [];
  const q2 = new FeedbackQueue({ storage: new MemoryStorage(), fetch: server.fetch, onChange: (e) => withId.push(e) });
  await q2.submit(payload("b"));
  assert.equal(withId.at(-1).type, "sent");
  assert.equal(typeof withId.at(-1).id, "number");
  // a throwing listener does not break the queue
  const q3 = new FeedbackQueue({
    storage: new MemoryStorage(),
    fetch: server.fetch,
    onChange: () => {
      throw new Error("listener bug");
    },
  });
  assert.equal((await q3.submit(payload("c"))).status, "sent");
});

test("unusable storage: the queue keeps items in memory instead of losing them", async () => {
  const server = fakeServer();
  const broken = {
    getItem: () => null,
    setItem: () => {
      throw new Error("QuotaExceededError");
    },
  };
  server.mode = "offline";
  const queue = new FeedbackQueue({ storage: broken, fetch: server.fetch });
  assert.equal((await queue.submit(payload("a"))).status, "queued");
  assert.equal(queue.pending().length, 1);
  server.mode = "online";
  assert.equal(await queue.flush(), 1);
  assert.deepEqual(server.calls, ["a"]);
  // a corrupt stored value reads as an empty queue rather than throwing
  const storage = new MemoryStorage();
  storage.setItem(STORAGE_KEY, "{not json");
  assert.deepEqual(new FeedbackQueue({ storage, fetch: server.fetch }).pending(), []);
});

test("a request that hangs is aborted after timeoutMs and stays queued", async () => {
  const hanging = (url, init) =>
    new Promise((resolve, reject) => {
      init.signal.addEventListener("abort", () => reject(new Error("aborted")));
    });
  const queue = new FeedbackQueue({ storage: new MemoryStorage(), fetch: hanging, timeoutMs: 20 });
  assert.equal((await queue.submit(payload("a"))).status, "queued");
  assert.equal(queue.pending().length, 1);
});

test("with a lock manager, passes run under one named lock", async () => {
  const server = fakeServer();
  const names = [];
  const locks = {
    request: async (name, fn) => {
      names.push(name);
      return fn();
    },
  };
  const queue = new FeedbackQueue({ storage: new MemoryStorage(), fetch: server.fetch, locks });
  assert.equal((await queue.submit(payload("a"))).status, "sent");
  assert.deepEqual(names, [`${STORAGE_KEY}.flush`]);
});

test("a multi-label verdict's label sets survive the outbox offline, a reload and the replay", async () => {
  const server = fakeServer();
  const bodies = [];
  const fetch = async (url, init) => {
    bodies.push(JSON.parse(init.body));
    return server.fetch(url, init);
  };
  const storage = new MemoryStorage();
  const multi = { ...payload("Crash on pay"), chosen_label: null, action: "corrected", labels: ["bug", "billing"], predicted_labels: ["bug"] };
  server.mode = "offline";
  const first = new FeedbackQueue({ storage, fetch });
  assert.equal((await first.submit(multi)).status, "queued");
  assert.deepEqual(JSON.parse(storage.getItem(STORAGE_KEY))[0].payload.labels, ["bug", "billing"]);
  server.mode = "online";
  const reloaded = new FeedbackQueue({ storage, fetch }); // a new page over the same storage
  assert.equal(await reloaded.flush(), 1);
  const sent = bodies.at(-1);
  assert.deepEqual(sent.labels, ["bug", "billing"]);
  assert.deepEqual(sent.predicted_labels, ["bug"]);
  assert.deepEqual(sent, multi);
});

test("items go out with the current client token; a 401 renews it and resends once", async () => {
  const sent = [];
  let known = "new.sig"; // the only token the server accepts
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    sent.push(body.client_id);
    return body.client_id === known ? response(201, { id: sent.length }) : response(401, { errors: { client_id: "not issued" } });
  };
  let token = "old.sig";
  let renewals = 0;
  const queue = new FeedbackQueue({
    storage: new MemoryStorage(),
    fetch,
    clientToken: () => token,
    renewToken: async () => {
      renewals += 1;
      token = "new.sig";
    },
  });
  const outcome = await queue.submit(payload("a")); // queued under the payload's "c1"
  assert.equal(outcome.status, "sent");
  assert.deepEqual(sent, ["old.sig", "new.sig"]);
  assert.equal(renewals, 1);
  // a server that refuses the renewed token too: the item stays for the next pass
  known = "never";
  const kept = await queue.submit(payload("b"));
  assert.equal(kept.status, "queued");
  assert.deepEqual(queue.pending().map((it) => it.payload.title), ["b"]);
  known = "new.sig";
  assert.equal(await queue.flush(), 1);
});

test("an item with no client id at all waits for a token instead of being refused", async () => {
  const server = fakeServer();
  let token = "";
  const queue = new FeedbackQueue({
    storage: new MemoryStorage(),
    fetch: server.fetch,
    clientToken: () => token,
    renewToken: async () => {}, // offline: no token comes
  });
  const outcome = await queue.submit({ ...payload("a"), client_id: "" });
  assert.equal(outcome.status, "queued");
  assert.deepEqual(server.calls, []); // never sent, never dropped
  token = "t.sig";
  assert.equal(await queue.flush(), 1);
  assert.deepEqual(server.calls, ["a"]);
});
