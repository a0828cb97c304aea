"""Cronium's worker: claims jobs from the app and runs each one in its own
locked-down Docker container (or as an HTTP request)."""
