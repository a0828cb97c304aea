"""The worker loop: claim jobs while there are free slots, run each in its
own task with the executor its kind needs, keep leases alive, pick up
cancels, and clean up after crashes.

Side tasks (heartbeat, reaper) are watched: if one dies, the worker stops
loudly rather than run on without renewing its leases.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time

from orchestrator_worker import telemetry
from orchestrator_worker.client import OrchestratorClient, Refused
from orchestrator_worker.control import JobControl, StopReason
from orchestrator_worker.executors.base import Executor
from orchestrator_worker.executors.docker_runner import ContainerRef, DockerRunner, DockerUnavailable
from orchestrator_worker.executors.http import HttpExecutor
from orchestrator_worker.executors.remote import RemoteRunner
from orchestrator_worker.executors.tool import ToolExecutor
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.logs import BATCH_REFUSALS, LogSink
from orchestrator_worker.protocol import WorkerInfo, WorkerState
from orchestrator_worker.runtime_proxy import RuntimeProxy
from orchestrator_worker.settings import WorkerSettings

logger = logging.getLogger(__name__)

CLAIM_BATCH_MAX = 50
DOCKER_RETRY_S = 2.0
# A job that ends sooner never sends `running` on its own (see _mark_running).
RUNNING_REPORT_DELAY_S = 0.25


def executor_kind(job: ClaimedJob) -> str:
    """Which executor runs the job: an HTTP request, a tool's message, a
    script on the user's servers (the event has a target), or a script in a
    local container."""
    if job.type in ("http", "tool"):
        return job.type
    if job.execution.get("target"):
        return "remote"
    return "container"


class Worker:
    def __init__(self, settings: WorkerSettings, client: OrchestratorClient | None = None, runner: DockerRunner | None = None):
        if not settings.worker_id:
            raise ValueError("a Worker needs its id: take one with identity.take() first (see __main__.py)")
        self.settings = settings
        self.client = client or OrchestratorClient(settings)
        self.proxy = RuntimeProxy(settings)
        # Docker is also where the worker looks for leftovers (see _reap).
        self.runner = runner or DockerRunner(settings, self.proxy)
        self.executors: dict[str, Executor] = {
            "http": HttpExecutor(settings),
            "tool": ToolExecutor(settings),
            "remote": RemoteRunner(settings, self.client, self.proxy),
            "container": self.runner,
        }
        self.active: dict[str, tuple[ClaimedJob, JobControl]] = {}
        self.tasks: set[asyncio.Task] = set()
        self.stopping = asyncio.Event()
        self._slot_freed = asyncio.Event()
        # Other workers' containers whose jobs were not held at the last reap.
        self._unheld: set[str] = set()
        # What the heartbeats say about this worker (the app's Workers page).
        self.host = socket.gethostname()
        self.engine_version: str | None = None
        self.engine_host: str | None = None
        telemetry.track_slots(settings.concurrency, lambda: len(self.active))
        # The app keeps a row per worker (its slots) for its own metrics.
        self.client.slots = lambda: (settings.concurrency, len(self.active))

    # -- lifecycle ---------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_shutdown)

    def request_shutdown(self) -> None:
        if not self.stopping.is_set():
            logger.info("shutting down: no new jobs; waiting up to %.0f s for %d running", self.settings.shutdown_grace_s, len(self.active))
            self.stopping.set()

    async def run(self) -> None:
        logger.info("worker %s starting: concurrency %d, app %s", self.settings.worker_id, self.settings.concurrency, self.settings.orchestrator_url)
        try:
            if not await self._wait_for_docker():
                return
            await self.runner.egress.prepare()
            await self._reap(startup=True)
            self.runner.start_pool()
            side = [
                asyncio.create_task(self._heartbeat_forever(), name="heartbeat"),
                asyncio.create_task(self._reap_forever(), name="reaper"),
            ]
            claim = asyncio.create_task(self._claim_forever(), name="claim")
            stop = asyncio.create_task(self.stopping.wait(), name="stop")
            done, _ = await asyncio.wait([claim, stop, *side], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop and task.exception() is not None:
                    logger.critical("worker task %s crashed: %r; stopping", task.get_name(), task.exception())
                    self.stopping.set()
            claim.cancel()
            await self._drain()
            for task in side:
                task.cancel()
            await self._say_stopped()
        finally:
            await self.client.aclose()
            await self.proxy.aclose()
            for executor in self.executors.values():
                await executor.aclose()
            logger.info("worker %s stopped", self.settings.worker_id)

    async def _wait_for_docker(self) -> bool:
        warned = False
        while not self.stopping.is_set():
            try:
                version = await self.runner.ping()
                logger.info("Docker Engine %s reachable", version)
                self.engine_version = version
                self.engine_host = await self._engine_host()
                return True
            except DockerUnavailable as exc:
                if not warned:
                    logger.error("%s; no jobs will be claimed until it answers (retrying every %.0f s)", exc, DOCKER_RETRY_S)
                    warned = True
            try:
                await asyncio.wait_for(self.stopping.wait(), DOCKER_RETRY_S)
            except asyncio.TimeoutError:
                pass
        return False

    async def _engine_host(self) -> str | None:
        """The name of the machine the Docker Engine runs on (a worker in a
        container has a host name of its own)."""
        try:
            return (await asyncio.to_thread(self.runner.client.info)).get("Name")
        except Exception as exc:  # only shown on the Workers page
            logger.warning("could not read the Docker Engine's host name: %s", exc)
            return None

    async def _drain(self) -> None:
        """Let running jobs finish within the grace period; then stop them and
        give them back to the queue so another worker retries them."""
        if self.tasks:
            _, pending = await asyncio.wait(list(self.tasks), timeout=self.settings.shutdown_grace_s)
            if pending:
                logger.warning("grace period over: stopping %d jobs and releasing them for retry", len(pending))
                for _job, control in list(self.active.values()):
                    control.request_stop(StopReason.SHUTDOWN)
                await asyncio.wait(pending, timeout=self.settings.stop_grace_s + 30)

    # -- claiming ----------------------------------------------------------------

    async def _claim_forever(self) -> None:
        while not self.stopping.is_set():
            free = self.settings.concurrency - len(self.active)
            if free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            bodies = await self.client.claim(min(free, CLAIM_BATCH_MAX), self.settings.claim_wait_s)
            for body in bodies:
                self._start(ClaimedJob.from_api(body))

    def _start(self, job: ClaimedJob) -> None:
        control = JobControl()
        self.active[job.id] = (job, control)
        task = asyncio.create_task(self._run_job(job, control), name=f"job-{job.id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- one job -----------------------------------------------------------------

    async def _run_job(self, job: ClaimedJob, control: JobControl) -> None:
        extra = {"job_id": job.id, "attempt": job.attempt}
        logger.info("job %s attempt %d: starting (%s)", job.id, job.attempt, job.type, extra=extra)
        began = time.monotonic()
        sink = LogSink(job, self.client, self.settings, on_cap=lambda: control.request_stop(StopReason.LOG_CAP))
        executor = self.executor_for(job)
        try:
            marked = asyncio.create_task(self._mark_running(job, control, began))
            try:
                outcome = await self._execute(executor, job, sink, control)
            except Exception as exc:  # a worker bug must still end the job
                logger.exception("job %s: executor error", job.id, extra=extra)
                await sink.system(f"worker error: {exc}")
                outcome = Outcome("failed", error=f"worker error: {type(exc).__name__}: {exc}")
            await self._settle_running(marked)
            # Neither a cancel nor a shutdown may lose the log or the result.
            await asyncio.shield(self._report(job, control, sink, outcome, began))
        finally:
            await asyncio.shield(executor.cleanup(job))
            self.active.pop(job.id, None)
            self._slot_freed.set()

    async def _mark_running(self, job: ClaimedJob, control: JobControl, began: float) -> None:
        """Say `running`, unless the job ends first: a short job's end says
        it all in one request. Either way `runMs` dates the job's start to
        when this worker got it. A cancel or a lost lease reaches a job that
        waits here through the heartbeat."""
        await asyncio.sleep(RUNNING_REPORT_DELAY_S)
        try:
            reply = await self.client.running(job.id, job.attempt, int((time.monotonic() - began) * 1000))
            if reply.get("cancel"):
                control.request_stop(StopReason.CANCELLED)
        except Refused as exc:
            logger.warning("job %s: app refused 'running' (%s); dropping it", job.id, exc)
            control.request_stop(StopReason.LOST)

    @staticmethod
    async def _settle_running(marked: asyncio.Task) -> None:
        """The job has ended: a `running` not sent yet is not sent at all
        (one on its way may or may not arrive: the job's end wins either
        way, and a lost job is told by the refusal of its end)."""
        marked.cancel()
        await asyncio.gather(marked, return_exceptions=True)

    def executor_for(self, job: ClaimedJob) -> Executor:
        return self.executors[executor_kind(job)]

    async def _execute(self, executor: Executor, job: ClaimedJob, sink: LogSink, control: JobControl) -> Outcome:
        if control.reason == StopReason.LOST:
            return Outcome("failed", error="lost")
        return await executor.run(job, sink, control)

    async def _report(self, job: ClaimedJob, control: JobControl, sink: LogSink, outcome: Outcome, began: float) -> None:
        shutdown = control.reason == StopReason.SHUTDOWN
        if shutdown:
            await sink.system("the worker is shutting down; the job is released for another attempt")
        tail = await sink.close(hold_tail=not shutdown)
        if control.reason == StopReason.LOST or sink.lost:
            logger.warning("job %s attempt %d belongs to another attempt now; not reporting", job.id, job.attempt)
            return
        try:
            if shutdown:
                await self.client.release(job.id, job.attempt, "worker shutting down")
                return
            await self._complete(job, sink, outcome, tail, run_ms=int((time.monotonic() - began) * 1000))
            telemetry.JOBS.labels(status=outcome.status).inc()
            logger.info("job %s attempt %d: %s", job.id, job.attempt, outcome.status, extra={"job_id": job.id})
        except Refused as exc:
            logger.warning("job %s: app refused the result (%s)", job.id, exc, extra={"job_id": job.id})

    async def _complete(self, job: ClaimedJob, sink: LogSink, outcome: Outcome, tail: list, run_ms: int) -> None:
        """The result with the log's tail; if the app refuses the tail (a
        line over its own limits), the tail goes the usual way (which finds
        and replaces the refused lines) and the result follows alone.

        If the app refuses the result itself (over its request size limit,
        say a large HTTP response as the output), the job still ends now:
        failed, saying why. Otherwise it would stay held until its lease ran
        out and then run again, and again be refused."""
        try:
            await self.client.complete(job.id, job.attempt, outcome.to_api(), runs=tail, run_ms=run_ms)
            telemetry.LOG_LINES_SENT.inc(sum(len(run["lines"]) for run in tail))
            return
        except Refused as exc:
            if exc.status_code not in BATCH_REFUSALS:
                raise
            refusal = exc
        if tail:
            await sink.deliver_tail()
            try:
                await self.client.complete(job.id, job.attempt, outcome.to_api(), run_ms=run_ms)
                return
            except Refused as exc:
                if exc.status_code not in BATCH_REFUSALS:
                    raise
                refusal = exc
        logger.warning("job %s: app refused the result (%s); reporting it failed", job.id, refusal, extra={"job_id": job.id})
        await self.client.complete(job.id, job.attempt, outcome.refused(str(refusal)).to_api(), run_ms=run_ms)

    # -- side tasks --------------------------------------------------------------

    def info(self, state: WorkerState | None = None) -> WorkerInfo:
        """What this worker says about itself in its heartbeats."""
        info = WorkerInfo(
            host=self.host,
            concurrency=self.settings.concurrency,
            running=len(self.active),
            state=state or ("draining" if self.stopping.is_set() else "running"),
        )
        if self.engine_version:
            info["engineVersion"] = self.engine_version
        if self.engine_host:
            info["engineHost"] = self.engine_host
        warm = self.runner.warm
        if warm is not None:
            info["pool"] = {"size": warm.size, **warm.counts()}
        return info

    async def _heartbeat_forever(self) -> None:
        """Renew the leases of the jobs held, every heartbeat interval; with
        none held, say the worker is alive every idle interval."""
        last_sent = float("-inf")
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval_s)
            held = [(job.id, job.attempt) for job, _ in self.active.values()]
            if not held and time.monotonic() - last_sent < self.settings.idle_heartbeat_interval_s:
                continue
            try:
                reply = await self.client.heartbeat(held, self.info())
            except (ConnectionError, Refused) as exc:
                logger.warning("heartbeat failed: %s", exc)
                continue
            last_sent = time.monotonic()
            for job_id in reply.get("cancel", []):
                if job_id in self.active:
                    self.active[job_id][1].request_stop(StopReason.CANCELLED)
            for job_id in reply.get("lost", []):
                if job_id in self.active:
                    self.active[job_id][1].request_stop(StopReason.LOST)

    async def _say_stopped(self) -> None:
        """Tell the app this worker is gone for good (the Workers page shows
        it stopped at once rather than after its heartbeats stop)."""
        try:
            await self.client.heartbeat([], self.info("stopped"))
        except (ConnectionError, Refused) as exc:
            logger.info("could not tell the app this worker stopped: %s", exc)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reap_interval_s)
            try:
                await self._reap(startup=False)
            except Exception:  # the engine or app may be briefly away
                logger.exception("reaping leftover containers failed")

    async def _reap(self, *, startup: bool) -> None:
        """Remove job containers nobody runs any more: ours from a previous
        life, and those of jobs another (dead) worker no longer holds.

        Another worker's container is removed only when its job was not
        held at the previous round either: a live worker removes its own
        container just after it reports the job's end, and is not raced
        for it. Warm containers no job has taken: ours that our pool does
        not know (an earlier life's), and another worker's once it is
        twice the pool's TTL old (a live worker replaces its own sooner)."""
        try:
            refs = await self.runner.list_job_containers()
        except Exception as exc:
            logger.warning("could not list job containers: %s", exc)
            return
        refs = [ref for ref in refs if not self.runner.owns(ref)]
        await self._reap_idle_warm([ref for ref in refs if not ref.job_id])
        mine_now = {(job.id, job.attempt) for job, _ in self.active.values()}
        candidates = [ref for ref in refs if ref.job_id and (ref.job_id, ref.attempt) not in mine_now]
        others = [ref for ref in candidates if ref.worker_id != self.settings.worker_id]
        held = await self.client.held([(ref.job_id, ref.attempt) for ref in others]) if others else set()
        unheld_now = {ref.id for ref in others if ref.job_id not in held}
        unheld_before, self._unheld = self._unheld, unheld_now
        for ref in candidates:
            orphan = ref.worker_id == self.settings.worker_id or (ref.id in unheld_now and ref.id in unheld_before)
            if orphan:
                logger.warning("removing leftover container %s (job %s attempt %d, worker %s)", ref.id[:12], ref.job_id, ref.attempt, ref.worker_id)
                await self.runner.remove_container(ref)
                if ref.worker_id == self.settings.worker_id and startup:
                    await self._release_quietly(ref.job_id, ref.attempt, "its worker restarted")

    async def _reap_idle_warm(self, refs: list[ContainerRef]) -> None:
        too_old = time.time() - 2 * self.settings.pool_ttl_s
        for ref in refs:
            if ref.worker_id == self.settings.worker_id or ref.created < too_old:
                logger.info("removing leftover warm container %s (worker %s)", ref.id[:12], ref.worker_id)
                await self.runner.remove_container(ref)

    async def _release_quietly(self, job_id: str, attempt: int, reason: str) -> None:
        try:
            await self.client.release(job_id, attempt, reason)
        except Refused:
            pass  # already ended or requeued: nothing to give back
