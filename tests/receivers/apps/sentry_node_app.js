// A small Node app using the real @sentry/node SDK, pointed at sidelog (run by the tests).
// node sentry_node_app.js dsn URL | spotlight URL — raises a real exception in a real
// function inside a span, flushes, and prints the trace id.
const Sentry = require("@sentry/node");

const [mode, url] = process.argv.slice(2);
Sentry.init({
  dsn: mode === "dsn" ? url : undefined,
  spotlight: mode === "spotlight" ? url : undefined,
  release: "shop@1.0",
  environment: "dev",
  tracesSampleRate: 1.0,
});
Sentry.setUser({ id: "u_7" });

function chargeCard(orderId) {
  throw new TypeError(`card declined for order ${orderId}`);
}

Sentry.startSpan({ name: "checkout", op: "task" }, (span) => {
  try {
    chargeCard(7);
  } catch (err) {
    Sentry.captureException(err);
  }
  console.log(span.spanContext().traceId);
});

Sentry.flush(2000).then(() => Sentry.close(2000));
