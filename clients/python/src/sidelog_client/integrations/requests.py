"""Outgoing calls of a ``requests.Session`` as sidelog events.

    from sidelog_client.integrations import requests as sidelog_requests
    sidelog_requests.instrument(session, logger=log)

Each transport adapter the session has mounted (``http://``, ``https://`` and any the
app added) is wrapped by one that times ``send`` and sees its exceptions, which a
response hook could not; the app's adapters keep their settings (retries, pools).
Each redirect hop is one call. requests is imported only when ``instrument`` runs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sidelog_client.integrations import (
    DIRECT,
    QUIET,
    HttpCalls,
    Instrumentation,
    _clock,
    library,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.logger import EventLogger

_adapter_class: Any = None


def instrument(
    session: Any,
    logger: EventLogger | None = None,
    *,
    slow_ms: float | None = None,
    category: str = "http",
    level: str | None = "info",
) -> Instrumentation:
    """Log every call ``session`` makes; returns the ``Instrumentation`` (``remove()`` undoes it).

    ``level=None`` logs only slow, 5xx and failed calls.
    """
    state = Instrumentation("requests")
    calls = HttpCalls(logger, slow_ms, category, state, level)
    adapter_class = _timed_adapter_class()
    originals = dict(session.adapters)
    for prefix, adapter in originals.items():
        if not isinstance(adapter, adapter_class):
            session.mount(prefix, adapter_class(adapter, calls))

    def undo() -> None:
        for prefix, adapter in originals.items():
            session.mount(prefix, adapter)

    state._undo = undo
    return state


_targets: dict[str, tuple[str, str, str]] = {}
"""Host, path and query of URLs already seen (an app calls the same few endpoints again and again)."""
_TARGETS_LIMIT = 1024
_TARGET_MEMO_CHARS = 512


def _target(url: str) -> tuple[str, str, str]:
    """``(host[:port], path, query)`` of a prepared request's URL, without the userinfo."""
    known = _targets.get(url)
    if known is not None:
        return known
    parts = urlsplit(url)
    target = (parts.netloc.rpartition("@")[2], parts.path or "/", parts.query)
    if len(url) <= _TARGET_MEMO_CHARS:
        if len(_targets) >= _TARGETS_LIMIT:  # a flood of distinct URLs must not grow memory
            _targets.clear()
        _targets[url] = target
    return target


def _timed_adapter_class() -> Any:
    """The adapter class, defined on first use so that importing this module imports no requests."""
    global _adapter_class
    if _adapter_class is not None:
        return _adapter_class
    base: Any = library("requests.adapters").BaseAdapter

    class TimedAdapter(base):  # type: ignore[misc]  # the class only exists at run time
        """Delegates to the app's adapter; logs each ``send`` (its response or its exception)."""

        def __init__(self, inner: Any, calls: HttpCalls) -> None:
            super().__init__()
            self.inner = inner
            self.calls = calls

        def send(
            self,
            request: Any,
            stream: Any = False,
            timeout: Any = None,
            verify: Any = True,
            cert: Any = None,
            proxies: Any = None,
            **extra: Any,
        ) -> Any:
            # BaseAdapter.send's parameters by name, as requests passes them: forwarding
            # ``*args, **kwargs`` instead cost more than all the rest of this hook.
            started = _clock()
            try:
                if extra:  # an app's own adapter taking more: passed on as given
                    response = self.inner.send(
                        request,
                        stream=stream,
                        timeout=timeout,
                        verify=verify,
                        cert=cert,
                        proxies=proxies,
                        **extra,
                    )
                else:
                    response = self.inner.send(
                        request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
                    )
            except Exception as exc:
                self._log(request, _clock() - started, None, exc, None)
                raise
            # The hot path, inline: a fast, fine call is queued as raw values (``HttpCalls``).
            elapsed = _clock() - started
            calls = self.calls
            try:
                status = response.status_code
                if elapsed < calls.slow_s and status < 500:
                    fast = calls.fast
                    if fast is DIRECT:
                        calls.queue_fast(_target, request.method, request.url, status, elapsed)
                        return response
                    if fast is QUIET:
                        return response
                host, path, query = _target(request.url)
                calls.record(str(request.method), host, path, query, elapsed, status, None, response.headers)
            except Exception as exc:
                calls.state.failed(exc)
            return response

        def _log(
            self, request: Any, elapsed: float, status: int | None, error: BaseException | None, headers: Any
        ) -> None:
            try:
                host, path, query = _target(request.url)
                self.calls.record(str(request.method), host, path, query, elapsed, status, error, headers)
            except Exception as exc:
                self.calls.state.failed(exc)

        def close(self) -> None:
            self.inner.close()

        def __getattr__(self, name: str) -> Any:
            # max_retries, poolmanager, proxy_manager…: what code reading the adapter expects
            inner = self.__dict__.get("inner")
            if inner is None:
                raise AttributeError(name)
            return getattr(inner, name)

    _adapter_class = TimedAdapter
    return TimedAdapter
