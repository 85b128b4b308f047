"""SQLAlchemy's asyncio engine, without the ORM its package imports.

``sqlalchemy.ext.asyncio``'s ``__init__`` imports ``AsyncSession`` and with it the
whole ORM, which sidelog never uses: about 7 MiB of resident memory and 100-300 ms of
start-up in every process (``sidelog serve``, the UI, every command that opens the
store). The engine itself lives in the submodule ``sqlalchemy.ext.asyncio.engine``,
which needs only SQLAlchemy Core. So, unless something imported the package already,
this module registers the package without running its ``__init__`` and imports the
engine submodule from it; the first access to any other name of the package (``from
sqlalchemy.ext.asyncio import AsyncSession`` anywhere in the process, by sidelog's
PostgreSQL modules or by a library) runs the real ``__init__`` then, into the same
module, so everything the package offers is still there, the same classes included.

``tests/unit/test_async_core.py`` checks both halves in a fresh interpreter.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

_PACKAGE = "sqlalchemy.ext.asyncio"


def _register_package() -> None:
    """Put ``sqlalchemy.ext.asyncio`` in ``sys.modules`` with its ``__init__`` deferred."""
    if _PACKAGE in sys.modules:
        return
    import sqlalchemy.ext

    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # an unusual installation: let the normal import run the package as usual
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)

    def deferred_init(name: str) -> Any:
        """Any name the package's ``__init__`` would define: run it now, then answer.
        A submodule's name is left to the import system, which imports it as usual."""
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        if importlib.util.find_spec(f"{_PACKAGE}.{name}") is not None:
            raise AttributeError(name)
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = deferred_init  # type: ignore[method-assign]
    sys.modules[_PACKAGE] = package
    sqlalchemy.ext.asyncio = package


_register_package()

from sqlalchemy.ext.asyncio.engine import AsyncConnection, AsyncEngine, create_async_engine  # noqa: E402

__all__ = ["AsyncConnection", "AsyncEngine", "create_async_engine"]
