// logAuth, reportIssue and redactUrl of sidelog.js in Node.
// Usage: node node_misc.js SIDELOG_JS BASE_URL FEEDBACK_BASE_URL URLS_JSON
"use strict";

const [script, base, feedbackBase, urls] = process.argv.slice(2);
const sidelog = require(script);

async function main() {
  sidelog.configure({ endpoint: base });
  sidelog.setUser("u-9");
  sidelog.logAuth("success", { provider: "github" });
  sidelog.logAuth("failure", { provider: "password", userId: "u-10", reason: "wrong password" });
  sidelog.logAuth("error", { provider: "saml", reason: "IdP unreachable", attempt: 2 });
  sidelog.logAuth(undefined);
  await sidelog.flush();
  const onSidelog = await sidelog.reportIssue({ message: "tried the real server" });
  sidelog.configure({ endpoint: feedbackBase });
  const sent = await sidelog.reportIssue({ message: "Checkout froze", email: "ada@example.test" });
  sidelog.configure({ endpoint: "http://127.0.0.1:9" }); // nothing listens: resolves, never rejects
  const down = await sidelog.reportIssue({ message: "nobody hears this" });
  const empty = await sidelog.reportIssue({});
  return {
    sent,
    down,
    empty,
    onSidelogType: typeof onSidelog.ok,
    urls: JSON.parse(urls).map(sidelog.redactUrl),
  };
}

main().then(
  (result) => process.stdout.write(JSON.stringify(result) + "\n"),
  (error) => {
    process.stderr.write(String(error && error.stack) + "\n");
    process.exit(1);
  }
);
