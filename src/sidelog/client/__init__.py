"""Kept so ``import sidelog.client`` (and its public names) still work: the client moved.

The Python client is now the ``sidelog_client`` package (``clients/python``), which
apps can install without the server; this shim re-exports its public names, loaded
on first use. The JavaScript client served at ``/sidelog.js`` is
``src/sidelog/static/sidelog.js``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs more than this module

__all__ = [
    "EventLogger",
    "SidelogASGIMiddleware",
    "SidelogHandler",
    "SidelogWSGIMiddleware",
    "default_logger",
    "install_excepthook",
]

if TYPE_CHECKING:
    from typing import Any

    from sidelog_client import (
        EventLogger,
        SidelogASGIMiddleware,
        SidelogHandler,
        SidelogWSGIMiddleware,
        default_logger,
        install_excepthook,
    )


def __getattr__(name: str) -> Any:
    """The client's public names, from ``sidelog_client`` on first use."""
    if name not in __all__:
        raise AttributeError(f"module 'sidelog.client' has no attribute {name!r}")
    import sidelog_client

    value = getattr(sidelog_client, name)
    globals()[name] = value
    return value
