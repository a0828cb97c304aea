"""Reusable pieces of the web UI: layout, badges, forms, the code editor, the log viewer."""
