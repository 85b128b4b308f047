"""sidelog_client: send structured events from a Python app to a local sidelog.

The client installs on its own (``pip install ./clients/python``) and imports only
the standard library, plus orjson when it is installed (the ``fast`` extra); the full
``sidelog`` tool ships this same package and re-exports it (README, "Client libraries")::

    from sidelog_client import EventLogger
    log = EventLogger()                 # SIDELOG_ADDRESS, else 127.0.0.1:7411
    log.event("user signed in", category="auth", user_id="u1")

Names are loaded on first use (PEP 562), so ``import sidelog_client`` costs next to
nothing; no thread or socket exists until an ``EventLogger`` is created.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs more than this package

__version__ = "0.1.0"

__all__ = [
    "EventLogger",
    "SidelogASGIMiddleware",
    "SidelogHandler",
    "SidelogWSGIMiddleware",
    "__version__",
    "default_logger",
    "install_excepthook",
]

if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.excepthook import install_excepthook
    from sidelog_client.logger import EventLogger, default_logger
    from sidelog_client.logging import SidelogHandler
    from sidelog_client.middleware import SidelogASGIMiddleware, SidelogWSGIMiddleware

_LAZY = {
    "EventLogger": "sidelog_client.logger",
    "default_logger": "sidelog_client.logger",
    "install_excepthook": "sidelog_client.excepthook",
    "SidelogASGIMiddleware": "sidelog_client.middleware",
    "SidelogWSGIMiddleware": "sidelog_client.middleware",
    "SidelogHandler": "sidelog_client.logging",
}


def __getattr__(name: str) -> Any:
    """Import the public names on first use, keeping ``import sidelog_client`` nearly free."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'sidelog_client' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The lazy names too, for completion."""
    return sorted(set(globals()) | set(__all__))
