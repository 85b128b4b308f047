"""npm packages the JavaScript tests load (React, consola), installed by the test run itself.

Each package is installed with the machine's npm into a folder of the test session
(pinned versions; npm's own cache makes a second run fast). Nothing is downloaded
outside the npm registry, and nothing is installed into the repository.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NPM = shutil.which("npm")
NODE = shutil.which("node")

REACT = ("react@18.3.1", "react-dom@18.3.1")
"""React 18 still ships UMD builds (``umd/react.development.js``) a page loads with <script>."""
CONSOLA = ("consola@3.4.2",)


def npm_install(folder: Path, packages: tuple[str, ...]) -> Path:
    """``node_modules`` in ``folder`` holding ``packages``; skips the test if npm cannot install them."""
    if NPM is None or NODE is None:
        pytest.skip("node and npm are needed for this test and are not installed")
    modules = folder / "node_modules"
    names = [spec.rsplit("@", 1)[0] for spec in packages]
    if all((modules / name / "package.json").exists() for name in names):
        return modules
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        NPM,
        "install",
        "--prefix",
        str(folder),
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--no-package-lock",
        "--loglevel=error",
        *packages,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        pytest.skip(f"npm could not install {' '.join(packages)}: {result.stderr.strip()[-500:]}")
    return modules
