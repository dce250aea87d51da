// feedback-queue.js: a durable outbox for POST /api/feedback (no DOM, runs in Node too).
//
//   const queue = new FeedbackQueue({storage: localStorage, fetch, onChange});
//   await queue.submit(payload);  // → {uid, status: "sent", id} | {uid, status: "queued"}
//                                 //   | {uid, status: "rejected", httpStatus, errors}
//   await queue.flush();          // → how many pending items were sent
//   queue.pending();              // → [{uid, payload, queuedAt}], oldest first
//
// Every item is written to `storage` (one JSON array under one key) before it is sent, so
// a reload, a crash or a lost connection never loses feedback. Sending is in order and
// stops at the first network failure, 5xx or any other status that may heal (408, 429, …):
// the item stays and is retried by the next flush(). Only a 400/413/415 (the server says
// this item can never be accepted) drops an item, and that is reported through onChange,
// so one invalid item cannot block the queue forever. Nothing else is ever dropped.
//
// With `clientToken` (a function: the current signed client id) every item is sent with it
// as client_id, so verdicts queued under an older id go out under the current one; a 401
// (the server no longer knows that id) calls `renewToken()` and resends the item once,
// and an item still refused stays queued for the next pass.
//
// flush() is safe to call concurrently: one pass runs at a time and a call made during a
// pass waits for it and then runs one more pass, so no item is sent twice by one page.
// With `locks` (navigator.locks) passes are also serialised across tabs.

export const STORAGE_KEY = "tfcls.feedback.outbox";
/** Statuses meaning "this payload will never be accepted": drop and report. */
export const PERMANENT_FAILURES = new Set([400, 413, 415]);

/** A random RFC 4122 v4 UUID; crypto.randomUUID exists only in secure contexts. */
export function uuid(cryptoObj = globalThis.crypto) {
  if (typeof cryptoObj?.randomUUID === "function") return cryptoObj.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof cryptoObj?.getRandomValues === "function") cryptoObj.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A storage that only lives in memory: the fallback when localStorage is unusable. */
export class MemoryStorage {
  constructor() {
    this.map = new Map();
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

export class FeedbackQueue {
  /**
   * storage: getItem/setItem (localStorage); fetch: the fetch function; endpoint: where to
   * POST; onChange(event): called after every change with {type, item, pending, ...};
   * key: the storage key; timeoutMs: abort a request that hangs (0: never);
   * locks: a LockManager (navigator.locks) to serialise flushes across tabs;
   * clientToken(): the client_id to send (default: the payload's own);
   * renewToken(): resolves once a new token is there, after a 401.
   */
  constructor({
    storage,
    fetch,
    endpoint = "/api/feedback",
    onChange = () => {},
    key = STORAGE_KEY,
    timeoutMs = 15000,
    locks = null,
    clientToken = null,
    renewToken = null,
  } = {}) {
    if (typeof fetch !== "function") throw new TypeError("FeedbackQueue needs a fetch function");
    this.storage = storage ?? new MemoryStorage();
    this.fetch = fetch;
    this.endpoint = endpoint;
    this.onChange = onChange;
    this.key = key;
    this.timeoutMs = timeoutMs;
    this.locks = locks;
    this.clientToken = clientToken;
    this.renewToken = renewToken;
    this.memory = null; // set when storage fails: items then live here until the page goes
    this.results = new Map(); // uid → outcome, for the submit() awaiting it
    this.waiting = new Set(); // uids of items whose submit() is awaiting
    this.running = null; // the pass in progress
    this.next = null; // the one pass queued behind it
  }

  /** Pending items, oldest first: [{uid, payload, queuedAt}]. */
  pending() {
    return this.read().map((item) => ({ ...item }));
  }

  /**
   * Persist `payload`, then try to send everything pending; resolves with this item's fate:
   * {uid, status: "sent", id} | {uid, status: "queued"} | {uid, status: "rejected", httpStatus, errors}.
   * `uid` may be given (to know the item before it is stored); by default a new UUID.
   */
  async submit(payload, { uid = uuid() } = {}) {
    if (payload === null || typeof payload !== "object") {
      throw new TypeError("feedback payload must be an object");
    }
    const item = { uid, payload, queuedAt: new Date().toISOString() };
    this.write([...this.read(), item]);
    this.emit({ type: "queued", item });
    this.waiting.add(item.uid);
    try {
      await this.flush();
    } finally {
      this.waiting.delete(item.uid);
    }
    const outcome = this.results.get(item.uid);
    this.results.delete(item.uid);
    if (outcome) return { uid: item.uid, ...outcome };
    return { uid: item.uid, status: "queued" };
  }

  /** Send pending items in order; resolves with how many this pass sent. */
  flush() {
    if (!this.running) {
      const pass = this.locks?.request
        ? this.locks.request(`${this.key}.flush`, () => this.drain())
        : this.drain();
      this.running = Promise.resolve(pass).finally(() => {
        this.running = null;
      });
      return this.running;
    }
    // A pass is sending: an item added meanwhile may come after its last read, so run one
    // more pass once it ends (a single one, however many calls arrive).
    if (!this.next) {
      this.next = this.running.then(
        () => {
          this.next = null;
          return this.flush();
        },
        () => {
          this.next = null;
          return this.flush();
        },
      );
    }
    return this.next;
  }

  async drain() {
    let sent = 0;
    for (;;) {
      const item = this.read()[0];
      if (!item) return sent;
      const outcome = await this.send(item);
      if (outcome.status === "sent") {
        this.remove(item.uid);
        this.record(item.uid, { status: "sent", id: outcome.id });
        sent += 1;
        this.emit({ type: "sent", item, id: outcome.id });
      } else if (outcome.status === "rejected") {
        this.remove(item.uid);
        const error = { httpStatus: outcome.httpStatus, errors: outcome.errors };
        this.record(item.uid, { status: "rejected", ...error });
        this.emit({ type: "dropped", item, error });
      } else {
        // network failure, 5xx, or a status that may heal: keep it and stop, in order
        this.emit({ type: "failed", item, error: outcome.error });
        return sent;
      }
    }
  }

  /** One POST, resent once with a renewed token after a 401: see post(). An item with no
   * client id at all (no token yet, none in the payload) waits rather than be refused. */
  async send(item) {
    if (!this.currentToken() && !item.payload?.client_id) {
      if (typeof this.renewToken === "function") await this.renewToken().catch(() => {});
      if (!this.currentToken()) return { status: "retry", error: { status: 401, message: "no client id yet" } };
    }
    const outcome = await this.post(item);
    if (outcome.error?.status !== 401 || typeof this.renewToken !== "function") return outcome;
    try {
      await this.renewToken();
    } catch {
      return outcome;
    }
    return this.post(item);
  }

  currentToken() {
    return typeof this.clientToken === "function" ? this.clientToken() || "" : "";
  }

  /** The payload as sent: with the current client token when there is one. */
  body(item) {
    const token = this.currentToken();
    return JSON.stringify(token ? { ...item.payload, client_id: token } : item.payload);
  }

  /** One POST: {status: "sent", id} | {status: "rejected", httpStatus, errors} | {status: "retry", error}. */
  async post(item) {
    const controller =
      this.timeoutMs > 0 && typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), this.timeoutMs) : null;
    let res;
    try {
      res = await this.fetch(this.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: this.body(item),
        credentials: "same-origin",
        ...(controller ? { signal: controller.signal } : {}),
      });
    } catch (err) {
      return { status: "retry", error: { network: true, message: String(err?.message ?? err) } };
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
    const body = await readJson(res);
    if (res.status >= 200 && res.status < 300) {
      return { status: "sent", id: body?.id ?? null };
    }
    if (PERMANENT_FAILURES.has(res.status)) {
      return { status: "rejected", httpStatus: res.status, errors: body?.errors ?? null };
    }
    return { status: "retry", error: { status: res.status } };
  }

  record(uid, outcome) {
    if (this.waiting.has(uid)) this.results.set(uid, outcome);
  }

  read() {
    if (this.memory) return this.memory;
    let raw;
    try {
      raw = this.storage.getItem(this.key);
    } catch {
      this.memory = [];
      return this.memory;
    }
    if (!raw) return [];
    try {
      const items = JSON.parse(raw);
      return Array.isArray(items) ? items.filter((it) => it && typeof it.uid === "string") : [];
    } catch {
      return [];
    }
  }

  write(items) {
    if (this.memory) {
      this.memory = items;
      return;
    }
    try {
      this.storage.setItem(this.key, JSON.stringify(items));
    } catch {
      // storage full or forbidden: keep the queue in memory rather than lose it
      this.memory = items;
    }
  }

  remove(uid) {
    this.write(this.read().filter((it) => it.uid !== uid));
  }

  emit(event) {
    try {
      this.onChange({ ...event, pending: this.read().length });
    } catch {
      // a listener's bug must not break the queue
    }
  }
}

async function readJson(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}
