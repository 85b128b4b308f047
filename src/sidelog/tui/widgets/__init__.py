"""The main view's panes, one primary widget per module."""
