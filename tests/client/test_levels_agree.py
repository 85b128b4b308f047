"""The client's level table (``sidelog_client.levels``) is a copy of the server's, and must stay equal.

The client cannot import ``sidelog.levels`` (it is installed without the server),
so this test is what keeps the two in step.
"""

from __future__ import annotations

from sidelog import levels as server
from sidelog_client import levels as client


def test_the_client_knows_the_same_levels_and_spellings_as_the_server() -> None:
    assert client.LEVELS == server.LEVELS
    assert client.LEVEL_RANK == server.LEVEL_RANK
    assert client.LEVEL_ALIASES == server.LEVEL_ALIASES
