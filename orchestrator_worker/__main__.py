"""`python -m orchestrator_worker`: run a worker until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os

from pydantic import ValidationError

from orchestrator_worker import identity, telemetry
from orchestrator_worker.settings import WorkerSettings
from orchestrator_worker.worker import Worker

logger = logging.getLogger("orchestrator_worker")


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
    try:
        me = identity.take(settings.worker_id, settings.run_dir)
    except identity.NoIdentity as exc:
        raise SystemExit(f"the worker cannot start: {exc}") from None
    # Held until the process ends: the slot (and so the id) stays ours.
    with me:
        if me.slot_file is not None:
            logger.info("worker id %s (no CRONIUM_WORKER_ID: slot %s of this host)", me.worker_id, me.slot_file)
        settings = settings.model_copy(update={"worker_id": me.worker_id})

        if settings.metrics_port:
            telemetry.serve(settings.metrics_host, settings.metrics_port)

        async def run() -> None:
            worker = Worker(settings)
            worker.install_signal_handlers()
            await worker.run()

        asyncio.run(run())


if __name__ == "__main__":
    main()
