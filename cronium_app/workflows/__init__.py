"""Workflows: graphs of steps (each runs an event) joined by conditional edges."""
