// Drives the served sidelog.js from Node 18+ against a real sidelog (started by pytest).
// Usage: node client_scenarios.js SCENARIO BASE_URL WORKDIR [ORIGIN]
// Prints one JSON line with what the scenario observed; the Python test checks SQLite.
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");

const [scenario, base, workdir, origin] = process.argv.slice(2);

async function download() {
  const response = await fetch(base + "/sidelog.js");
  if (response.status !== 200) throw new Error("GET /sidelog.js: HTTP " + response.status);
  const code = await response.text();
  const file = path.join(workdir, "sidelog.js");
  fs.writeFileSync(file, code);
  return { code, file };
}

async function basic() {
  const { file } = await download();
  const sidelog = require(file);
  sidelog.configure({ endpoint: base, batchSize: 3, intervalMs: 50 });
  sidelog.logEvent({ message: "node started", category: "system", details: { pid: 1 } });
  sidelog.logEvent("plain string event");
  sidelog.logEvent({ message: "User login attempt", category: "auth", userId: "u-7" });
  sidelog.logEvent({ message: "debug detail", type: "debug" });
  sidelog.logError(new Error("Payment 42 failed"), { orderId: 42, userMessage: "Card declined" });
  sidelog.logUserAction("Clicked checkout", { button: "pay" });
  // None of these may throw into the app.
  const circular = { message: "circular" };
  circular.details = circular;
  sidelog.logEvent(null);
  sidelog.logEvent({});
  sidelog.logError(undefined);
  sidelog.logEvent(circular);
  sidelog.configure(null);
  await sidelog.flush();
  return sidelog.stats();
}

async function down() {
  const { file } = await download();
  const sidelog = require(file);
  // Nothing listens on port 9 of this host: every send fails.
  sidelog.configure({ endpoint: "http://127.0.0.1:9", maxBuffer: 3, intervalMs: 20 });
  for (let i = 0; i < 5; i++) sidelog.logEvent({ message: "buffered " + i, category: "offline" });
  await sidelog.flush();
  const whileDown = sidelog.stats();
  sidelog.configure({ endpoint: base });
  await new Promise((resolve) => setTimeout(resolve, 50)); // past the retry pause
  await sidelog.flush();
  return { whileDown, after: sidelog.stats() };
}

// A fake page: window/document/navigator/history enough for the browser code paths.
async function browser() {
  const { code } = await download();
  const listeners = {};
  const beacons = [];
  const location = { href: "http://localhost:5173/app", pathname: "/app" };
  globalThis.window = globalThis;
  globalThis.addEventListener = (type, fn) => (listeners[type] = listeners[type] || []).push(fn);
  globalThis.document = {
    currentScript: { src: base + "/sidelog.js", dataset: { captureErrors: "", captureNavigation: "" } },
    visibilityState: "visible",
    addEventListener: (type, fn) => (listeners["doc:" + type] = listeners["doc:" + type] || []).push(fn),
  };
  globalThis.location = location;
  globalThis.history = {
    pushState(state, title, url) {
      location.pathname = url;
      location.href = "http://localhost:5173" + url;
    },
    replaceState() {},
  };
  Object.defineProperty(globalThis, "navigator", {
    configurable: true,
    value: {
      userAgent: "FakeBrowser/1.0",
      // What a browser does for sendBeacon(url, string): a no-cors text/plain POST with Origin.
      sendBeacon(url, body) {
        beacons.push(
          fetch(url, {
            method: "POST",
            body,
            headers: { "content-type": "text/plain;charset=UTF-8", origin: origin, "user-agent": "FakeBrowser/1.0" },
          }).then((r) => r.status)
        );
        return true;
      },
    },
  });
  vm.runInThisContext(code, { filename: "sidelog.js" }); // as a <script>: defines globalThis.sidelog
  const sidelog = globalThis.sidelog;
  sidelog.configure({ intervalMs: 60000, batchSize: 100 });
  sidelog.setUser("u-browser");
  sidelog.logUserAction("Clicked pay", { button: "pay" });
  history.pushState({}, "", "/checkout");
  for (const fn of listeners.error || []) fn({ error: new Error("boom in page"), target: globalThis });
  for (const fn of listeners.unhandledrejection || []) fn({ reason: new Error("rejected promise") });
  document.visibilityState = "hidden";
  for (const fn of listeners["doc:visibilitychange"] || []) fn();
  const statuses = await Promise.all(beacons);
  return { statuses, stats: sidelog.stats(), endpoint: sidelog.configure({}).endpoint };
}

const scenarios = { basic, down, browser };

scenarios[scenario]()
  .then((result) => {
    process.stdout.write(JSON.stringify(result) + "\n");
  })
  .catch((error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
    process.exit(1);
  });
