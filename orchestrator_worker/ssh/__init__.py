"""Running jobs on users' own servers over SSH (asyncssh)."""
