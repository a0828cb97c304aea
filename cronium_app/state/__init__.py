"""Reflex states of the web UI: AppState (the signed-in user) and one state per page."""
