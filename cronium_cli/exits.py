"""The command line's exit codes (README, "Command line")."""

from __future__ import annotations

OK = 0
# The job failed without an exit code of its own (an HTTP event's error, a
# worker's error), or only partly succeeded (some of its servers failed);
# also a workflow run that failed.
JOB_FAILED = 1
USAGE = 2  # a bad option or argument (click's own code)
REFUSED = 65  # the server refused the request or the file (not found, invalid, conflict)
SERVER_ERROR = 70  # the server failed (5xx)
UNREACHABLE = 69  # no answer from the server (after retries, when following a job)
TRY_LATER = 75  # too many requests, or the server is busy: try again later
NOT_SIGNED_IN = 77  # no token, or the server refused it
TIMED_OUT = 124  # the job ran past its timeout (as timeout(1) exits)
CANCELLED = 125  # the job (or the workflow run) was cancelled
INTERRUPTED = 130  # Ctrl-C


class CliError(Exception):
    """A failure to report in one line (never a traceback), with its exit code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.message = message
        self.code = code


class Unreachable(CliError):
    def __init__(self, message: str):
        super().__init__(message, UNREACHABLE)
