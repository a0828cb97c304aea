"""The `cronium` command line: a client of Cronium's HTTP API (it imports
nothing from the app, so it installs and runs anywhere the API is reachable)."""
