// consola (the real package, installed by the test) reporting through sidelog.js.
// Usage: node node_consola.js SIDELOG_JS BASE_URL NODE_MODULES
"use strict";

const path = require("path");

const [script, base, modules] = process.argv.slice(2);
const sidelog = require(script);
const { createConsola } = require(path.join(modules, "consola"));

async function main() {
  sidelog.configure({ endpoint: base, intervalMs: 60000, batchSize: 1000 });
  const reporter = sidelog.consolaReporter();
  const logger = createConsola({ level: Number.POSITIVE_INFINITY, reporters: [reporter] });
  logger.fatal("fatal: config missing");
  logger.error(new Error("database down"), { retry: 3 });
  logger.warn("disk almost full", 91);
  logger.log("plain log line");
  logger.info("info line");
  logger.success("build done");
  logger.fail("lint failed");
  logger.ready("server ready");
  logger.start("starting build");
  logger.box("boxed notice");
  logger.debug("debug detail");
  logger.trace("trace detail");
  logger.verbose("verbose detail");
  logger.withTag("Payments").warn("card declined", { orderId: 7 });
  // Nothing a reporter is handed may throw into consola.
  reporter.log(null);
  reporter.log({ type: "info", args: "not an array" });
  await sidelog.flush();
  return sidelog.stats();
}

main().then(
  (stats) => process.stdout.write(JSON.stringify(stats) + "\n"),
  (error) => {
    process.stderr.write(String(error && error.stack) + "\n");
    process.exit(1);
  }
);
