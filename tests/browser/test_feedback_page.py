"""``sidelog.reportIssue`` from a real page into a real sidelog: the report is stored in
category ``feedback`` with the page's session, user and URL, linked to the error the
same session hit just before."""

from __future__ import annotations

from sidelog.engine import Engine
from tests.browser.cdp import Page
from tests.browser.conftest import PageServer, events, page_html, script_src

APP = """
async function scenario() {
  sidelog.setUser("u-7");
  try { null.total; } catch (error) { sidelog.logError(error, { step: "checkout" }); }
  await sidelog.flush();
  const report = { message: "The pay button does nothing", email: "ada@example.test" };
  const result = await sidelog.reportIssue(report);
  const nothing = await sidelog.reportIssue({ message: "" });  // refused by the client itself
  return { result, nothing, session: sidelog.configure({}).sessionId };
}
"""


async def test_a_report_from_the_page_is_stored_with_its_session_and_linked_errors(
    page: Page, pages: PageServer, sidelog: Engine
) -> None:
    pages.pages["pay"] = page_html(script_src(sidelog), {}, APP)
    await page.goto(pages.url("pay") + "?reset_token=secret-77")
    seen = await page.evaluate("scenario()")
    assert seen["result"] == {"ok": True, "status": 201}
    assert seen["nothing"] == {"ok": False, "status": 0}

    (error,) = await events(sidelog, "level = 'error'")
    assert error["session_id"] == seen["session"]
    (report,) = await events(sidelog, "category = 'feedback'")
    assert (report["message"], report["level"], report["source"]) == (
        "The pay button does nothing",
        "info",
        "client",
    )
    assert (report["session_id"], report["user_id"]) == (seen["session"], "u-7")
    assert report["url"] == pages.url("pay") + "?reset_token=[redacted]"
    assert "Chrome" in report["user_agent"]
    assert report["details"] == {"email": "ada@example.test", "related_groups": [error["fingerprint"]]}
    assert page.exceptions == []
