"""``logAuth`` and ``reportIssue`` from a real page: the session, user and page URL go along."""

from __future__ import annotations

import json

from sidelog.engine import Engine
from tests.browser.cdp import Page
from tests.browser.conftest import PageServer, events, page_html, script_src

APP = """
async function scenario() {
  sidelog.setUser("u-1");
  sidelog.logAuth("success", { provider: "google" });
  sidelog.logAuth("failure", { provider: "password", reason: "wrong password" });
  await sidelog.flush();
  const session = sidelog.configure({}).sessionId;
  sidelog.configure({ endpoint: location.origin }); // the page server stands in for /v1/feedback
  const report = { message: "The pay button does nothing", email: "ada@example.test" };
  const result = await sidelog.reportIssue(report);
  return { result, session };
}
"""


async def test_auth_events_and_an_issue_report_from_a_page(
    page: Page, pages: PageServer, sidelog: Engine
) -> None:
    pages.pages["account"] = page_html(script_src(sidelog), {}, APP)
    await page.goto(pages.url("account") + "?reset_token=secret-77")
    seen = await page.evaluate("scenario()")
    assert seen["result"] == {"ok": True, "status": 201}

    rows = await events(sidelog, "category = 'auth'")
    assert [(row["level"], row["message"], row["user_id"]) for row in rows] == [
        ("info", "Auth success (google)", "u-1"),
        ("warn", "Auth failure (password): wrong password", "u-1"),
    ]
    assert {row["session_id"] for row in rows} == {seen["session"]}

    ((path, content_type, body),) = [post for post in pages.posted if post[0] == "/v1/feedback"]
    report = json.loads(body)
    assert content_type == "application/json"
    assert report == {
        "message": "The pay button does nothing",
        "email": "ada@example.test",
        "sessionId": seen["session"],
        "userId": "u-1",
        "url": pages.url("account") + "?reset_token=[redacted]",
        "userAgent": report["userAgent"],
    }
    assert "Chrome" in report["userAgent"]
