"""``data-capture-forms`` in a real Chromium: submits and validation failures, never a value.

The same page runs with capture off and on; what its own code observes (events, order,
validity, values, location) must be equal, and the stored events must name the form,
the failing fields and the reasons without any value typed into a field.
"""

from __future__ import annotations

from sidelog.engine import Engine
from tests.browser.cdp import Page
from tests.browser.conftest import PageServer, events, page_html, script_src

VALUES = (
    "not-an-email-XYZ",
    "abcd-secret-code",
    "clobber-id-value",
    "clobber-action-value",
    "Ada-Lovelace-77",
)

BODY = """
<form id="signup" name="signupForm" action="/submit?session_token=st-77" method="post">
  <input name="email" type="email" required value="not-an-email-XYZ">
  <input name="fullName" required>
  <input name="age" type="number" min="18" value="5">
  <input name="code" pattern="[0-9]{4}" value="abcd-secret-code">
  <input name="id" value="clobber-id-value">
  <input name="action" value="clobber-action-value">
  <button id="go" name="go">Go</button>
</form>
"""

APP = """
const seen = [];
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
document.addEventListener("invalid", (e) => seen.push("invalid:" + e.target.name), true);
document.addEventListener("submit", (e) => {
  e.preventDefault(); // a single-page app handles the submit itself
  seen.push("submit:" + e.target.getAttribute("id") + ":" + (e.submitter && e.submitter.name));
});

async function scenario() {
  const start = location.href;
  const form = document.getElementById("signup");
  seen.push("valid:" + form.checkValidity());
  await tick();
  form.requestSubmit(document.getElementById("go"));
  await tick();
  form.elements.email.value = "ada@example.test";
  form.elements.fullName.value = "Ada-Lovelace-77";
  form.elements.age.value = "36";
  form.elements.code.value = "1234";
  form.requestSubmit(document.getElementById("go"));
  await tick();

  const big = document.createElement("form");
  big.id = "big";
  // One parse: appending 10,000 required inputs one by one is quadratic in Chromium.
  big.innerHTML = Array.from({ length: 10000 }, (_, i) => `<input name="f${i}" required>`).join("");
  document.body.appendChild(big);
  const started = performance.now();
  const bigValid = big.checkValidity();
  const invalidMs = performance.now() - started;
  await tick();
  for (const input of big.elements) input.value = "v";
  big.requestSubmit();
  await tick();
  return {
    seen: seen.filter((entry) => !/^invalid:f[0-9]+$/.test(entry)),
    bigInvalidSeen: seen.filter((entry) => /^invalid:f[0-9]+$/.test(entry)).length,
    bigValid,
    invalidMs,
    values: [...form.elements].map((element) => element.value),
    navigated: location.href !== start,
    formId: form.id.tagName, // clobbered by the field named "id", as in any page
  };
}
"""


async def test_submits_and_validation_failures_are_logged_without_values(
    page: Page, pages: PageServer, sidelog: Engine
) -> None:
    results = []
    for name, attrs in (("off", {}), ("on", {"capture-forms": ""})):
        pages.pages[name] = page_html(script_src(sidelog), attrs, APP, body=BODY)
        await page.goto(pages.url(name))
        results.append(await page.evaluate("scenario()"))
        await page.evaluate("sidelog.flush()")
    off, on = results
    timings = (off.pop("invalidMs"), on.pop("invalidMs"))
    assert on == off
    assert on["seen"] == [
        *["invalid:email", "invalid:fullName", "invalid:age", "invalid:code"],
        "valid:false",
        *["invalid:email", "invalid:fullName", "invalid:age", "invalid:code"],
        "submit:signup:go",
        "submit:big:null",
    ]
    assert on["bigInvalidSeen"] == 10000
    assert on["formId"] == "INPUT"
    assert on["navigated"] is False
    assert timings[1] < 2000  # 10,000 invalid events handled in the page's own time budget

    rows = await events(sidelog, "category = 'ui'")
    assert [row["message"] for row in rows] == [
        "Form signup: 4 invalid fields (email, fullName, age, code)",
        "Form signup: 4 invalid fields (email, fullName, age, code)",
        "Form submitted: signup",
        "Form big: 10000 invalid fields (f0, f1, f2, f3, f4, …)",
        "Form submitted: big",
    ]
    assert [row["level"] for row in rows] == ["warn", "warn", "info", "warn", "info"]
    invalid = rows[0]["details"]
    assert invalid["formId"] == "signup"
    assert invalid["formName"] == "signupForm"
    assert invalid["action"] == f"{pages.base}/submit?session_token=[redacted]"
    assert invalid["method"] == "post"
    assert invalid["invalidCount"] == 4
    fields = {field["name"]: field for field in invalid["fields"]}
    assert {name: field["reasons"] for name, field in fields.items()} == {
        "email": ["typeMismatch"],
        "fullName": ["valueMissing"],
        "age": ["rangeUnderflow"],
        "code": ["patternMismatch"],
    }
    assert fields["fullName"]["message"] == "Please fill out this field."
    assert "[value]" in fields["email"]["message"]  # Chrome quotes what was typed; sidelog does not
    submit = rows[2]["details"]
    assert submit == {
        "kind": "submit",
        "formId": "signup",
        "formName": "signupForm",
        "action": f"{pages.base}/submit?session_token=[redacted]",
        "method": "post",
        "fieldCount": 7,
        "submitter": "go",
    }
    big = rows[3]["details"]
    assert (big["invalidCount"], len(big["fields"]), big["more"]) == (10000, 50, 9950)
    assert rows[4]["details"]["fieldCount"] == 10000

    everything = str(await events(sidelog))
    for value in (*VALUES, "ada@example.test", "st-77"):
        assert value not in everything
    assert page.exceptions == []
