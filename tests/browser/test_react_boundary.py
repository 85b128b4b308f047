"""``sidelog.errorBoundary(React)`` with the real React 18 (UMD builds from npm) in Chromium.

The page renders the same trees with sidelog's boundary and with a plain boundary the
app could have written itself: the DOM must be the same, and sidelog must store each
render error once with its component stack (cut with a marker past 64 KiB). The React
19 root handlers (``reactRootOptions``) are called as React 19 calls them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sidelog.engine import Engine
from tests.browser.cdp import Page
from tests.browser.conftest import PageServer, events, page_html, script_src
from tests.js.npm_support import REACT, npm_install

ROOTS_APP = """function rootHandlers() {
  const printed = [];
  const error = console.error;
  console.error = (...args) => printed.push(args[0] && args[0].message);
  const handled = [];
  const options = sidelog.reactRootOptions();
  options.onCaughtError(new Error("caught by a root"), { componentStack: "\\n    at Widget" });
  options.onRecoverableError(new Error("hydration mismatch"), { componentStack: "\\n    at App" });
  const own = sidelog.reactRootOptions({ onUncaughtError: (e) => handled.push(e.message) });
  own.onUncaughtError(new Error("uncaught in root"), { componentStack: "\\n    at Root" });
  console.error = error;
  return { printed, handled, keys: Object.keys(options).sort() };
}
"""

REACT_SCRIPTS = (
    "<script src='/npm/react/umd/react.development.js'></script>"
    "<script src='/npm/react-dom/umd/react-dom.development.js'></script>"
)

APP = """
const h = React.createElement;
window.explode = true;
function Bomb() {
  if (window.explode) throw new Error("render failed for order 42");
  return h("p", { id: "ok" }, "fine");
}
function Deep(props) {
  return props.n > 0 ? h(Deep, { n: props.n - 1 }) : h(Bomb);
}
class PlainBoundary extends React.Component {
  constructor(props) {
    super(props);
    this.state = { failed: false, error: null };
  }
  static getDerivedStateFromError(error) {
    return { failed: true, error };
  }
  render() {
    if (!this.state.failed) return this.props.children;
    const fallback = this.props.fallback;
    const reset = () => this.setState({ failed: false, error: null });
    return typeof fallback === "function" ? fallback(this.state.error, reset) : fallback;
  }
}
const Boundary = MODE === "on" ? sidelog.errorBoundary(React) : PlainBoundary;

function scenario() {
  const dom = [];
  const node = document.getElementById("root");
  const root = ReactDOM.createRoot(node);
  let reset = null;
  const fallback = (error, again) => {
    reset = again;
    return h("p", { id: "fallback" }, "Oops: " + error.message);
  };
  ReactDOM.flushSync(() => root.render(h(Boundary, { fallback }, h("div", null, h(Bomb)))));
  dom.push(node.innerHTML);
  window.explode = false;
  ReactDOM.flushSync(() => reset());
  dom.push(node.innerHTML);
  window.explode = true;
  const fixed = h("b", null, "static fallback");
  ReactDOM.flushSync(() => root.render(h(Boundary, { fallback: fixed }, h(Deep, { n: 1500 }))));
  dom.push(node.innerHTML);
  ReactDOM.flushSync(() => root.render(h(Boundary, null, h(Bomb))));
  dom.push(node.innerHTML);
  root.unmount();
  return { dom, same: sidelog.errorBoundary(React) === sidelog.errorBoundary(React) };
}

"""


@pytest.fixture(scope="session")
def react_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return npm_install(tmp_path_factory.getbasetemp() / "npm-react", REACT)


async def test_error_boundary_logs_with_component_stack_and_renders_like_a_plain_one(
    page: Page, pages: PageServer, sidelog: Engine, react_modules: Path
) -> None:
    pages.npm = react_modules
    results = []
    for mode in ("off", "on"):
        app = f"const MODE = {mode!r};\n{APP}"
        pages.pages[mode] = page_html(
            script_src(sidelog), {}, app, body="<div id='root'></div>", head=REACT_SCRIPTS
        )
        await page.goto(pages.url(mode))
        results.append(await page.evaluate("scenario()"))
        await page.evaluate("sidelog.flush()")
    off, on = results
    assert on["dom"] == off["dom"]
    assert on["dom"] == [
        '<p id="fallback">Oops: render failed for order 42</p>',
        '<div><p id="ok">fine</p></div>',
        "<b>static fallback</b>",
        "",  # still failed, and no fallback given: nothing, as a plain boundary renders
    ]
    assert on["same"] is True  # one component class per React

    rows = await events(sidelog, "category = 'error'")
    # Two errors: the last render met a boundary already showing its fallback.
    assert [row["message"] for row in rows] == ["render failed for order 42"] * 2
    assert {row["details"]["kind"] for row in rows} == {"react.errorBoundary"}
    first, deep = (row["details"] for row in rows)
    assert "at Bomb" in first["componentStack"]
    assert "SidelogErrorBoundary" in first["componentStack"]
    assert "render failed for order 42" in first["stack"]
    assert len(deep["componentStack"]) < 64 * 1024 + 100
    assert deep["componentStack"].startswith("\n    at Bomb")
    assert deep["componentStack"].rsplit("\n", 1)[1].startswith("… [cut: ")


async def test_react_19_root_options_log_once_and_keep_react_default_reporting(
    page: Page, pages: PageServer, sidelog: Engine
) -> None:
    app = ROOTS_APP + "window.heard = []; addEventListener('error', (e) => heard.push(e.message));"
    pages.pages["roots"] = page_html(script_src(sidelog), {"capture-errors": ""}, app, crossorigin=True)
    await page.goto(pages.url("roots"))
    seen = await page.evaluate("rootHandlers()")
    await page.evaluate("sidelog.flush()")
    assert seen["keys"] == ["onCaughtError", "onRecoverableError", "onUncaughtError"]
    assert seen["printed"] == ["caught by a root"]  # React's default for caught errors: console.error
    assert seen["handled"] == ["uncaught in root"]  # the app's own handler still runs
    # React's default for recoverable errors is reportError: the page sees it as before.
    assert [text.splitlines()[0] for text in page.exceptions] == ["Error: hydration mismatch"]
    assert await page.evaluate("heard") == ["Uncaught Error: hydration mismatch"]  # not "Script error."

    rows = await events(sidelog, "category = 'error'")
    # Once each: the window error that reportError raised is not logged a second time.
    assert [(row["message"], row["level"], row["details"]["kind"]) for row in rows] == [
        ("caught by a root", "error", "react.caughtError"),
        ("hydration mismatch", "warn", "react.recoverableError"),
        ("uncaught in root", "error", "react.uncaughtError"),
    ]
    assert rows[0]["details"]["componentStack"] == "\n    at Widget"
