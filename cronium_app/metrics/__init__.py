"""Prometheus metrics of the app (/metrics): what the database says at
scrape time (`collector.py`: jobs, workers online and their slots as they
last told any replica), and this process's own histograms and counters
(`cronium_app/telemetry.py`, with HTTP requests timed by `http.py`)."""
