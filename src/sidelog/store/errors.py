"""The one exception the store raises for a database it cannot open or use."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message is the one line to show."""
