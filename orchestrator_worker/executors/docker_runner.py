"""Runs a script job in a fresh, locked-down Docker container.

One container per job, removed afterwards. A job takes a warm container
from the pool of its resource profile when one is ready (warm_pool.py: made
and started ahead, handed the job through a pipe, see launcher.py) and
otherwise gets a cold one made for it. Either way the container never runs
another job, has the same hardening, and carries the worker's and the
app's labels; a cold one is labelled with the job and attempt, a warm one
with its pool token and renamed after the job it runs (`cronium-{job}-a{n}`),
so that a restarted worker can find what a dead one left behind. The script
reaches the container through a read-only bind mount (never a command
line), output is streamed while it is produced, and the job is stopped at
its timeout, on cancel, at its log cap, or on worker shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound, NotFound
from docker.types import LogConfig

from orchestrator_worker import image_policy, telemetry
from orchestrator_worker.control import JobControl, StopReason
from orchestrator_worker.egress import EgressGuard, wants_egress
from orchestrator_worker.executors import launcher
from orchestrator_worker.executors.output_stream import ContainerOutput
from orchestrator_worker.executors.warm_pool import PoolKey, WarmContainer, WarmPool
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
# A warm container: its pool token (also its host directory's name).
LABEL_POOL = "cronium.pool"
# A job's container name; a warm container is renamed so once it has a job.
_JOB_NAME = re.compile(r"^cronium-(?P<job>.+)-a(?P<attempt>[0-9]+)$")

# Where the runtime image keeps the helpers (images/runtime/Dockerfile).
HELPERS = "/opt/cronium/helpers"
# How often, and how far apart, a job's SIGKILL is checked against the
# engine's OOMKilled flag (_oom_killed): half a second at most.
OOM_CHECKS = 3
OOM_CHECK_INTERVAL_S = 0.25


@dataclass
class _JobResources:
    job_dir: Path
    container_id: str | None = None
    socket_server: asyncio.AbstractServer | None = None
    pool_token: str | None = None  # a warm container's
    renamed: asyncio.Future | None = None  # a warm container's rename after its job


class DockerUnavailable(Exception):
    pass


@dataclass(frozen=True)
class ContainerRef:
    id: str
    job_id: str  # "" for a warm container no job has taken
    attempt: int
    worker_id: str
    pool_token: str | None = None
    created: float = 0.0  # epoch seconds

    @property
    def job_dir_name(self) -> str:
        return pool_dir_name(self.pool_token) if self.pool_token else job_dir_name(self.job_id, self.attempt)


def job_dir_name(job_id: str, attempt: int) -> str:
    return f"{job_id}-a{attempt}"


def pool_dir_name(token: str) -> str:
    return f"pool-{token}"


def container_name(job_id: str, attempt: int) -> str:
    return f"cronium-{job_id}-a{attempt}"


def warm_name(token: str) -> str:
    """A warm container's name until a job takes it."""
    return f"cronium-pool-{token}"


class DockerRunner:
    def __init__(self, settings: WorkerSettings, proxy: RuntimeProxy | None = None):
        self.settings = settings
        self.proxy = proxy
        # Each running job holds a thread (reading its output) and a pooled
        # connection (its attach stream), and so does each warm container
        # (its stream): size both for full concurrency and a full pool.
        self.threads = ThreadPoolExecutor(
            max_workers=(settings.concurrency + settings.pool_max_total) * 3 + 16, thread_name_prefix="docker"
        )
        self._client: docker.DockerClient | None = None
        # (job id, attempt) → what to remove when the job is over.
        self._to_clean: dict[tuple[str, int], _JobResources] = {}
        self.egress = EgressGuard(settings, lambda: self.client)
        self.warm = self._warm_pool()

    def _warm_pool(self) -> WarmPool | None:
        if self.settings.pool_size == 0 or self.settings.pool_max_total == 0:
            return None
        if os.geteuid() != 0:
            # The start pipe must belong to the job's user alone.
            logger.warning("warm containers need a worker running as root; every job's container is made when it is claimed")
            return None
        return WarmPool(
            size=self.settings.pool_size,
            total=self.settings.pool_max_total,
            ttl_s=self.settings.pool_ttl_s,
            key_idle_s=self.settings.pool_key_idle_s,
            create=self._make_warm,
            discard=self._discard_warm,
        )

    def start_pool(self) -> None:
        """Keep the default profile warm from now on (call after the reap of
        leftovers at start, which removes an earlier life's warm containers)."""
        if self.warm is not None:
            default = job_limits(None, self.settings)
            self.warm.start(self._pool_key(self.settings.default_image, default, egress=False))

    def owns(self, ref: "ContainerRef") -> bool:
        """A container of this worker's live pool (idle, starting or running a job)."""
        return ref.pool_token is not None and self.warm is not None and self.warm.owns(ref.pool_token)

    def _pool_key(self, image: str, limits: JobLimits, *, egress: bool) -> PoolKey:
        return PoolKey(image, limits.nano_cpus, limits.memory_mb, limits.pids, self.egress.network_mode(egress))

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker.DockerClient(
                base_url=self.settings.docker_host or "unix:///var/run/docker.sock",
                timeout=60,
                max_pool_size=(self.settings.concurrency + self.settings.pool_max_total) * 2 + 16,
            )
        return self._client

    async def _call(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.threads, lambda: fn(*args, **kwargs))

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
        warm = self._take_warm(job, image, limits)
        outcome = await self._run_warm(job, kind, warm, sink, control, limits) if warm is not None else None
        if outcome is None:
            outcome = await self._run_cold(job, kind, image, sink, control, limits)
        telemetry.observe_container_start(outcome.metrics)
        return outcome

    async def _run_cold(
        self, job: ClaimedJob, kind: str, image: str, sink: LogSink, control: JobControl, limits: JobLimits
    ) -> Outcome:
        """The job in a container made for it now."""
        job_dir = self._job_dir(job_dir_name(job.id, job.attempt))
        self._write_script(job_dir, kind, job.execution.get("script") or "")
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
        outcome.metrics.update(create_ms=create_ms, container_id=container_id, warm=False)
        return outcome

    def _take_warm(self, job: ClaimedJob, image: str, limits: JobLimits) -> WarmContainer | None:
        if self.warm is None or not launcher.can_launch(self._environment(job)):
            return None
        return self.warm.take(self._pool_key(image, limits, egress=wants_egress(job, self.settings)))

    async def _run_warm(
        self, job: ClaimedJob, kind: str, warm: WarmContainer, sink: LogSink, control: JobControl, limits: JobLimits
    ) -> Outcome | None:
        """The job in a warm container; None if that container turned out
        dead before it got the job (the job then runs cold)."""
        began = time.monotonic()
        pipe = await self._call(launcher.open_start_pipe, warm.job_dir)
        if pipe is None:
            logger.warning("warm container %s was not waiting for a job; removing it", warm.id[:12])
            await self._discard_warm(warm)
            return None
        resources = self._to_clean[(job.id, job.attempt)] = _JobResources(warm.job_dir, warm.id, pool_token=warm.token)
        try:
            self._write_script(warm.job_dir, kind, job.execution.get("script") or "")
            if self.proxy is not None and job.execution_token:
                resources.socket_server = await self.proxy.serve(job.id, warm.job_dir)
            text = launcher.launch_text(LANGUAGES[kind].command(MOUNT_POINT), self._environment(job))
        except BaseException:
            os.close(pipe)
            raise
        await self._call(launcher.hand_over, pipe, text)
        started = time.monotonic()
        # So that `docker ps` says which job it runs; off the job's path
        # (cleanup waits for it before the removal).
        resources.renamed = asyncio.ensure_future(self._rename(warm.id, container_name(job.id, job.attempt)))
        outcome = await self._supervise(job, warm.id, warm.stream, sink, control, limits, started)
        outcome.metrics.update(create_ms=0, start_ms=int((started - began) * 1000), container_id=warm.id, warm=True)
        return outcome

    async def cleanup(self, job: ClaimedJob) -> None:
        """Remove the job's container, its runtime socket and host directory."""
        resources = self._to_clean.pop((job.id, job.attempt), None)
        if resources is None:
            return
        if resources.socket_server is not None:
            resources.socket_server.close()
        if resources.renamed is not None:
            await resources.renamed
        if resources.container_id is not None:
            await self._remove(resources.container_id)
        shutil.rmtree(resources.job_dir, ignore_errors=True)
        if resources.pool_token is not None and self.warm is not None:
            self.warm.forget(resources.pool_token)

    async def _refusal(self, job: ClaimedJob, image: str) -> str | None:
        """Why the job may not run here: an image not on the allow-list, or
        network access this worker cannot give safely."""
        refusal = image_policy.refusal(image, self.settings.allowed_images)
        if refusal is None and wants_egress(job, self.settings):
            refusal = await self.egress.refusal()
        return refusal

    def _job_dir(self, name: str) -> Path:
        """A host directory mounted read-only into one container; entered
        by the job's user only (other host users cannot read scripts)."""
        job_dir = Path(self.settings.run_dir) / name
        job_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(job_dir, JOB_UID, JOB_UID)
            job_dir.chmod(0o500)
        else:
            job_dir.chmod(0o755)
        return job_dir

    def _write_script(self, job_dir: Path, kind: str, text: str) -> None:
        script = job_dir / LANGUAGES[kind].script_file
        script.write_text(text, encoding="utf-8")
        if os.geteuid() == 0:
            os.chown(script, JOB_UID, JOB_UID)
            script.chmod(0o400)
        else:
            script.chmod(0o644)

    def _create(self, job: ClaimedJob, kind: str, image: str, limits: JobLimits, job_dir: Path) -> str:
        """A cold container: the script's interpreter is its command and the
        environment is in its config."""
        # The script file sits in the read-only per-job mount.
        return self._create_hardened(
            image,
            limits,
            job_dir,
            egress=wants_egress(job, self.settings),
            entrypoint=LANGUAGES[kind].command(MOUNT_POINT),
            name=container_name(job.id, job.attempt),
            environment=self._environment(job),
            labels={LABEL_JOB: job.id, LABEL_ATTEMPT: str(job.attempt)},
        )

    def _create_hardened(
        self, image: str, limits: JobLimits, job_dir: Path, *, egress: bool, entrypoint: list[str], name: str,
        environment: dict[str, str] | None, labels: dict[str, str],
    ) -> str:
        """Every job container's hardening, cold or warm."""
        tmpfs = f"rw,nosuid,nodev,size={self.settings.tmpfs_size_mb}m"
        extra = {"runtime": self.settings.container_runtime} if self.settings.container_runtime else {}
        container = self.client.containers.create(
            image,
            entrypoint=entrypoint,
            name=name,
            user=f"{JOB_UID}:{JOB_UID}",
            working_dir="/work",
            environment=environment,
            labels={**labels, LABEL_WORKER: self.settings.worker_id, LABEL_APP: self.settings.app_label},
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
            # The output reaches the worker through the attach stream; a log
            # file of its own would cost the engine a write per line.
            log_config=LogConfig(type="none"),
            stdin_open=False,
            tty=False,
            detach=True,
            **extra,
        )
        return container.id

    # -- warm containers -----------------------------------------------------------

    async def _make_warm(self, key: PoolKey, token: str) -> WarmContainer:
        """Create, attach and start a container that waits for its job."""
        job_dir = self._job_dir(pool_dir_name(token))
        try:
            launcher.make_start_pipe(job_dir, JOB_UID)
            limits = JobLimits(key.nano_cpus / 1e9, key.memory_mb, key.pids)
            container_id = await self._call(
                self._create_hardened, key.image, limits, job_dir,
                egress=key.network != "none", entrypoint=launcher.entrypoint(MOUNT_POINT),
                name=warm_name(token), environment=None, labels={LABEL_POOL: token},
            )
        except BaseException:
            shutil.rmtree(job_dir, ignore_errors=True)
            raise
        warm = WarmContainer(container_id, token, key, job_dir, stream=None)
        try:
            warm.stream = await self._attach(container_id)
            await self._call(self.client.api.start, container_id)
        except BaseException:
            await self._discard_warm(warm)
            raise
        return warm

    async def _discard_warm(self, warm: WarmContainer) -> None:
        """Remove a warm container that will run no job."""
        if warm.stream is not None:
            warm.stream.close()  # never raises: the removal below must happen
        await self._remove(warm.id)
        shutil.rmtree(warm.job_dir, ignore_errors=True)
        if self.warm is not None:
            self.warm.forget(warm.token)

    async def _rename(self, container_id: str, name: str) -> None:
        try:
            await self._call(self.client.api.rename, container_id, name)
        except (DockerException, OSError) as exc:  # only a name; the job goes on
            logger.warning("could not rename container %s to %s: %s", container_id[:12], name, exc)

    def _environment(self, job: ClaimedJob) -> dict[str, str]:
        return job_env(job, HELPERS, f"{MOUNT_POINT}/{SOCKET_NAME}")

    async def _run_container(
        self, job: ClaimedJob, container_id: str, sink: LogSink, control: JobControl, limits: JobLimits
    ) -> Outcome:
        stream = await self._attach(container_id)
        before_start = time.monotonic()
        try:
            await self._call(self.client.api.start, container_id)
        except (DockerException, OSError) as exc:
            stream.close()
            await sink.system(f"could not start the container: {exc}")
            return Outcome("failed", error=f"Docker Engine error: could not start the container: {exc}")
        started = time.monotonic()
        outcome = await self._supervise(job, container_id, stream, sink, control, limits, started)
        outcome.metrics["start_ms"] = int((started - before_start) * 1000)
        return outcome

    async def _attach(self, container_id: str):
        # Attach before start, without replaying the container's log: the
        # engine answers the attach and then, in the same step, connects the
        # streams, long before a container we have not started yet can print.
        # A replay (logs=True) overlaps the live stream under load and stores
        # some early lines twice.
        sock = await self._call(
            self.client.api.attach_socket, container_id, params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 0}
        )
        return ContainerOutput(sock)

    async def _supervise(
        self, job: ClaimedJob, container_id: str, stream, sink: LogSink, control: JobControl, limits: JobLimits,
        started: float,
    ) -> Outcome:
        """From the script's start to its end: stream its output, stop it
        at its timeout or on request, and say how it ended."""
        api = self.client.api
        # The reader runs on the thread pool (a thread per running job, by design).
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
        exit_code = status.get("StatusCode")
        # Only a SIGKILL (137) can be the OOM killer; spare every other job
        # the extra round trip to the engine.
        oom = exit_code == 137 and control.reason is None and await self._oom_killed(container_id)
        return self._outcome(job, control, exit_code, oom, limits.memory_mb, metrics)

    async def _oom_killed(self, container_id: str) -> bool:
        """The engine's OOMKilled flag. The engine learns of the OOM kill
        from an event that may come just after the exit it reported, so a
        SIGKILL nobody here sent is asked about again, briefly, before it is
        taken for something else."""
        for attempt in range(OOM_CHECKS):
            state = (await self._call(self.client.api.inspect_container, container_id))["State"]
            if state.get("OOMKilled"):
                return True
            if attempt < OOM_CHECKS - 1:
                await asyncio.sleep(OOM_CHECK_INTERVAL_S)
        return False

    def _pump(self, stream: ContainerOutput, sink: LogSink) -> None:
        """Reader thread: container output → the job's log, as it comes."""
        try:
            for segments in stream.segments():
                sink.feed_from_thread(segments)
        except Exception as exc:  # the stream broke: say so in the log
            logger.warning("output stream of job %s broke: %s", sink.job.id, exc, extra={"job_id": sink.job.id})
        finally:
            stream.close()
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
        """This app's job containers, cold and warm (taken or not)."""
        containers = await self._call(self.client.api.containers, all=True, filters={"label": f"{LABEL_APP}={self.settings.app_label}"})
        return [ref for info in containers if (ref := _container_ref(info)) is not None]

    async def remove_container(self, ref: ContainerRef) -> None:
        await self._remove(ref.id)
        shutil.rmtree(Path(self.settings.run_dir) / ref.job_dir_name, ignore_errors=True)

    async def aclose(self) -> None:
        """Remove the idle warm containers, then let go of the engine."""
        if self.warm is not None:
            await self.warm.aclose()
            logger.info("warm containers: %s", ", ".join(f"{k} {v}" for k, v in self.warm.counts().items()))
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.threads.shutdown(wait=False, cancel_futures=True)


def _container_ref(info: dict) -> ContainerRef | None:
    """A listed container as the reaper sees it: which job (and attempt)
    it ran, from its labels (cold) or its name (a taken warm container)."""
    labels = info.get("Labels") or {}
    worker_id = labels.get(LABEL_WORKER, "")
    created = float(info.get("Created") or 0)
    try:
        if LABEL_JOB in labels:
            return ContainerRef(info["Id"], labels[LABEL_JOB], int(labels.get(LABEL_ATTEMPT, "0")), worker_id, created=created)
        if LABEL_POOL in labels:
            token = labels[LABEL_POOL]
            name = (info.get("Names") or [""])[0].lstrip("/")
            match = _JOB_NAME.match(name) if name != warm_name(token) else None
            if match is not None:
                return ContainerRef(info["Id"], match["job"], int(match["attempt"]), worker_id, token, created)
            return ContainerRef(info["Id"], "", 0, worker_id, token, created)
    except (KeyError, ValueError):
        pass
    return None

