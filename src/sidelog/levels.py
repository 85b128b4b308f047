"""The four event levels and their accepted spellings: one table for server and client.

The table lives in the client package (``clients/python/src/sidelog_client/levels.py``),
which apps install alone and which must not need the server; the server, which always
has the client installed, takes it from there rather than keeping a copy.
"""

from __future__ import annotations

from sidelog_client.levels import LEVEL_ALIASES, LEVEL_RANK, LEVELS

__all__ = ["LEVELS", "LEVEL_ALIASES", "LEVEL_RANK"]
