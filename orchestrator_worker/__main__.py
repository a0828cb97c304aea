"""`python -m orchestrator_worker`: run a worker until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os

from pydantic import ValidationError

from orchestrator_worker.settings import WorkerSettings
from orchestrator_worker.worker import Worker


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("CRONIUM_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Both log every request/channel at INFO: far too much for a busy worker.
    for noisy in ("httpx", "asyncssh"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = WorkerSettings()
    except ValidationError as exc:
        raise SystemExit(f"the worker cannot start: {'; '.join(error['msg'] for error in exc.errors())}") from None

    async def run() -> None:
        worker = Worker(settings)
        worker.install_signal_handlers()
        await worker.run()

    asyncio.run(run())


if __name__ == "__main__":
    main()
