"""The browser terminal: an interactive shell on a user's server, relayed
between a websocket and an SSH session the app opens."""
