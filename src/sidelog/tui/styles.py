"""Where the app's stylesheet lives, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path


def stylesheet_path() -> Path:
    """The app's stylesheet, absolute: inside the wheel, or the checkout's ``styles/``.

    Textual resolves a relative ``CSS_PATH`` against the app's module, which only works
    in a checkout; the wheel ships ``styles/`` as ``sidelog/styles`` (pyproject force-include).
    """
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "styles", package.parent.parent / "styles"):
        candidate = folder / "app.tcss"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"sidelog's stylesheet is missing (looked in {package / 'styles'})")
