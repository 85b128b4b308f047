/*!
 * sidelog.js — the browser and Node client of sidelog (served at GET /sidelog.js).
 *
 * One file, no build step, no dependencies.
 *   Browser:  <script src="http://127.0.0.1:7412/sidelog.js" data-capture-errors></script>
 *             sidelog.logEvent({message: "Checkout started", category: "payment"})
 *   Node 18+: const sidelog = require("./sidelog.js")   (or createRequire from ESM)
 *
 * Calls only enqueue. Events are sent in batches (by size and by interval) with
 * fetch; on page hide the rest goes out with navigator.sendBeacon as text/plain, a
 * body sidelog accepts from allowed (localhost) origins. The buffer is bounded:
 * while sidelog is unreachable the oldest events are dropped and counted, and the
 * count is reported once sending works again. No call ever throws into the app.
 *
 * Integrations, each off until turned on (README, "Integrations"): fetch/XHR calls
 * (captureFetch), form submits and validation failures (captureForms), a React error
 * boundary and React 19 root handlers, auth outcomes, issue reports, and in Node a
 * synchronous send at exit (so a crash is not lost) and a consola reporter. It is
 * one file on purpose: a page adds one <script> and sidelog serves one route.
 */
(function (root, factory) {
  "use strict";
  var api = factory(root);
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  } else {
    root.sidelog = api;
  }
})(typeof globalThis !== "undefined" ? globalThis : typeof self !== "undefined" ? self : this, function (root) {
  "use strict";

  var LEVELS = { debug: 0, trace: 0, info: 1, warn: 2, warning: 2, error: 3, err: 3, fatal: 3, critical: 3 };
  var BEACON_LIMIT = 60000; // browsers cap in-flight beacon/keepalive bodies at 64 KiB
  var env = (typeof process !== "undefined" && process && process.env) || {};
  var isBrowser = typeof window !== "undefined" && typeof document !== "undefined";
  var script = isBrowser && document.currentScript ? document.currentScript : null;

  function envValue(name) {
    var value = env["NEXT_PUBLIC_" + name];
    return value !== undefined ? value : env[name];
  }

  function envBool(name, fallback) {
    var value = envValue(name);
    if (value === undefined || value === "") return fallback;
    return !/^(0|false|no|off)$/i.test(String(value).trim());
  }

  function envInt(name, fallback) {
    var value = parseInt(envValue(name), 10);
    return isFinite(value) && value > 0 ? value : fallback;
  }

  function defaultEndpoint() {
    if (script && script.src) {
      try {
        return new URL(script.src).origin;
      } catch (e) {
        /* fall through */
      }
    }
    var address = env.SIDELOG_HTTP_URL || env.SIDELOG_HTTP || "127.0.0.1:7412";
    if (/^off$/i.test(address)) address = "127.0.0.1:7412";
    if (/^https?:\/\//.test(address)) return address.replace(/\/+$/, "");
    // A wildcard bind (0.0.0.0 / [::]) is reached through loopback; sidelog refuses other Hosts.
    return "http://" + address.replace(/^(0\.0\.0\.0|\[::\]|::)?:/, "127.0.0.1:");
  }

  function randomId() {
    try {
      if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    } catch (e) {
      /* fall through */
    }
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  var config = {
    endpoint: defaultEndpoint(),
    enabled: envBool("ENABLE_EVENT_LOGGING", true) && envBool("ENABLE_CLIENT_LOGGING", true),
    minLevel: String(envValue("LOG_LEVEL") || "debug").toLowerCase(),
    batch: envBool("BATCH_EVENTS", true),
    batchSize: envInt("MAX_EVENTS_PER_BATCH", 50),
    intervalMs: envInt("BATCH_INTERVAL_MS", 1000),
    maxBuffer: 1000,
    captureErrors: false,
    captureNavigation: false,
    captureFetch: false,
    captureForms: false,
    slowMs: 1000,
    exitTimeoutMs: 2000,
    token: env.SIDELOG_TOKEN || null,
    userId: null,
    sessionId: isBrowser ? randomId() : null,
    source: null,
    debug: false,
  };

  var queue = [];
  var dropped = 0;
  var failed = 0;
  var timer = null;
  var inFlight = null;
  var retryAt = 0;
  var installed = { errors: false, navigation: false, pagehide: false, exit: false, fetch: false, xhr: false, forms: false };
  var sending = 0; // > 0 while sidelog itself calls fetch: its own requests are never captured
  var raising = 0; // > 0 while sidelog re-raises an error React handed it (reportError)
  var reported = typeof WeakSet === "function" ? new WeakSet() : null; // errors already logged once

  function warn(message, error) {
    if (config.debug && typeof console !== "undefined" && console.warn) {
      console.warn("[sidelog] " + message, error || "");
    }
  }

  function guard(fn) {
    return function () {
      try {
        return fn.apply(null, arguments);
      } catch (error) {
        warn("internal error (ignored)", error);
        return undefined;
      }
    };
  }

  function levelRank(level) {
    var rank = LEVELS[String(level || "info").toLowerCase()];
    return rank === undefined ? 1 : rank;
  }

  function clock() {
    var perf = root.performance;
    return perf && typeof perf.now === "function" ? perf.now() : Date.now();
  }

  // A long text (a component stack, a statement) cut with a marker saying how long it was.
  function cut(text, limit) {
    var value = String(text);
    return value.length <= limit ? value : value.slice(0, limit) + "\n… [cut: " + value.length + " chars in all]";
  }

  // Remember that an error was logged, so a second path (window.onerror after a React
  // handler re-reported it) does not log it again.
  function markReported(error) {
    if (reported && error && typeof error === "object") reported.add(error);
  }

  function wasReported(error) {
    return !!(reported && error && typeof error === "object" && reported.has(error));
  }

  // -------------------------------------------------------------- redaction

  // The server's words (src/sidelog/redact.py DEFAULT_KEYS): a parameter whose name,
  // lower-cased without "-"/"_", equals or ends with one of them is a secret, so that
  // ?access_token=… never leaves the page. The server redacts again on ingest.
  var SECRET_WORDS = [
    "token", "password", "passwd", "pwd", "secret", "apikey", "authorization", "cookie",
    "session", "credential", "credentials", "privatekey", "accesskey", "signature", "sig",
  ];
  var REDACTED = "[redacted]";
  var secretNames = Object.create(null);
  var secretNameCount = 0;
  var lastPage = { href: null, safe: null };

  function normalName(name) {
    return String(name).toLowerCase().replace(/[-_]/g, "");
  }

  function isSecret(name) {
    var known = secretNames[name];
    if (known !== undefined) return known;
    var normal = normalName(name);
    known = false;
    for (var i = 0; i < SECRET_WORDS.length && !known; i++) {
      var word = SECRET_WORDS[i];
      known = normal.length >= word.length && normal.lastIndexOf(word) === normal.length - word.length;
    }
    if (secretNameCount >= 4096) {
      secretNames = Object.create(null); // a flood of distinct names must not grow memory
      secretNameCount = 0;
    }
    secretNames[name] = known;
    secretNameCount += 1;
    return known;
  }

  function mentionsSecret(text) {
    var folded = normalName(text);
    for (var i = 0; i < SECRET_WORDS.length; i++) if (folded.indexOf(SECRET_WORDS[i]) >= 0) return true;
    return false;
  }

  function redactParams(text) {
    if (!text || !mentionsSecret(text)) return text;
    var changed = false;
    var pairs = text.split("&").map(function (pair) {
      var eq = pair.indexOf("=");
      if (eq < 0) return pair;
      var raw = pair.slice(0, eq);
      var name = raw;
      try {
        name = decodeURIComponent(raw.replace(/\+/g, " "));
      } catch (e) {
        /* a malformed escape: judge the raw name */
      }
      if (!isSecret(name)) return pair;
      changed = true;
      return raw + "=" + REDACTED;
    });
    return changed ? pairs.join("&") : text;
  }

  /** ``url`` with secret query/fragment parameters and a userinfo password replaced by [redacted]. */
  function redactUrl(url) {
    var text = String(url);
    if (text.indexOf("?") < 0 && text.indexOf("#") < 0 && text.indexOf("@") < 0) return text;
    var hash = text.indexOf("#");
    var fragment = hash >= 0 ? text.slice(hash + 1) : null;
    var rest = hash >= 0 ? text.slice(0, hash) : text;
    var mark = rest.indexOf("?");
    var query = mark >= 0 ? rest.slice(mark + 1) : null;
    var base = mark >= 0 ? rest.slice(0, mark) : rest;
    var userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)@/i.exec(base);
    if (userinfo && userinfo[2].indexOf(":") >= 0) {
      base = userinfo[1] + userinfo[2].split(":")[0] + ":" + REDACTED + "@" + base.slice(userinfo[0].length);
    }
    if (query !== null) query = redactParams(query);
    if (fragment !== null && fragment.indexOf("=") >= 0) fragment = redactParams(fragment);
    return base + (query !== null ? "?" + query : "") + (fragment !== null ? "#" + fragment : "");
  }

  function pageUrl() {
    var href = String(root.location.href);
    if (href !== lastPage.href) {
      lastPage.href = href;
      lastPage.safe = redactUrl(href);
    }
    return lastPage.safe;
  }

  // ------------------------------------------------------------------ queue

  function enqueue(event) {
    if (!config.enabled) return false;
    if (levelRank(event.type || event.level) < levelRank(config.minLevel)) return false;
    if (event.timestamp === undefined && event.ts === undefined) event.timestamp = Date.now();
    if (config.userId && event.userId === undefined && event.user_id === undefined) event.userId = config.userId;
    if (config.sessionId && event.sessionId === undefined && event.session_id === undefined) {
      event.sessionId = config.sessionId;
    }
    if (config.source && event.source === undefined) event.source = config.source;
    if (isBrowser && event.url === undefined && root.location) event.url = pageUrl();
    queue.push(event);
    while (queue.length > config.maxBuffer) {
      queue.shift();
      dropped += 1;
    }
    if (!config.batch || queue.length >= config.batchSize) {
      flush();
    } else {
      schedule();
    }
    return true;
  }

  function schedule() {
    if (timer !== null || queue.length === 0) return;
    var delay = Math.max(config.intervalMs, retryAt - Date.now(), 0);
    timer = setTimeout(function () {
      timer = null;
      flush();
    }, delay);
    // Never keep a Node process alive just for the timer; the exit hook flushes.
    if (timer && typeof timer.unref === "function") timer.unref();
  }

  // A batch: the queued events (up to maxBytes of JSON when given), led by a report
  // of events dropped since the last delivery. ``reported`` lets a failed send undo it.
  function takeBatch(maxBytes) {
    var events = [];
    var reported = dropped;
    if (reported > 0) {
      events.push({
        message: "sidelog.js dropped " + reported + " events (buffer full while sidelog was unreachable)",
        category: "system",
        type: "warn",
        details: { dropped: reported, maxBuffer: config.maxBuffer },
      });
      dropped = 0;
    }
    var size = 2;
    var most = Math.max(config.batchSize, 1) * 5;
    while (queue.length > 0 && events.length < most) {
      var text;
      try {
        text = JSON.stringify(queue[0]);
      } catch (e) {
        queue.shift(); // not serialisable (a cycle): skip it rather than block the queue
        failed += 1;
        continue;
      }
      if (maxBytes && events.length > 0 && size + text.length + 1 > maxBytes) break;
      size += text.length + 1;
      events.push(queue.shift());
    }
    return { events: events, reported: reported };
  }

  function body(events) {
    try {
      return JSON.stringify(events);
    } catch (e) {
      return "[]";
    }
  }

  function flush() {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (inFlight) {
      return inFlight.then(function () {
        return queue.length ? flush() : undefined;
      });
    }
    if ((queue.length === 0 && dropped === 0) || typeof fetch !== "function") return Promise.resolve();
    if (Date.now() < retryAt) {
      schedule();
      return Promise.resolve();
    }
    var batch = takeBatch(0);
    if (batch.events.length === 0) return Promise.resolve();
    var payload = body(batch.events);
    var headers = { "Content-Type": isBrowser ? "text/plain;charset=UTF-8" : "application/json" };
    if (config.token) headers.Authorization = "Bearer " + config.token;
    var request;
    sending += 1;
    try {
      request = fetch(config.endpoint + "/v1/events", {
        method: "POST",
        headers: headers,
        body: payload,
        mode: isBrowser ? "cors" : undefined,
        credentials: "omit",
        keepalive: isBrowser && payload.length < BEACON_LIMIT,
      });
    } catch (error) {
      request = Promise.reject(error);
    } finally {
      sending -= 1;
    }
    inFlight = request
      .then(function (response) {
        if (response.status === 429 || response.status >= 500) {
          var after = parseInt(response.headers.get("Retry-After"), 10);
          retryAt = Date.now() + (isFinite(after) ? after * 1000 : config.intervalMs);
          requeue(batch);
        } else if (response.status >= 400) {
          failed += batch.events.length; // refused as bad input: retrying cannot help
          warn("sidelog refused a batch: HTTP " + response.status);
        }
        // Read the answer so the connection can be reused.
        return response.text().then(
          function () {},
          function () {}
        );
      })
      .catch(function (error) {
        retryAt = Date.now() + config.intervalMs;
        requeue(batch);
        warn("cannot reach sidelog at " + config.endpoint, error);
      })
      .then(function () {
        inFlight = null;
        schedule();
      });
    return inFlight;
  }

  function requeue(batch) {
    var own = batch.reported ? batch.events.slice(1) : batch.events;
    dropped += batch.reported;
    queue = own.concat(queue);
    while (queue.length > config.maxBuffer) {
      queue.shift();
      dropped += 1;
    }
  }

  // Page hide: the page may never run again, so hand the rest to the browser.
  function flushWithBeacon() {
    if (queue.length === 0 && dropped === 0) return;
    var nav = root.navigator;
    if (config.token || !nav || typeof nav.sendBeacon !== "function") {
      flush();
      return;
    }
    while (queue.length > 0 || dropped > 0) {
      var batch = takeBatch(BEACON_LIMIT);
      if (batch.events.length === 0) break;
      var ok = false;
      try {
        ok = nav.sendBeacon(config.endpoint + "/v1/events", body(batch.events));
      } catch (e) {
        ok = false;
      }
      if (!ok) {
        requeue(batch);
        flush();
        return;
      }
    }
  }

  // ---------------------------------------------------------------- capture

  function installPageHide() {
    if (installed.pagehide || !isBrowser || !root.addEventListener) return;
    installed.pagehide = true;
    root.addEventListener("pagehide", guard(flushWithBeacon));
    if (root.document && root.document.addEventListener) {
      root.document.addEventListener(
        "visibilitychange",
        guard(function () {
          if (root.document.visibilityState === "hidden") flushWithBeacon();
        })
      );
    }
  }

  function installExitHook() {
    if (installed.exit || isBrowser || typeof process === "undefined" || !process.on) return;
    installed.exit = true;
    // beforeExit fires when the loop is empty; sending keeps it alive until done.
    process.on("beforeExit", function () {
      if (queue.length || dropped) flush();
    });
    // "exit" also fires after an uncaught exception, an unhandled rejection or
    // process.exit(), when no asynchronous send can finish: send what is left
    // synchronously, then let the process end with its own code and message.
    process.on("exit", guard(flushSync));
  }

  // ------------------------------------------------- Node: a synchronous send

  // Node cannot write to a socket synchronously, so a worker thread does the HTTP
  // request while this thread blocks in Atomics.wait until the worker signals the
  // outcome (or exitTimeoutMs passes). A worker starts in well under a second and,
  // unlike child_process.execFileSync, starts no second Node process (it measured
  // faster in Node 18, 20 and 22; README, "Integrations").
  var EXIT_WORKER = [
    "var wt = require('worker_threads'), data = wt.workerData, flag = new Int32Array(data.flag);",
    "var transport = require(data.url.indexOf('https:') === 0 ? 'https' : 'http');",
    "function done(code) { Atomics.store(flag, 0, code); Atomics.notify(flag, 0); }",
    "function send(i) {",
    "  if (i >= data.bodies.length) return done(1);",
    "  var request = transport.request(data.url, { method: 'POST', headers: data.headers, timeout: data.timeoutMs },",
    "    function (response) { response.resume(); response.on('end', function () {",
    "      if (response.statusCode >= 400) return done(2); send(i + 1); }); });",
    "  request.on('error', function () { done(3); });",
    "  request.on('timeout', function () { request.destroy(); });",
    "  request.end(data.bodies[i]);",
    "}",
    "send(0);",
  ].join("\n");

  function nodeBuiltin(name) {
    if (typeof require === "function") return require(name);
    if (typeof process !== "undefined" && typeof process.getBuiltinModule === "function") {
      return process.getBuiltinModule(name);
    }
    return null;
  }

  /** Send everything still queued, blocking until sidelog answered (Node only). */
  function flushSync() {
    if ((queue.length === 0 && dropped === 0) || !config.enabled || config.exitTimeoutMs <= 0) return false;
    var threads = nodeBuiltin("worker_threads");
    if (!threads || typeof SharedArrayBuffer !== "function") return false;
    var bodies = [];
    while (queue.length > 0 || dropped > 0) {
      var batch = takeBatch(512 * 1024);
      if (batch.events.length === 0) break;
      bodies.push(body(batch.events));
    }
    var headers = { "Content-Type": "application/json" };
    if (config.token) headers.Authorization = "Bearer " + config.token;
    var shared = new SharedArrayBuffer(4);
    var flag = new Int32Array(shared);
    var worker = new threads.Worker(EXIT_WORKER, {
      eval: true,
      workerData: {
        url: config.endpoint + "/v1/events",
        bodies: bodies,
        headers: headers,
        flag: shared,
        timeoutMs: config.exitTimeoutMs,
      },
    });
    if (typeof worker.unref === "function") worker.unref();
    Atomics.wait(flag, 0, 0, config.exitTimeoutMs);
    var ok = Atomics.load(flag, 0) === 1;
    if (!ok) warn("events not delivered at exit (is sidelog running at " + config.endpoint + "?)");
    return ok;
  }

  function installErrors() {
    if (installed.errors) return;
    installed.errors = true;
    if (isBrowser && root.addEventListener) {
      root.addEventListener(
        "error",
        guard(function (e) {
          if (!config.captureErrors || !e) return;
          if (raising > 0 || wasReported(e.error)) return;
          if (e.target && e.target !== root && e.target.tagName) {
            var src = e.target.src || e.target.href || "";
            api.logEvent({
              message: "Failed to load " + String(e.target.tagName).toLowerCase() + " " + src,
              category: "error",
              type: "error",
              details: { kind: "resource", tag: e.target.tagName, src: src },
            });
            return;
          }
          api.logError(e.error || e.message || "Script error", {
            kind: "window.onerror",
            filename: e.filename,
            line: e.lineno,
            column: e.colno,
          });
        }),
        true
      );
      root.addEventListener(
        "unhandledrejection",
        guard(function (e) {
          if (!config.captureErrors || (e && wasReported(e.reason))) return;
          api.logError(e ? e.reason : "unhandled rejection", { kind: "unhandledrejection" });
        })
      );
    } else if (typeof process !== "undefined" && process.on) {
      // The monitor observes without changing how the process crashes (an
      // "unhandledRejection" listener would stop Node from exiting); the "exit" hook
      // then sends the error synchronously.
      process.on("uncaughtExceptionMonitor", function (error, origin) {
        if (config.captureErrors) api.logError(error, { kind: origin || "uncaughtException" });
      });
    }
  }

  function installNavigation() {
    if (installed.navigation || !isBrowser || !root.history || !root.location) return;
    installed.navigation = true;
    var last = String(root.location.href);
    function record(kind) {
      if (!config.captureNavigation) return;
      var now = String(root.location.href);
      if (now === last && kind !== "load") return;
      var from = last;
      last = now;
      api.logEvent({
        message: "Navigation to " + root.location.pathname,
        category: "ui",
        type: "info",
        details: { kind: kind, from: redactUrl(from), to: redactUrl(now) },
      });
    }
    ["pushState", "replaceState"].forEach(function (name) {
      var original = root.history[name];
      if (typeof original !== "function") return;
      root.history[name] = function () {
        var result = original.apply(this, arguments);
        guard(record)(name);
        return result;
      };
    });
    root.addEventListener("popstate", guard(function () { record("popstate"); }));
    root.addEventListener("hashchange", guard(function () { record("hashchange"); }));
    guard(record)("load");
  }

  // ------------------------------------------------------- fetch and XHR capture

  var REQUEST_ID_HEADERS = ["x-request-id", "request-id", "x-correlation-id"];

  function parseUrl(url) {
    try {
      return new URL(String(url), isBrowser && root.location ? String(root.location.href) : undefined);
    } catch (e) {
      return null;
    }
  }

  function absoluteUrl(url) {
    var parsed = parseUrl(url);
    return parsed ? parsed.href : String(url);
  }

  // The URL as a message shows it: the path on the page's own origin, else host and path.
  function shortUrl(parsed, url) {
    if (!parsed) return String(url).split(/[?#]/)[0];
    var own = isBrowser && root.location && parsed.origin === root.location.origin;
    return own ? parsed.pathname : parsed.host + parsed.pathname;
  }

  // Captured calls repeat the same few URLs: remember their redacted form.
  var safeUrls = typeof Map === "function" ? new Map() : null;

  function safeUrl(url) {
    var known = safeUrls && safeUrls.get(url);
    if (known !== undefined && known !== null) return known;
    var safe = redactUrl(url);
    if (safeUrls) {
      if (safeUrls.size >= 512) safeUrls.clear();
      safeUrls.set(url, safe);
    }
    return safe;
  }

  // One event for one finished (or failed) HTTP call made by the page or the Node app.
  // ``requestId`` is a function: headers are only read for warn and error events.
  function reportHttp(kind, method, rawUrl, started, status, failure, requestId) {
    var durationMs = Math.round((clock() - started) * 100) / 100;
    var parsed = parseUrl(rawUrl);
    var url = parsed ? parsed.href : String(rawUrl);
    if (url.indexOf(config.endpoint + "/v1/") === 0) return; // sidelog's own API
    var details = { kind: kind, method: method, url: safeUrl(url), status: status, durationMs: durationMs };
    var message = method + " " + shortUrl(parsed, url) + " ";
    var type = "info";
    if (failure) {
      details.error = failure;
      message += failure.aborted ? "aborted" : "failed: " + failure.message;
      if (!failure.aborted) type = "error";
    } else {
      message += status;
      if (status >= 500) type = "error";
      if (durationMs >= config.slowMs) {
        details.slow = true;
        details.slowMs = config.slowMs;
        message += " (slow: " + Math.round(durationMs) + " ms)";
        if (type === "info") type = "warn";
      }
      var id = type !== "info" && requestId ? requestId() : null;
      if (id) details.requestId = id;
    }
    enqueue({ message: message, category: "http", type: type, details: details });
  }

  function failureOf(error) {
    var name = error && error.name ? String(error.name) : typeof error;
    var text = error && error.message !== undefined ? String(error.message) : String(error);
    return { name: name, message: text, aborted: name === "AbortError" };
  }

  function firstHeader(get) {
    for (var i = 0; i < REQUEST_ID_HEADERS.length; i++) {
      var value = get(REQUEST_ID_HEADERS[i]);
      if (value) return String(value);
    }
    return null;
  }

  function installFetch() {
    if (installed.fetch) return;
    var original = root.fetch;
    if (typeof original !== "function") return; // none, or a polyfill that is not callable: leave it be
    installed.fetch = true;
    // The app gets the original's Response (or its error, rethrown as is) one promise
    // step later; a failure the app leaves unhandled stays unhandled, as without sidelog.
    var wrapped = function fetch(input, init) {
      if (!config.captureFetch || sending > 0) return original.apply(this, arguments);
      var started = clock();
      var promise = original.apply(this, arguments);
      var call = describeFetch(input, init);
      if (!call || !promise || typeof promise.then !== "function") return promise;
      return promise.then(
        function (response) {
          guard(reportHttp)("fetch", call.method, call.url, started, response && response.status, null, function () {
            return firstHeader(function (name) {
              return response.headers.get(name);
            });
          });
          return response;
        },
        function (error) {
          guard(reportHttp)("fetch", call.method, call.url, started, 0, failureOf(error), null);
          throw error;
        }
      );
    };
    try {
      Object.keys(original).forEach(function (key) {
        wrapped[key] = original[key]; // flags some polyfills set on themselves
      });
    } catch (e) {
      /* nothing to copy */
    }
    root.fetch = wrapped;
  }

  var describeFetch = guard(function (input, init) {
    var request = input && typeof input === "object" && typeof input.url === "string" ? input : null;
    var method = (init && init.method) || (request && request.method) || "GET";
    return { method: String(method).toUpperCase(), url: request ? request.url : String(input) };
  });

  function installXhr() {
    var Xhr = root.XMLHttpRequest;
    if (installed.xhr || typeof Xhr !== "function" || !Xhr.prototype || typeof WeakMap !== "function") return;
    var proto = Xhr.prototype;
    var originalOpen = proto.open;
    var originalSend = proto.send;
    if (typeof originalOpen !== "function" || typeof originalSend !== "function") return;
    installed.xhr = true;
    var calls = new WeakMap(); // kept beside the object: the app sees no new property on it
    var remember = guard(function (xhr, method, url) {
      calls.set(xhr, { method: String(method).toUpperCase(), url: String(url), started: 0, outcome: null });
    });
    proto.open = function open(method, url) {
      var result = originalOpen.apply(this, arguments);
      if (config.captureFetch) remember(this, method, url);
      return result;
    };
    proto.send = function send() {
      var call = config.captureFetch && sending === 0 ? calls.get(this) : null;
      if (call) guard(watchXhr)(this, call);
      return originalSend.apply(this, arguments);
    };
    var listening = new WeakSet();
    function onEvent(e) {
      var call = calls.get(this);
      if (!call || !call.started) return;
      if (e.type !== "loadend") {
        call.outcome = e.type;
        return;
      }
      var started = call.started;
      call.started = 0;
      var xhr = this;
      var failure = null;
      if (call.outcome === "abort") failure = { name: "AbortError", message: "aborted", aborted: true };
      else if (call.outcome) failure = { name: call.outcome, message: "network " + call.outcome, aborted: false };
      reportHttp("xhr", call.method, call.url, started, failure ? 0 : xhr.status, failure, function () {
        var headers = {};
        String(xhr.getAllResponseHeaders() || "")
          .split(/\r?\n/)
          .forEach(function (line) {
            var colon = line.indexOf(":");
            if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          });
        return firstHeader(function (name) {
          return headers[name];
        });
      });
    }
    var handler = guard(function (e) {
      onEvent.call(e.target, e);
    });
    function watchXhr(xhr, call) {
      call.started = clock();
      call.outcome = null;
      if (listening.has(xhr)) return;
      listening.add(xhr);
      ["error", "abort", "timeout", "loadend"].forEach(function (type) {
        xhr.addEventListener(type, handler);
      });
    }
  }

  // ------------------------------------------------------------ form capture

  var VALIDITY_FLAGS = [
    "valueMissing", "typeMismatch", "patternMismatch", "tooLong", "tooShort",
    "rangeUnderflow", "rangeOverflow", "stepMismatch", "badInput", "customError",
  ];
  var MAX_INVALID_LISTED = 50;
  var pendingInvalid = [];
  var invalidTimer = null;

  // Form attributes read through getAttribute: form.id or form.action would return a
  // field named "id" or "action" instead (DOM clobbering).
  function formInfo(form) {
    var attr = function (name) {
      return form && typeof form.getAttribute === "function" ? form.getAttribute(name) : null;
    };
    var action = attr("action");
    return {
      formId: attr("id"),
      formName: attr("name"),
      action: redactUrl(absoluteUrl(action === null ? root.location.href : action)),
      method: String(attr("method") || "get").toLowerCase(),
    };
  }

  function formLabel(info) {
    return info.formId || info.formName || shortUrl(parseUrl(info.action), info.action);
  }

  function fieldName(field) {
    return (
      field.getAttribute("name") || field.getAttribute("id") || String(field.tagName).toLowerCase() + "[" + (field.type || "") + "]"
    );
  }

  // The browser's message without the field's value: Chrome quotes what was typed
  // ("'abc' is missing an '@'"). A message that still contains the value is left out.
  function safeValidationMessage(field) {
    var message = String(field.validationMessage || "");
    var value = typeof field.value === "string" ? field.value : "";
    if (!message || !value) return message;
    ["'", '"', "“", "‘"].forEach(function (quote) {
      var close = quote === "“" ? "”" : quote === "‘" ? "’" : quote;
      message = message.split(quote + value + close).join(quote + "[value]" + close);
    });
    return value.length >= 3 && message.indexOf(value) >= 0 ? null : message;
  }

  function onSubmit(e) {
    if (!config.captureForms || !e || !e.target) return;
    var form = e.target;
    var info = formInfo(form);
    var getter = root.HTMLFormElement && Object.getOwnPropertyDescriptor(root.HTMLFormElement.prototype, "elements");
    var elements = getter && getter.get ? getter.get.call(form) : form.elements || [];
    info.kind = "submit";
    info.fieldCount = elements.length;
    if (e.submitter) info.submitter = e.submitter.getAttribute("name") || e.submitter.getAttribute("id") || null;
    enqueue({ message: "Form submitted: " + formLabel(info), category: "ui", type: "info", details: info });
  }

  function onInvalid(e) {
    if (!config.captureForms || !e || !e.target) return;
    var field = e.target;
    var form = field.form || null;
    var entry = null;
    for (var i = pendingInvalid.length - 1; i >= 0 && !entry; i--) if (pendingInvalid[i].form === form) entry = pendingInvalid[i];
    if (!entry) {
      entry = { form: form, count: 0, fields: [] };
      pendingInvalid.push(entry);
    }
    entry.count += 1;
    if (entry.fields.length < MAX_INVALID_LISTED) {
      var validity = field.validity || {};
      entry.fields.push({
        name: fieldName(field),
        type: field.type || null,
        reasons: VALIDITY_FLAGS.filter(function (flag) {
          return validity[flag] === true;
        }),
        message: safeValidationMessage(field),
      });
    }
    // One interactive validation fires "invalid" once per field: report them together.
    if (invalidTimer === null) invalidTimer = setTimeout(guard(reportInvalid), 0);
  }

  function reportInvalid() {
    invalidTimer = null;
    var entries = pendingInvalid;
    pendingInvalid = [];
    entries.forEach(function (entry) {
      var info = entry.form ? formInfo(entry.form) : { formId: null, formName: null, action: null, method: null };
      info.kind = "invalid";
      info.invalidCount = entry.count;
      info.fields = entry.fields;
      if (entry.count > entry.fields.length) info.more = entry.count - entry.fields.length;
      var names = entry.fields.slice(0, 5).map(function (field) {
        return field.name;
      });
      var label = entry.form ? formLabel(info) : "(no form)";
      enqueue({
        message: "Form " + label + ": " + entry.count + " invalid field" + (entry.count === 1 ? "" : "s") + " (" + names.join(", ") + (entry.count > names.length ? ", …" : "") + ")",
        category: "ui",
        type: "warn",
        details: info,
      });
    });
  }

  function installForms() {
    if (installed.forms || !isBrowser || !root.document || !root.document.addEventListener) return;
    installed.forms = true;
    // Capture phase on the document: before the app's own handlers, and "invalid"
    // does not bubble. Nothing here calls preventDefault or reads a value to log it.
    root.document.addEventListener("submit", guard(onSubmit), true);
    root.document.addEventListener("invalid", guard(onInvalid), true);
  }

  // ----------------------------------------------------------------- React

  var COMPONENT_STACK_LIMIT = 64 * 1024;
  var boundaries = typeof WeakMap === "function" ? new WeakMap() : null;

  function reportReactError(error, info, kind, level) {
    if (wasReported(error)) return;
    markReported(error);
    var context = { kind: "react." + kind };
    if (info && info.componentStack) context.componentStack = cut(info.componentStack, COMPONENT_STACK_LIMIT);
    if (info && info.digest) context.digest = String(info.digest);
    enqueue(errorEvent(error, context, level || "error"));
  }

  function makeErrorBoundary(React) {
    if (!React || typeof React.Component !== "function") {
      warn("errorBoundary(React) needs the React object");
      return undefined;
    }
    var known = boundaries && boundaries.get(React);
    if (known) return known;
    function SidelogErrorBoundary(props) {
      React.Component.call(this, props);
      this.state = { failed: false, error: null };
      var self = this;
      this.reset = function () {
        self.setState({ failed: false, error: null });
      };
    }
    var ErrorBoundary = SidelogErrorBoundary;
    ErrorBoundary.prototype = Object.create(React.Component.prototype);
    ErrorBoundary.prototype.constructor = ErrorBoundary;
    ErrorBoundary.displayName = "SidelogErrorBoundary";
    ErrorBoundary.getDerivedStateFromError = function (error) {
      return { failed: true, error: error };
    };
    ErrorBoundary.prototype.componentDidCatch = function (error, info) {
      guard(reportReactError)(error, info, "errorBoundary");
      if (typeof this.props.onError === "function") this.props.onError(error, info);
    };
    ErrorBoundary.prototype.render = function () {
      if (!this.state.failed) return this.props.children === undefined ? null : this.props.children;
      var fallback = this.props.fallback;
      if (typeof fallback === "function") return fallback(this.state.error, this.reset);
      return fallback === undefined ? null : fallback;
    };
    if (boundaries) boundaries.set(React, ErrorBoundary);
    return ErrorBoundary;
  }

  // React 19's root options. Passing a handler replaces React's default reporting, so
  // each one also does what React would have done (or calls the app's own handler).
  function rootOptions(options) {
    var own = options || {};
    function globalReport(error) {
      if (typeof root.reportError !== "function") {
        if (typeof console !== "undefined") console.error(error);
        return;
      }
      // The "error" event this raises is dispatched synchronously; captureErrors skips it
      // (already logged). Without a crossorigin attribute on the script tag the page's
      // own handlers see it as "Script error." (README, "Integrations").
      raising += 1;
      try {
        root.reportError(error);
      } finally {
        raising -= 1;
      }
    }
    function handler(name, kind, level, fallback) {
      return function (error, info) {
        guard(reportReactError)(error, info, kind, level);
        if (typeof own[name] === "function") return own[name](error, info);
        return fallback(error);
      };
    }
    return {
      onCaughtError: handler("onCaughtError", "caughtError", "error", function (error) {
        if (typeof console !== "undefined") console.error(error);
      }),
      onUncaughtError: handler("onUncaughtError", "uncaughtError", "error", globalReport),
      onRecoverableError: handler("onRecoverableError", "recoverableError", "warn", globalReport),
    };
  }

  // ---------------------------------------------------------------- consola

  var CONSOLA_LEVELS = {
    fatal: "error", error: "error", warn: "warn", fail: "warn", log: "info", info: "info", success: "info",
    ready: "info", start: "info", box: "info", debug: "debug", trace: "debug", verbose: "debug",
  };

  function isError(value) {
    return value instanceof Error || (!!value && typeof value === "object" && typeof value.stack === "string" && "message" in value);
  }

  function consolaEvent(logObj, options) {
    var type = String((logObj && logObj.type) || "log").toLowerCase();
    var words = [];
    var values = [];
    var error = null;
    (Array.isArray(logObj.args) ? logObj.args : []).forEach(function (arg) {
      if (isError(arg) && error === null) error = arg;
      else if (typeof arg === "string") words.push(arg);
      else if (typeof arg === "number" || typeof arg === "boolean") words.push(String(arg));
      else values.push(isError(arg) ? errorDetails(arg) : arg);
    });
    var tag = typeof logObj.tag === "string" && logObj.tag ? logObj.tag : null;
    var details = error ? errorDetails(error) : {};
    details.consola = type;
    if (tag) details.tag = tag;
    if (values.length) details.args = values;
    var message = words.join(" ").trim() || (error ? String(error.message || error.name) : "");
    if (!message && !values.length) return; // nothing was logged: no event
    if (!message) message = "(consola " + type + ")";
    enqueue({
      message: message,
      category: tag ? tag.toLowerCase() : options.category || "console",
      type: CONSOLA_LEVELS[type] || "info",
      details: details,
    });
  }

  // ------------------------------------------------------------ issue reports

  function reportIssue(report) {
    var input = typeof report === "string" ? { message: report } : report || {};
    if (typeof fetch !== "function" || !input.message) return Promise.resolve({ ok: false, status: 0 });
    var nav = root.navigator;
    var payload = {
      message: String(input.message),
      email: input.email || null,
      sessionId: config.sessionId,
      userId: config.userId,
      url: isBrowser && root.location ? pageUrl() : input.url || null,
      userAgent: nav && nav.userAgent ? String(nav.userAgent) : null,
    };
    var headers = { "Content-Type": "application/json" };
    if (config.token) headers.Authorization = "Bearer " + config.token;
    var request;
    sending += 1;
    try {
      request = fetch(config.endpoint + "/v1/feedback", {
        method: "POST",
        headers: headers,
        body: JSON.stringify(payload),
        mode: isBrowser ? "cors" : undefined,
        credentials: "omit",
      });
    } catch (error) {
      request = Promise.reject(error);
    } finally {
      sending -= 1;
    }
    return request.then(
      function (response) {
        return response.text().then(
          function () {
            return { ok: response.ok, status: response.status };
          },
          function () {
            return { ok: response.ok, status: response.status };
          }
        );
      },
      function (error) {
        warn("cannot send the issue report to " + config.endpoint, error);
        return { ok: false, status: 0 };
      }
    );
  }

  // -------------------------------------------------------------- public API

  function errorDetails(error) {
    if (error && typeof error === "object") {
      var details = { name: error.name || "Error", stack: error.stack ? String(error.stack) : undefined };
      if (error.cause !== undefined) details.cause = String(error.cause);
      return details;
    }
    return { name: typeof error, value: String(error) };
  }

  // The event logError sends: the context's event fields lifted out, the rest in details.
  function errorEvent(error, context, level) {
    var ctx = Object.assign({}, context || {});
    var message = error && error.message ? String(error.message) : String(error);
    var event = { message: message || "Error", category: "error", type: level || "error" };
    ["category", "userId", "sessionId", "url", "userMessage", "showToUser", "source"].forEach(function (key) {
      if (ctx[key] !== undefined) {
        event[key] = ctx[key];
        delete ctx[key];
      }
    });
    event.details = Object.assign(errorDetails(error), ctx);
    return event;
  }

  var AUTH_LEVELS = { success: "info", failure: "warn", error: "error" };

  var api = {
    version: "0.1.0",

    /** Send one event: {message, category?, type?, details?, userId?, ...} (README, "The event"). */
    logEvent: guard(function (event) {
      if (event === null || event === undefined) return false;
      var copy = typeof event === "string" ? { message: event } : Object.assign({}, event);
      if (copy.message === undefined && copy.msg === undefined) return false;
      return enqueue(copy);
    }),

    /** Report an error (an Error, or anything thrown) with optional context. */
    logError: guard(function (error, context) {
      markReported(error);
      return enqueue(errorEvent(error, context, "error"));
    }),

    /** An authentication outcome: "success" (info), "failure" (warn) or "error" (error); category "auth". */
    logAuth: guard(function (outcome, info) {
      var opts = Object.assign({}, info || {});
      var result = String(outcome || "unknown").toLowerCase();
      var event = { category: "auth", type: AUTH_LEVELS[result] || "info" };
      if (opts.userId !== undefined && opts.userId !== null) event.userId = String(opts.userId);
      delete opts.userId;
      var provider = opts.provider ? String(opts.provider) : null;
      event.message = "Auth " + result + (provider ? " (" + provider + ")" : "") + (opts.reason ? ": " + opts.reason : "");
      event.details = Object.assign({ outcome: result }, opts);
      return enqueue(event);
    }),

    /** POST an end user's report to sidelog's /v1/feedback with this session and user; never rejects. */
    reportIssue: function (report) {
      try {
        return reportIssue(report);
      } catch (e) {
        return Promise.resolve({ ok: false, status: 0 });
      }
    },

    /** A React error boundary class for this React: <ErrorBoundary fallback={…}>…</ErrorBoundary>. */
    errorBoundary: guard(makeErrorBoundary),

    /** React 19 createRoot options that log caught, uncaught and recoverable errors. */
    reactRootOptions: guard(rootOptions),

    /** A consola reporter: consola.addReporter(sidelog.consolaReporter()). */
    consolaReporter: guard(function (options) {
      var opts = options || {};
      return {
        log: function (logObj) {
          guard(consolaEvent)(logObj || {}, opts);
        },
      };
    }),

    /** ``url`` with secret query parameters replaced by [redacted] (what captured URLs go through). */
    redactUrl: guard(redactUrl),

    /** Node: send what is queued now, blocking until sidelog answered (the "exit" hook uses it). */
    flushSync: guard(function () {
      return isBrowser ? false : flushSync();
    }),

    /** Record something the user did (category "ui"). */
    logUserAction: guard(function (action, details) {
      return enqueue({
        message: String(action),
        category: "ui",
        type: "info",
        details: details === undefined ? null : details,
      });
    }),

    /** Change settings; returns a copy of the current configuration. */
    configure: guard(function (options) {
      var opts = options || {};
      Object.keys(opts).forEach(function (key) {
        if (Object.prototype.hasOwnProperty.call(config, key)) config[key] = opts[key];
      });
      if (typeof config.endpoint === "string") config.endpoint = config.endpoint.replace(/\/+$/, "");
      if (config.captureErrors) installErrors();
      if (config.captureNavigation) installNavigation();
      if (config.captureFetch) {
        installFetch();
        installXhr();
      }
      if (config.captureForms) installForms();
      return Object.assign({}, config);
    }),

    /** Attach a user id to every later event (null to clear). */
    setUser: guard(function (userId) {
      config.userId = userId === undefined ? null : userId;
    }),

    /** Send everything queued now; resolves when sidelog answered (never rejects). */
    flush: function () {
      try {
        return flush().catch(function () {});
      } catch (e) {
        return Promise.resolve();
      }
    },

    /** Counters for diagnostics: queued, dropped (buffer full) and failed (refused) events. */
    stats: function () {
      return { queued: queue.length, dropped: dropped, failed: failed };
    },
  };

  installPageHide();
  installExitHook();
  if (script && script.dataset) {
    var data = script.dataset;
    var flag = function (value) {
      return value !== undefined && value !== "false";
    };
    var slowMs = parseFloat(data.slowMs);
    api.configure({
      captureErrors: flag(data.captureErrors),
      captureNavigation: flag(data.captureNavigation),
      captureFetch: flag(data.captureFetch),
      captureForms: flag(data.captureForms),
      slowMs: isFinite(slowMs) && slowMs >= 0 ? slowMs : config.slowMs,
      endpoint: data.endpoint || config.endpoint,
    });
  }
  return api;
});
