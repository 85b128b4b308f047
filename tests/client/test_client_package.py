"""``clients/python`` is a product of its own: installed alone it needs only the standard library.

The wheel is built from ``clients/python`` offline (pip with the test environment's
hatchling, no index), installed into a fresh venv that has nothing else, and run
there against a real sidelog. The full tool's spellings (``from sidelog import …``)
must keep giving the same objects.
"""

from __future__ import annotations

import ast
import asyncio
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sidelog
import sidelog.client
import sidelog.logging
import sidelog_client
from sidelog.engine import Engine
from tests.client.conftest import stored
from tests.conftest import tcp_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"
SOURCE = CLIENT / "src" / "sidelog_client"
MODULES = sorted(path.stem for path in SOURCE.glob("*.py") if path.stem != "__init__")
MAX_INSTALLED_BYTES = 1024 * 1024

PROBE = """
import importlib, importlib.util, json, os, sys
import sidelog_client
from sidelog_client import EventLogger, SidelogASGIMiddleware, SidelogHandler, SidelogWSGIMiddleware
from sidelog_client import default_logger, install_excepthook
from sidelog_client.config import ClientConfig

for name in sys.argv[2].split(","):
    importlib.import_module("sidelog_client." + name)
log = EventLogger(sys.argv[1], config=ClientConfig(), source="server")
python = sys.version.split()[0]
log.event("sent by the client installed alone", category="isolation", details={"python": python})
delivered = log.flush(10)
log.close()


def foreign_modules():
    names = getattr(sys, "stdlib_module_names", None)
    tops = {name.split(".")[0] for name in sys.modules}
    if names is not None:
        return sorted(tops - set(names) - {"sidelog_client", "__main__"})
    # Python 3.9 has no stdlib_module_names: judge each module by where it was loaded from.
    import sysconfig

    roots = tuple(os.path.realpath(sysconfig.get_paths()[key]) + os.sep for key in ("stdlib", "platstdlib"))
    found = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        top = name.split(".")[0]
        if path and top not in ("sidelog_client", "__main__"):
            if not os.path.realpath(path).startswith(roots):
                found.add(top)
    return sorted(found)


print(json.dumps({
    "foreign": foreign_modules(),
    "delivered": delivered,
    "backend": sys.modules["sidelog_client.jsonlib"].BACKEND,
    "sidelog_installed": importlib.util.find_spec("sidelog") is not None,
    "client_file": sidelog_client.__file__,
}))
"""


@pytest.fixture(scope="session")
def client_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``sidelog-client`` wheel, built once per session without network access."""
    pytest.importorskip(
        "hatchling", reason="building clients/python offline needs hatchling (the build backend)"
    )
    out = tmp_path_factory.mktemp("client-wheel")
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", str(CLIENT), "-w", str(out))
    (wheel,) = out.glob("sidelog_client-*.whl")
    return wheel


def _pip(*args: str, python: str | None = None) -> None:
    """Run this environment's pip (optionally installing into another interpreter's environment)."""
    target = ("--python", python) if python else ()
    command = [sys.executable, "-m", "pip", *target, "--disable-pip-version-check", "--no-input", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _python_3_9() -> str | None:
    """A Python 3.9 interpreter on this machine, if there is one (the oldest the client supports)."""
    candidates = [
        shutil.which("python3.9"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9"))),
    ]
    for candidate in candidates:
        if candidate is None:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


def _venv_with_client(base_python: str, wheel: Path, where: Path) -> tuple[Path, Path]:
    """A venv with no pip and nothing but the client wheel installed; its python and site-packages."""
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    _pip("install", "--no-deps", "--no-index", str(wheel), python=str(python))
    (site_packages,) = where.glob("lib/python3.*/site-packages")
    return python, site_packages


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("interpreter", ["this python", "python 3.9"])
async def test_installed_alone_it_loads_only_the_standard_library_and_delivers(
    interpreter: str, client_wheel: Path, engine: Engine, tmp_path: Path
) -> None:
    base = sys.executable if interpreter == "this python" else _python_3_9()
    if base is None:
        pytest.skip("no Python 3.9 on this machine")
    python, site_packages = await asyncio.to_thread(
        _venv_with_client, base, client_wheel, tmp_path / "app-venv"
    )
    installed = {path.name for path in site_packages.iterdir()}
    assert installed == {"sidelog_client", f"sidelog_client-{sidelog_client.__version__}.dist-info"}
    assert _size(site_packages) <= MAX_INSTALLED_BYTES

    process = await asyncio.create_subprocess_exec(
        str(python),
        "-c",
        PROBE,
        f"127.0.0.1:{tcp_port(engine)}",
        ",".join(MODULES),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    report = json.loads(out)

    assert report["foreign"] == []
    assert report["sidelog_installed"] is False
    assert report["backend"] == "json"  # no orjson in a venv with nothing else
    assert report["client_file"].startswith(str(site_packages))
    assert report["delivered"] is True
    (row,) = stored(engine.settings.db, "category = 'isolation'")
    assert row["message"] == "sent by the client installed alone"
    assert row["details"]["python"].startswith(
        "3.9." if interpreter == "python 3.9" else sys.version.split()[0]
    )


def test_the_sources_import_only_the_standard_library_and_optionally_orjson() -> None:
    """Every import in the package, lazy and type-checking ones too (the venv test sees only what ran)."""
    allowed = set(sys.stdlib_module_names) | {"sidelog_client"}
    for path in SOURCE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "orjson":
                    assert path.name == "jsonlib.py", f"{path.name} imports orjson; only jsonlib.py may"
                else:
                    assert top in allowed, f"{path.name} imports {name}"


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    command = [sys.executable, "-c", f"import sys\n{code}\nprint(' '.join(sys.modules))"]
    return set(subprocess.run(command, capture_output=True, text=True, check=True).stdout.split())


def test_importing_the_client_loads_nothing_and_its_names_no_json_library() -> None:
    """Nothing but the package at import; the JSON library only when a sender thread starts."""
    bare = _loaded_after("import sidelog_client")
    assert not any(name.startswith("sidelog_client.") for name in bare)
    assert bare.isdisjoint({"typing", "json", "orjson", "sidelog"})
    names = _loaded_after("from sidelog_client import EventLogger, SidelogHandler, install_excepthook")
    assert names.isdisjoint({"json", "orjson", "sidelog", "sidelog_client.encode", "sidelog_client.jsonlib"})


def test_the_full_tool_gives_the_same_objects() -> None:
    """``from sidelog import …`` and ``sidelog.logging`` are the client's own names, not copies."""
    for name in (
        "EventLogger",
        "default_logger",
        "install_excepthook",
        "SidelogASGIMiddleware",
        "SidelogWSGIMiddleware",
    ):
        assert getattr(sidelog, name) is getattr(sidelog_client, name), name
        assert getattr(sidelog.client, name) is getattr(sidelog_client, name), name
    assert sidelog.logging.SidelogHandler is sidelog_client.SidelogHandler
    assert sidelog.client.SidelogHandler is sidelog_client.SidelogHandler


def test_the_client_source_is_lint_clean_for_python_3_9() -> None:
    """clients/python/pyproject.toml sets ruff's target to the oldest supported Python."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.fail("ruff is not installed; install the test extra: pip install -e '.[test]'")
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run([ruff, *args, "."], cwd=CLIENT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
