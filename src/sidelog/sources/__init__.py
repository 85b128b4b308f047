"""Where ``sidelog run`` and ``sidelog import`` get their lines, and where they send them.

``lines`` splits bytes into bounded lines, ``child`` runs a wrapped command,
``files`` reads files and stdin with idempotency keys, ``join`` joins stack
traces into one entry, ``progress`` draws the import's progress, ``sink`` defines
where lines go (and how a line becomes an event) and ``tcp_sink`` sends them to a
running sidelog. asyncio and the standard library, plus orjson and the dialects
package for reading lines; nothing here starts a server.
"""
