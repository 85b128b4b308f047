"""``from sidelog.logging import SidelogHandler``, for people who installed the full tool.

The handler is the client's (``sidelog_client.logging``, in ``clients/python``),
re-exported so this spelling keeps working; both give the same class.
"""

from __future__ import annotations

from sidelog_client.logging import SidelogHandler, level_name

__all__ = ["SidelogHandler", "level_name"]
