"""sidelog: a local event sidecar for developers.

This package's top level is the public client API only::

    from sidelog import EventLogger
    log = EventLogger()                 # SIDELOG_ADDRESS, else 127.0.0.1:7411
    log.event("user signed in", category="auth", user_id="u1")

The client itself is the ``sidelog_client`` package (``clients/python``, also
installable alone); the full tool ships it and re-exports its names here, so both
spellings give the same objects. Names are loaded on first use (PEP 562), so
``import sidelog`` costs next to nothing and never imports Textual, SQLAlchemy,
pydantic or aiohttp; nothing starts at import.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs more than this package

__version__ = "0.1.0"

__all__ = [
    "EventLogger",
    "SidelogASGIMiddleware",
    "SidelogWSGIMiddleware",
    "__version__",
    "default_logger",
    "install_excepthook",
]

if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.excepthook import install_excepthook
    from sidelog_client.logger import EventLogger, default_logger
    from sidelog_client.middleware import SidelogASGIMiddleware, SidelogWSGIMiddleware

_CLIENT_NAMES = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    """Hand out the client's names on first use (``sidelog_client`` loads them lazily too)."""
    if name not in _CLIENT_NAMES:
        raise AttributeError(f"module 'sidelog' has no attribute {name!r}")
    import sidelog_client

    value = getattr(sidelog_client, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The lazy names too, for completion."""
    return sorted(set(globals()) | set(__all__))
