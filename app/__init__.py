"""Parlance: a private AI chat that runs entirely in the browser."""
