// offline.js: registering the service worker and asking it to keep the loaded bundle, with a
// stand-in navigator (MessageChannel is Node's own).

import assert from "node:assert/strict";
import { test } from "node:test";

import { keepModelOffline, registerServiceWorker } from "../app/offline.js";

const INFO = { version: "v2", bundle_url: "/models/v2/" };

/** A navigator whose worker answers {ok} to "model-in-use". */
function fakeNavigator({ ok = true, register = async () => ({ scope: "/" }) } = {}) {
  const messages = [];
  const registered = [];
  const worker = {
    postMessage(message, [port]) {
      messages.push(message);
      port.postMessage({ ok });
    },
  };
  const nav = {
    serviceWorker: {
      register: (url, options) => {
        registered.push([url, options]);
        return register();
      },
      ready: Promise.resolve({ active: worker }),
    },
  };
  return { nav, messages, registered };
}

const quiet = async (fn) => {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
};

test("registerServiceWorker: /sw.js for the whole origin; null without support or on failure", async () => {
  const { nav, registered } = fakeNavigator();
  assert.deepEqual(await registerServiceWorker(nav), { scope: "/" });
  assert.deepEqual(registered, [["/sw.js", { scope: "/" }]]);
  assert.equal(await registerServiceWorker({}), null);
  const failing = fakeNavigator({ register: async () => Promise.reject(new Error("SecurityError")) }).nav;
  assert.equal(await quiet(() => registerServiceWorker(failing)), null);
});

test("keepModelOffline: posts model-in-use and resolves with the worker's answer", async () => {
  const { nav, messages } = fakeNavigator({ ok: true });
  assert.equal(await keepModelOffline(Promise.resolve({}), INFO, nav), true);
  assert.deepEqual(messages, [{ type: "model-in-use", version: "v2", bundleUrl: "/models/v2/" }]);
  const refusing = fakeNavigator({ ok: false });
  assert.equal(await keepModelOffline(Promise.resolve({}), INFO, refusing.nav), false);
});

test("keepModelOffline: false without a registration or when the worker fails", async () => {
  const { nav, messages } = fakeNavigator();
  assert.equal(await keepModelOffline(Promise.resolve(null), INFO, nav), false);
  assert.equal(await keepModelOffline(null, INFO, nav), false);
  assert.deepEqual(messages, []);
  const broken = { serviceWorker: { ready: Promise.resolve({ active: null }) } };
  assert.equal(await quiet(() => keepModelOffline(Promise.resolve({}), INFO, broken)), false);
});
