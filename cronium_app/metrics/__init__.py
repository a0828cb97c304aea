"""Prometheus metrics of the app (/metrics): what the database says at
scrape time (`collector.py`), the workers' slots as they last told any
replica (`presence.py`), and this process's own histograms and counters
(`cronium_app/telemetry.py`, with HTTP requests timed by `http.py`)."""
