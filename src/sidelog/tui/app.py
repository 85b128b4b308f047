"""Placeholder until the terminal UI lands: run headless."""

from __future__ import annotations

import asyncio

from sidelog.config import Settings


def run_app(settings: Settings) -> int:
    """Start sidelog (currently headless, like ``sidelog serve``)."""
    from sidelog.commands.serve import serve

    return asyncio.run(serve(settings))
