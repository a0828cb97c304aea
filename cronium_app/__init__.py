"""Cronium: schedule and run scripts in locked-down containers."""
