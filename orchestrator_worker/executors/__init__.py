"""Ways to run a job: in a Docker container, or as an HTTP request."""
