"""``sidelog bench``: the measuring instrument, kept out of the shipped product code.

``run.py`` is the command (ingest rate, latency, memory, client-call cost), ``ui.py``
measures the terminal UI from outside it (``ui_driver.py`` drives the real app
headless), ``fill.py``/``prefill.py`` build the prefilled stores, ``http_load.py`` is a
lean HTTP load generator and ``client_cost.py`` times the Python client's calls.
"""
