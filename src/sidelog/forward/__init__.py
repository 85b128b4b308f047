"""Forwarding: every stored event sent onward as OTLP/HTTP logs (README "Forwarding").

``destination`` parses the ``--forward`` URLs (pure: ``config.py`` uses it);
``encode`` turns stored events into an ``ExportLogsServiceRequest``; ``cursor``
keeps the last forwarded id per destination in the store; ``sender`` makes one
HTTP attempt and says whether to retry; ``forwarder`` runs the loop for one
destination and reports its health.
"""
