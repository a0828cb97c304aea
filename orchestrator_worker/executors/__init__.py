"""Ways to run a job, behind one interface (base.Executor): in a local
Docker container, on the user's servers over SSH, or as an HTTP request."""
