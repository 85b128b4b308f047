"""Helpers shared by the test packages (not tests themselves)."""
