"""Screens pushed over the main view: help, prompts, event detail."""
