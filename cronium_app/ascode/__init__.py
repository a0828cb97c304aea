"""Events as code: a user's events, workflows, schedules and variables as a
versioned YAML document (`document.py`), read with the line of every field
(`parse.py`), exported (`export.py`), and planned and applied (`sync.py`)."""
