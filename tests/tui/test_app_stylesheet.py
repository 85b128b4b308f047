"""The stylesheet is found outside a checkout: laid out as the wheel lays it out, imported from there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from sidelog.tui.styles import stylesheet_path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sidelog, sidelog.tui.styles as app
from textual.app import App
from textual.css.stylesheet import Stylesheet
path = app.stylesheet_path()
sheet = Stylesheet(variables=App().get_css_variables())
sheet.read(path)
sheet.parse()
print(sidelog.__file__)
print(path)
print(len(sheet.rules))
"""


def test_checkout_uses_the_top_level_styles_folder() -> None:
    assert stylesheet_path() == ROOT / "styles" / "app.tcss"
    assert stylesheet_path().is_absolute()


def test_installed_wheel_layout_finds_its_stylesheet(tmp_path: Path) -> None:
    """Build the wheel's file layout from pyproject's hatch settings, then import only from it."""
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    site = tmp_path / "site"
    for package in wheel["packages"]:
        skip = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / package, site / Path(package).name, ignore=skip)
    for source, target in wheel["force-include"].items():
        shutil.copytree(ROOT / source, site / target)
    assert not (site / "styles").exists()  # nothing outside the package, as in site-packages

    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert result.returncode == 0, result.stderr
    module_file, sheet, rules = result.stdout.split()
    assert Path(module_file).is_relative_to(site)
    assert Path(sheet) == site / "sidelog" / "styles" / "app.tcss"
    assert int(rules) > 10
