"""Runs a script job in a fresh, locked-down Docker container.

One container per job, removed afterwards, labelled with the job, attempt
and worker so that a restarted worker can find what a dead one left behind.
The script reaches the container through a read-only bind mount (never a
command line), output is streamed while it is produced, and the job is
stopped at its timeout, on cancel, at its log cap, or on worker shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound, NotFound
from docker.types import LogConfig

from orchestrator_worker import image_policy
from orchestrator_worker.control import JobControl, StopReason
from orchestrator_worker.egress import EgressGuard, wants_egress
from orchestrator_worker.job_env import job_env
from orchestrator_worker.job_limits import JobLimits, job_limits
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.languages import LANGUAGES
from orchestrator_worker.logs import LogSink
from orchestrator_worker.metrics import MetricsSampler
from orchestrator_worker.runtime_proxy import SOCKET_NAME, RuntimeProxy
from orchestrator_worker.settings import WorkerSettings

logger = logging.getLogger(__name__)

JOB_UID = 10001
MOUNT_POINT = "/run/cronium"
LABEL_JOB = "cronium.job"
LABEL_ATTEMPT = "cronium.attempt"
LABEL_WORKER = "cronium.worker"
# Which app the job came from: several Cronium installations may share one
# Docker Engine, and a worker only ever cleans up after its own app's jobs.
LABEL_APP = "cronium.app"

# Where the runtime image keeps the helpers (images/runtime/Dockerfile).
HELPERS = "/opt/cronium/helpers"


@dataclass
class _JobResources:
    job_dir: Path
    container_id: str | None = None
    socket_server: asyncio.AbstractServer | None = None


class DockerUnavailable(Exception):
    pass


@dataclass(frozen=True)
class ContainerRef:
    id: str
    job_id: str
    attempt: int
    worker_id: str


class DockerRunner:
    def __init__(self, settings: WorkerSettings, proxy: RuntimeProxy | None = None):
        self.settings = settings
        self.proxy = proxy
        # Each running job holds a thread (reading its output) and a pooled
        # connection (its attach stream): size both for full concurrency.
        self.pool = ThreadPoolExecutor(max_workers=settings.concurrency * 3 + 16, thread_name_prefix="docker")
        self._client: docker.DockerClient | None = None
        # (job id, attempt) → what to remove when the job is over.
        self._to_clean: dict[tuple[str, int], _JobResources] = {}
        self.egress = EgressGuard(settings, lambda: self.client)

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker.DockerClient(
                base_url=self.settings.docker_host or "unix:///var/run/docker.sock",
                timeout=60,
                max_pool_size=self.settings.concurrency * 2 + 16,
            )
        return self._client

    async def _call(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(*args, **kwargs))

    async def ping(self) -> str:
        """The engine's version, or DockerUnavailable with the reason."""
        try:
            return (await self._call(self.client.version))["Version"]
        except (DockerException, OSError) as exc:
            self._client = None
            raise DockerUnavailable(f"Docker Engine unreachable at {self.settings.docker_host or '/var/run/docker.sock'}: {exc}") from exc

    # -- one job -----------------------------------------------------------------

    async def run(self, job: ClaimedJob, sink: LogSink, control: JobControl) -> Outcome:
        """Run the job to its end. The container is left for `cleanup`, so
        that the result reaches the app before the (slow) removal."""
        kind = job.kind
        if kind not in LANGUAGES:
            return Outcome("failed", error=f"unsupported job type {kind!r}")
        image = job.execution.get("image") or self.settings.default_image
        if (refusal := await self._refusal(job, image)) is not None:
            await sink.system(refusal)
            return Outcome("failed", error=refusal)
        limits = job_limits(job.execution.get("resources"), self.settings)
        for adjustment in limits.adjustments:
            await sink.system(adjustment)
        job_dir = self._prepare_job_dir(job, kind)
        resources = self._to_clean[(job.id, job.attempt)] = _JobResources(job_dir)
        if self.proxy is not None and job.execution_token:
            resources.socket_server = await self.proxy.serve(job.id, job_dir)
        began = time.monotonic()
        try:
            container_id = await self._call(self._create, job, kind, image, limits, job_dir)
        except ImageNotFound:
            await sink.system(f"image {image!r} does not exist on this worker's Docker engine")
            return Outcome("failed", error=f"image not found: {image!r} does not exist on the worker's Docker engine")
        except (DockerException, OSError) as exc:
            await sink.system(f"could not create the container: {exc}")
            return Outcome("failed", error=f"Docker Engine error: could not create the container: {exc}")
        resources.container_id = container_id
        create_ms = int((time.monotonic() - began) * 1000)
        outcome = await self._run_container(job, container_id, sink, control, limits)
        outcome.metrics["create_ms"] = create_ms
        return outcome

    async def cleanup(self, job: ClaimedJob) -> None:
        """Remove the job's container, its runtime socket and host directory."""
        resources = self._to_clean.pop((job.id, job.attempt), None)
        if resources is None:
            return
        if resources.socket_server is not None:
            resources.socket_server.close()
        if resources.container_id is not None:
            await self._remove(resources.container_id)
        shutil.rmtree(resources.job_dir, ignore_errors=True)

    async def _refusal(self, job: ClaimedJob, image: str) -> str | None:
        """Why the job may not run here: an image not on the allow-list, or
        network access this worker cannot give safely."""
        refusal = image_policy.refusal(image, self.settings.allowed_images)
        if refusal is None and wants_egress(job, self.settings):
            refusal = await self.egress.refusal()
        return refusal

    def _prepare_job_dir(self, job: ClaimedJob, kind: str) -> Path:
        filename = LANGUAGES[kind].script_file
        job_dir = Path(self.settings.run_dir) / f"{job.id}-a{job.attempt}"
        job_dir.mkdir(parents=True, exist_ok=True)
        script = job_dir / filename
        script.write_text(job.execution.get("script") or "", encoding="utf-8")
        # Readable by the job's user only (other host users cannot read scripts).
        if os.geteuid() == 0:
            os.chown(job_dir, JOB_UID, JOB_UID)
            os.chown(script, JOB_UID, JOB_UID)
            job_dir.chmod(0o500)
            script.chmod(0o400)
        else:
            job_dir.chmod(0o755)
            script.chmod(0o644)
        return job_dir

    def _create(self, job: ClaimedJob, kind: str, image: str, limits: JobLimits, job_dir: Path) -> str:
        # The script file sits in the read-only per-job mount.
        command = LANGUAGES[kind].command(MOUNT_POINT)
        tmpfs = f"rw,nosuid,nodev,size={self.settings.tmpfs_size_mb}m"
        egress = wants_egress(job, self.settings)
        container = self.client.containers.create(
            image,
            entrypoint=command,
            name=f"cronium-{job.id}-a{job.attempt}",
            user=f"{JOB_UID}:{JOB_UID}",
            working_dir="/work",
            environment=self._environment(job),
            labels={
                LABEL_JOB: job.id,
                LABEL_ATTEMPT: str(job.attempt),
                LABEL_WORKER: self.settings.worker_id,
                LABEL_APP: self.settings.app_label,
            },
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={"/tmp": f"{tmpfs},mode=1777", "/work": f"{tmpfs},uid={JOB_UID},gid={JOB_UID},mode=0700"},
            volumes={str(job_dir): {"bind": MOUNT_POINT, "mode": "ro"}},
            pids_limit=limits.pids,
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            nano_cpus=limits.nano_cpus,
            network_mode=self.egress.network_mode(egress),
            sysctls=self.egress.sysctls(egress),
            init=True,
            log_config=LogConfig(type="json-file", config={"max-size": self.settings.container_log_max_size, "max-file": "1"}),
            stdin_open=False,
            tty=False,
            detach=True,
        )
        return container.id

    def _environment(self, job: ClaimedJob) -> dict[str, str]:
        return job_env(job, HELPERS, f"{MOUNT_POINT}/{SOCKET_NAME}")

    async def _run_container(
        self, job: ClaimedJob, container_id: str, sink: LogSink, control: JobControl, limits: JobLimits
    ) -> Outcome:
        api = self.client.api
        # Attach before start, without replaying the container's log: the
        # engine answers the attach and then, in the same step, connects the
        # streams, long before a container we have not started yet can print.
        # A replay (logs=True) overlaps the live stream under load and stores
        # some early lines twice.
        stream = await self._call(api.attach, container_id, stdout=True, stderr=True, stream=True, logs=False, demux=True)
        before_start = time.monotonic()
        try:
            await self._call(api.start, container_id)
        except (DockerException, OSError) as exc:
            await sink.system(f"could not start the container: {exc}")
            return Outcome("failed", error=f"Docker Engine error: could not start the container: {exc}")
        started = time.monotonic()
        start_ms = int((started - before_start) * 1000)
        # The reader runs on the pool (a thread per running job, by design).
        reader_done = asyncio.ensure_future(self._call(self._pump, stream, sink))
        sampler = MetricsSampler(container_id)
        sampler.start()
        exit_wait = asyncio.ensure_future(self._call(api.wait, container_id))
        stop_wait = asyncio.ensure_future(control.stop_requested.wait())
        try:
            done, _ = await asyncio.wait({exit_wait, stop_wait}, timeout=job.timeout_s, return_when=asyncio.FIRST_COMPLETED)
            if exit_wait not in done:
                if not done:
                    control.request_stop(StopReason.TIMEOUT)
                grace = self.settings.cancel_grace_s if control.reason == StopReason.CANCELLED else self.settings.stop_grace_s
                await self._stop(container_id, grace)
            status = await exit_wait
        finally:
            stop_wait.cancel()
            metrics = await sampler.stop()
        await reader_done
        metrics["duration_ms"] = int((time.monotonic() - started) * 1000)
        metrics["start_ms"] = start_ms
        exit_code = status.get("StatusCode")
        # Only a SIGKILL (137) can be the OOM killer; spare every other job
        # the extra round trip to the engine.
        oom = exit_code == 137 and bool((await self._call(api.inspect_container, container_id))["State"].get("OOMKilled"))
        return self._outcome(job, control, exit_code, oom, limits.memory_mb, metrics)

    def _pump(self, stream, sink: LogSink) -> None:
        """Reader thread: container output → the job's log, as it comes."""
        try:
            for stdout, stderr in stream:
                if stdout:
                    sink.feed_from_thread("stdout", stdout)
                if stderr:
                    sink.feed_from_thread("stderr", stderr)
        except Exception as exc:  # the stream broke: say so in the log
            logger.warning("output stream of job %s broke: %s", sink.job.id, exc, extra={"job_id": sink.job.id})
        finally:
            sink.end_of_stream_from_thread()

    def _outcome(
        self, job: ClaimedJob, control: JobControl, exit_code: int | None, oom: bool, memory_mb: int, metrics: dict
    ) -> Outcome:
        reason = control.reason
        if reason == StopReason.CANCELLED:
            return Outcome("cancelled", exit_code, "cancelled by user", metrics=metrics)
        if reason == StopReason.TIMEOUT:
            return Outcome("timed_out", exit_code, f"timed out after {job.timeout_s:g} s; the container was stopped", metrics=metrics)
        if reason == StopReason.LOG_CAP:
            return Outcome(
                "failed", exit_code,
                f"log limit exceeded: the job printed more than {self.settings.log_max_bytes} bytes and was stopped",
                metrics=metrics,
            )
        if reason in (StopReason.SHUTDOWN, StopReason.LOST):
            return Outcome("failed", exit_code, f"stopped: {reason}", metrics=metrics)
        if oom:
            return Outcome(
                "failed", exit_code,
                f"out of memory: the job exceeded its {memory_mb} MB memory limit and was killed "
                f"(exit code {exit_code}, OOMKilled)",
                metrics=metrics,
            )
        if exit_code == 0:
            return Outcome("completed", 0, None, metrics=metrics)
        return Outcome("failed", exit_code, f"the script exited with code {exit_code}", metrics=metrics)

    async def _stop(self, container_id: str, grace: float) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds (docker stop)."""
        try:
            await self._call(self.client.api.stop, container_id, timeout=max(0, int(round(grace))))
        except NotFound:
            pass
        except (DockerException, OSError) as exc:
            logger.warning("stopping container %s failed: %s; killing it", container_id[:12], exc)
            try:
                await self._call(self.client.api.kill, container_id)
            except (DockerException, OSError):
                pass

    async def _remove(self, container_id: str) -> None:
        """Remove a job container with its anonymous volumes (an image's
        VOLUMEs get one each; without v=True every run would leave them)."""
        try:
            await self._call(self.client.api.remove_container, container_id, force=True, v=True)
        except NotFound:
            pass
        except (DockerException, OSError) as exc:
            logger.warning("removing container %s failed: %s", container_id[:12], exc)

    # -- leftovers ---------------------------------------------------------------

    async def list_job_containers(self) -> list[ContainerRef]:
        containers = await self._call(self.client.api.containers, all=True, filters={"label": [LABEL_JOB, f"{LABEL_APP}={self.settings.app_label}"]})
        refs = []
        for info in containers:
            labels = info.get("Labels") or {}
            try:
                refs.append(
                    ContainerRef(info["Id"], labels[LABEL_JOB], int(labels.get(LABEL_ATTEMPT, "0")), labels.get(LABEL_WORKER, ""))
                )
            except (KeyError, ValueError):
                continue
        return refs

    async def remove_container(self, ref: ContainerRef) -> None:
        await self._remove(ref.id)
        shutil.rmtree(Path(self.settings.run_dir) / f"{ref.job_id}-a{ref.attempt}", ignore_errors=True)

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.pool.shutdown(wait=False, cancel_futures=True)

