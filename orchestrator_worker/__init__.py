"""Cronium's worker: claims jobs from the app over its orchestrator API and
runs each one in its own locked-down Docker container, on the user's
servers over SSH, or as an HTTP request.

It imports nothing from the app: a worker host installs only
orchestrator_worker/requirements.txt. The app imports `protocol` (the wire
format) and `ssh.connect` from here, so this file and the subpackages'
`__init__` files import nothing themselves."""
