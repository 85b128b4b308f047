"""sidelog: a local event sidecar for developers.

This package's top level is the public client API only (``EventLogger`` and
friends); it imports no Textual and starts nothing at import time.
"""

__version__ = "0.1.0"
