// A Node app that dies: run by tests/js/test_node_integrations.py with and without
// captureErrors, which compares exit code and stderr and counts what sidelog stored.
// Usage: node node_crash.js MODE SIDELOG_JS BASE_URL CAPTURE(0|1)
"use strict";

const [mode, script, base, capture] = process.argv.slice(2);
const sidelog = require(script);
sidelog.configure({ endpoint: base, captureErrors: capture === "1", intervalMs: 60000, batchSize: 100 });
sidelog.logEvent({ message: "about to " + mode, category: "crash-test" });

if (mode === "throw") {
  throw new Error("top-level boom");
} else if (mode === "reject") {
  Promise.reject(new Error("nobody handled this"));
} else if (mode === "reject-later") {
  setTimeout(() => {
    (async () => {
      throw new TypeError("async boom");
    })();
  }, 5);
} else if (mode === "exit") {
  process.exit(3);
}
