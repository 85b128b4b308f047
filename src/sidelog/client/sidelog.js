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
  var installed = { errors: false, navigation: false, pagehide: false, exit: false };

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
    if (isBrowser && event.url === undefined && root.location) event.url = String(root.location.href);
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
  }

  function installErrors() {
    if (installed.errors) return;
    installed.errors = true;
    if (isBrowser && root.addEventListener) {
      root.addEventListener(
        "error",
        guard(function (e) {
          if (!config.captureErrors || !e) return;
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
          if (config.captureErrors) api.logError(e ? e.reason : "unhandled rejection", { kind: "unhandledrejection" });
        })
      );
    } else if (typeof process !== "undefined" && process.on) {
      // The monitor observes without changing how the process crashes.
      process.on("uncaughtExceptionMonitor", function (error) {
        if (config.captureErrors) api.logError(error, { kind: "uncaughtException" });
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
        details: { kind: kind, from: from, to: now },
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

  // -------------------------------------------------------------- public API

  function errorDetails(error) {
    if (error && typeof error === "object") {
      var details = { name: error.name || "Error", stack: error.stack ? String(error.stack) : undefined };
      if (error.cause !== undefined) details.cause = String(error.cause);
      return details;
    }
    return { name: typeof error, value: String(error) };
  }

  var api = {
    version: "0.1.0",

    /** Send one event: {message, category?, type?, details?, userId?, ...} (SPEC section 2). */
    logEvent: guard(function (event) {
      if (event === null || event === undefined) return false;
      var copy = typeof event === "string" ? { message: event } : Object.assign({}, event);
      if (copy.message === undefined && copy.msg === undefined) return false;
      return enqueue(copy);
    }),

    /** Report an error (an Error, or anything thrown) with optional context. */
    logError: guard(function (error, context) {
      var ctx = Object.assign({}, context || {});
      var message = error && error.message ? String(error.message) : String(error);
      var event = { message: message || "Error", category: "error", type: "error" };
      ["category", "userId", "sessionId", "url", "userMessage", "showToUser", "source"].forEach(function (key) {
        if (ctx[key] !== undefined) {
          event[key] = ctx[key];
          delete ctx[key];
        }
      });
      event.details = Object.assign(errorDetails(error), ctx);
      return enqueue(event);
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
    api.configure({
      captureErrors: data.captureErrors !== undefined && data.captureErrors !== "false",
      captureNavigation: data.captureNavigation !== undefined && data.captureNavigation !== "false",
      endpoint: data.endpoint || config.endpoint,
    });
  }
  return api;
});
