"""The Python client: ``EventLogger`` and its integrations (logging, excepthook, middleware).

Submodules are imported on demand; nothing here starts a thread or opens a socket
until an ``EventLogger`` is created. ``sidelog.js`` (the browser/Node client served
by the HTTP API) also lives in this folder.
"""
