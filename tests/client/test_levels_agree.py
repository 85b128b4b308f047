"""``sidelog.js`` keeps its own copy of the level table (it runs in browsers and Node);
this test keeps it equal to the one the Python client and the server share
(``sidelog_client.levels``, re-exported by ``sidelog.levels``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sidelog_client.levels import LEVEL_ALIASES, LEVEL_RANK

SIDELOG_JS = Path(__file__).parents[2] / "src" / "sidelog" / "static" / "sidelog.js"


def test_sidelog_js_ranks_every_spelling_as_the_shared_table_does() -> None:
    found = re.search(r"var LEVELS = (\{[^}]*\});", SIDELOG_JS.read_text(encoding="utf-8"))
    assert found is not None
    js_ranks = json.loads(re.sub(r"(\w+):", r'"\1":', found.group(1)))
    assert js_ranks == {spelling: LEVEL_RANK[level] for spelling, level in LEVEL_ALIASES.items()}
