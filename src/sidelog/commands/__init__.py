"""One module per ``sidelog`` sub-command; ``cli.py`` parses and dispatches."""
