"""``POST /v1/vacuum``: a running server gives its file's free pages back to the disk.

``sidelog vacuum`` compacts a database file nobody is using. When a server holds the
file, the command asks it here instead (``sidelog.commands.remote``), as the UI's
palette command *Vacuum…* does in its own process: ``ReleaseJob`` in
``store/maintenance.py`` hands the free pages back a few hundred per writer turn,
between ingest batches, then truncates the WAL. The answer gives the database plus
WAL size before and after and the pages released.

The route changes the file, so it has the resolve route's protections (the token and
origin checks of every route, and ``check_state_change``: a body declared JSON, never
a cross-site request). A PostgreSQL store has nothing to give back this way (its
server reclaims space itself): 409 with one line, as for a file too old for
incremental vacuum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aiohttp import web

from sidelog.ingest.http_body import read_body
from sidelog.ingest.http_routes import ENGINE, NOTE_BODY_LIMIT, check_params, json_response
from sidelog.ingest.http_security import ApiError, check_state_change
from sidelog.pipeline.batcher import JobAbandoned
from sidelog.store.errors import StoreError
from sidelog.store.maintenance import ReleaseJob

if TYPE_CHECKING:
    from collections.abc import Callable

    from sidelog.config import Settings

__all__ = ["register"]


@runtime_checkable
class _Store(Protocol):
    """What this route needs of the engine beyond ``EngineAPI`` (the engine has both)."""

    @property
    def settings(self) -> Settings: ...

    async def run_job(self, make: Callable[[Any], Any], *, recount: bool = True) -> Any: ...


def register(app: web.Application, expect_handler: Any = None) -> None:
    """Add ``POST /v1/vacuum`` to ``app``."""
    app.router.add_post("/v1/vacuum", vacuum, expect_handler=expect_handler)


async def vacuum(request: web.Request) -> web.Response:
    """Give free pages back; 200 with ``bytesBefore``, ``bytesAfter`` and ``releasedPages``."""
    check_params(request, frozenset())
    check_state_change(request.headers, "POST /v1/vacuum")
    raw = (await read_body(request, NOTE_BODY_LIMIT)).strip()
    if raw and raw != b"{}":
        raise ApiError(400, "body must be empty or {} (vacuum takes no options)")
    engine = request.app[ENGINE]
    if not isinstance(engine, _Store):
        raise ApiError(501, "this sidelog cannot vacuum its store")
    settings = engine.settings
    if settings.store.is_postgres:
        raise ApiError(409, "the store is PostgreSQL: its server reclaims space itself (VACUUM there)")
    try:
        job: ReleaseJob = await engine.run_job(lambda writer: ReleaseJob(writer, settings.db), recount=False)
    except StoreError as exc:
        raise ApiError(409, str(exc)) from None
    except JobAbandoned:
        raise ApiError(503, "sidelog is stopping; nothing was vacuumed") from None
    return json_response(
        {"bytesBefore": job.bytes_before, "bytesAfter": job.bytes_after, "releasedPages": job.released_pages}
    )
