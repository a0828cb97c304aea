"""Runs a script job on the user's servers over SSH, all servers at once.

Per server: take a pooled connection, reverse-forward the job's runtime
socket to a fresh path on the server (only the login user can reach it:
sshd creates it 0600), then in one SSH session make a private directory
(mode 0700), unpack the script, env file and helpers from a tar stream on
stdin, and run the script in its own process group (sshd starts each
session with setsid). Its output goes into the job's one log with the
server's name on every line; timeout and cancel kill the process group;
the directory and socket are removed afterwards.

The job's status: completed when every server succeeded, failed when none
did, partial otherwise; each server's own result goes with it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shlex
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from orchestrator_worker import image_policy
from orchestrator_worker.client import OrchestratorClient
from orchestrator_worker.control import JobControl, StopReason
from orchestrator_worker.egress import wants_egress
from orchestrator_worker.egress.network import remote_docker_network
from orchestrator_worker.egress.policy import EgressPolicy
from orchestrator_worker.job_env import job_env
from orchestrator_worker.job_limits import job_limits
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.languages import LANGUAGES
from orchestrator_worker.logs import LineSplitter, LogSink
from orchestrator_worker.protocol import ServerLogin, ServerResultBody, ServerStatus
from orchestrator_worker.runtime_proxy import SOCKET_NAME, RuntimeProxy
from orchestrator_worker.settings import WorkerSettings
from orchestrator_worker.ssh import bundle
from orchestrator_worker.ssh.connect import ConnectFailed
from orchestrator_worker.ssh.pool import SshPool, StaleConnection

logger = logging.getLogger(__name__)

REMOTE_IMAGE_DEFAULT = "cronium-runtime:latest"
# Errors that mean the connection is gone, when met before a run started.
# A connection that does not answer a session request in SETUP_TIMEOUT_S
# (a black-holed network path) counts as gone too.
STALE_ERRORS = (asyncssh.ChannelOpenError, asyncssh.DisconnectError, ConnectionError, asyncio.TimeoutError)
SETUP_TIMEOUT_S = 15.0
READ_CHUNK = 64 * 1024


@dataclass
class ServerResult:
    server: ServerLogin
    status: ServerStatus
    exit_code: int | None = None
    duration_ms: int | None = None
    error: str | None = None

    def to_api(self) -> ServerResultBody:
        return ServerResultBody(
            serverId=self.server["id"], name=self.server["name"], status=self.status,
            exitCode=self.exit_code, durationMs=self.duration_ms, error=self.error,
        )


class RemoteRunner:
    def __init__(self, settings: WorkerSettings, client: OrchestratorClient, proxy: RuntimeProxy | None):
        self.settings = settings
        self.client = client
        self.proxy = proxy
        self.pool = SshPool(settings)
        self.parallel = asyncio.Semaphore(settings.ssh_max_parallel)
        self.egress = EgressPolicy(settings.egress_network)

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def cleanup(self, job: ClaimedJob) -> None:
        """Nothing left: a run removes its files on each server before its
        connection is given back, and its local socket directory on the way out."""

    async def run(self, job: ClaimedJob, sink: LogSink, control: JobControl) -> Outcome:
        kind = job.kind
        if kind not in LANGUAGES:
            return Outcome("failed", error=f"job type {kind!r} cannot run on servers")
        servers = list(job.servers)
        if not servers:
            await sink.system("no servers match this event's targets (were they deleted?)")
            return Outcome("failed", error="no servers to run on: none of the event's servers exist any more")
        if _in_docker(job) and (refusal := await self._check_docker_run(job, sink)) is not None:
            return refusal
        names = ", ".join(s["name"] for s in servers)
        await sink.system(f"running on {len(servers)} server{'s' if len(servers) != 1 else ''} at once: {names}")
        job_dir = Path(self.settings.run_dir) / f"{job.id}-a{job.attempt}-ssh"
        job_dir.mkdir(parents=True, exist_ok=True)
        socket_server = None
        if self.proxy is not None and job.execution_token:
            socket_server = await self.proxy.serve(job.id, job_dir)
        began = time.monotonic()
        try:
            deadline = began + job.timeout_s
            runs = [
                asyncio.create_task(self._run_on(job, kind, server, sink, control, job_dir / SOCKET_NAME, deadline))
                for server in servers
            ]
            timer = asyncio.create_task(_stop_at(deadline, control))
            try:
                results = await asyncio.gather(*runs)
            finally:
                timer.cancel()
        finally:
            if socket_server is not None:
                socket_server.close()
            shutil.rmtree(job_dir, ignore_errors=True)
        outcome = _combine(results, control, job.timeout_s)
        outcome.metrics["duration_ms"] = int((time.monotonic() - began) * 1000)
        return outcome

    async def _check_docker_run(self, job: ClaimedJob, sink: LogSink) -> Outcome | None:
        """A run in the servers' Docker obeys the worker's image allow-list
        and resource bounds as a local one does: the refusal, or None (and
        a log line for each limit brought within bounds)."""
        image = job.execution.get("image")
        if image and (refusal := image_policy.refusal(image, self.settings.allowed_images)) is not None:
            await sink.system(refusal)
            return Outcome("failed", error=refusal)
        for adjustment in job_limits(job.execution.get("resources"), self.settings).adjustments:
            await sink.system(adjustment)
        return None

    async def _run_on(
        self, job: ClaimedJob, kind: str, server: ServerLogin, sink: LogSink, control: JobControl,
        local_socket: Path, deadline: float,
    ) -> ServerResult:
        name = server["name"]
        if server.get("error"):
            await sink.system(f"[{name}] {server['error']}")
            return ServerResult(server, "failed", error=server["error"])
        async with self.parallel:
            began = time.monotonic()
            try:
                result = await self._run_pooled(job, kind, server, sink, control, local_socket, deadline)
            except ConnectFailed as exc:
                await sink.system(f"[{name}] {exc}")
                result = ServerResult(server, "failed", error=str(exc))
            except (asyncssh.Error, OSError) as exc:
                message = f"server {name}: connection lost: {getattr(exc, 'reason', None) or exc}"
                await sink.system(f"[{name}] {message}")
                result = ServerResult(server, "failed", error=message)
            result.duration_ms = int((time.monotonic() - began) * 1000)
        await sink.system(f"[{name}] {_describe(result)}")
        return result

    async def _run_pooled(
        self, job: ClaimedJob, kind: str, server: ServerLogin, sink: LogSink, control: JobControl,
        local_socket: Path, deadline: float,
    ) -> ServerResult:
        """Run on a pooled connection; one found dead before the run started
        is dropped and the run tried once more on a fresh one."""
        for attempt in (1, 2):
            try:
                async with self.pool.connection(server, lambda s, key: self._pin(job, s, key)) as conn:
                    return await self._run_with(conn, job, kind, server, sink, control, local_socket, deadline)
            except StaleConnection as exc:
                if attempt == 2:
                    raise ConnectFailed(f"server {server['name']}: the connection failed twice: {exc}") from None
                logger.info("ssh: connection to %s was dead (%s); reconnecting", server["name"], exc, extra={"job_id": job.id})
        raise AssertionError("unreachable")

    async def _pin(self, job: ClaimedJob, server: ServerLogin, key: str) -> str:
        return await self.client.pin_host_key(server["id"], job.id, job.attempt, key)

    async def _run_with(
        self, conn: asyncssh.SSHClientConnection, job: ClaimedJob, kind: str, server: ServerLogin,
        sink: LogSink, control: JobControl, local_socket: Path, deadline: float,
    ) -> ServerResult:
        # Named here, not by mktemp: the socket can be forwarded before the
        # directory exists, and making the directory, unpacking the upload
        # and running the script are one SSH session. The random part keeps
        # the names unguessable; mkdir fails rather than reuse anything.
        run_dir = f"/tmp/cronium-run.{secrets.token_hex(8)}"
        socket_path = f"{run_dir}.sock"
        docker = _in_docker(job)
        if docker:
            try:  # before any remote step: the event's values are what can fail
                bundle.docker_env_list(job_env(job, "", None))
            except ValueError as exc:
                return ServerResult(server, "failed", error=str(exc))
        listener = None
        if self.proxy is not None and job.execution_token is not None:
            try:
                listener = await asyncio.wait_for(
                    self._forward_runtime_socket(conn, socket_path, local_socket, server, sink), SETUP_TIMEOUT_S
                )
            except STALE_ERRORS as exc:
                raise StaleConnection(getattr(exc, "reason", None) or str(exc) or type(exc).__name__) from None
        env = job_env(job, f"{run_dir}/helpers", socket_path if listener else None)
        result: ServerResult | None = None
        try:
            docker_env = bundle.docker_env_list(env) if docker else None
            archive = bundle.build(kind, job.execution.get("script") or "", bundle.env_script(env), docker_env)
            command = self._command(job, kind, run_dir, socket_path, docker)
            result = await self._execute(conn, command, archive, run_dir, server, sink, control, deadline, job, docker)
            return result
        finally:
            if listener is not None:
                listener.close()
            # A run that ended by itself removed its files on the way out.
            if result is None or control.stop_requested.is_set():
                await self._remove_run_dir(conn, run_dir, job, server, docker)

    async def _forward_runtime_socket(self, conn, socket_path: str, local_socket: Path, server: ServerLogin, sink: LogSink):
        """The job's runtime socket on the server, or None (and a line in the
        log) when the server does not allow it. sshd creates it mode 0600
        (StreamLocalBindMask): only the login user can connect."""
        try:
            return await conn.forward_remote_path(socket_path, str(local_socket))
        except asyncssh.ChannelListenError:
            await sink.system(
                f"[{server['name']}] the server refused to forward the runtime socket, so the cronium helpers are "
                "not available there (its sshd needs AllowTcpForwarding and AllowStreamLocalForwarding)"
            )
            return None

    def _command(self, job: ClaimedJob, kind: str, run_dir: str, socket_path: str, docker: bool) -> str:
        d = shlex.quote(run_dir)
        run_script = shlex.join(LANGUAGES[kind].command(run_dir))
        # stdin brings the upload (a tar stream: tar stops at its end) and
        # then stays open, never written again. A watcher waits for its end:
        # if the worker dies or the connection drops, sshd closes it and the
        # watcher kills the whole process group, so no script outlives its
        # job. $$ is the session leader's pid (sshd starts each session with
        # setsid) = the group. (A background list's stdin is /dev/null unless
        # passed by another descriptor: fd 3; a builtin read loop, not a `cat`:
        # one process less per run.) When the script ends, the shell
        # ends everything it left behind, then removes its files.
        name = _container_name(job, run_dir)
        remove_container = f"docker rm -f -v {name}; " if docker else ""
        begin = (
            f"umask 077 && mkdir -m 700 {d} && tar -x -C {d} "
            f"|| {{ echo 'cronium: could not unpack the upload into {run_dir}' >&2; exit 125; }}; "
            f"cd {d} && echo $$ > {d}/pid && exec 3<&0 && "
            f"{{ {{ while read -r _ <&3; do :; done; {remove_container}kill -KILL -$$; }} >/dev/null 2>&1 & }} && exec 3<&- && "
        )
        end = (
            f" </dev/null; rc=$?; trap '' TERM; kill -TERM -$$ 2>/dev/null; "
            f"cd / && rm -rf {d} {shlex.quote(socket_path)}; exit $rc"
        )
        if not docker:
            return f"{begin}( . {d}/{bundle.ENV_FILE} && exec {run_script} ){end}"
        limits = job_limits(job.execution.get("resources"), self.settings)
        image = job.execution.get("image") or REMOTE_IMAGE_DEFAULT
        # An egress job joins the job network (see the README's "Job network"
        # on what does and does not protect it on a server).
        prepare_network, network = remote_docker_network(self.egress, wants_egress(job, self.settings))
        sock = shlex.quote(socket_path)
        # The login user's uid inside: it owns the forwarded socket (mode 0600).
        return (
            f"{begin}{prepare_network}docker run --rm --init -i --name {name} "
            f"--user \"$(id -u):$(id -g)\" {network} --read-only --cap-drop ALL "
            f"--security-opt no-new-privileges --pids-limit {limits.pids} "
            f"--memory {limits.memory_mb}m --memory-swap {limits.memory_mb}m --cpus {limits.cpus:g} "
            f"--tmpfs /tmp:rw,nosuid,nodev,size=64m --tmpfs /work:rw,nosuid,nodev,size=64m,mode=1777 -w /work "
            f"-v {d}:{d}:ro $([ -S {sock} ] && echo '-v {sock}:{sock}') "
            f"--env-file {d}/{bundle.DOCKER_ENV_FILE} {shlex.quote(image)} {run_script}{end}"
        )

    async def _execute(
        self, conn: asyncssh.SSHClientConnection, command: str, archive: bytes, run_dir: str, server: ServerLogin,
        sink: LogSink, control: JobControl, deadline: float, job: ClaimedJob, docker: bool,
    ) -> ServerResult:
        try:
            process = await asyncio.wait_for(conn.create_process(command, encoding=None), SETUP_TIMEOUT_S)
        except STALE_ERRORS as exc:
            raise StaleConnection(getattr(exc, "reason", None) or str(exc) or type(exc).__name__) from None
        process.stdin.write(archive)
        prefix = f"[{server['name']}] "
        pumps = [
            asyncio.create_task(_pump(process.stdout, "stdout", prefix, sink, self.settings.log_line_max_chars)),
            asyncio.create_task(_pump(process.stderr, "stderr", prefix, sink, self.settings.log_line_max_chars)),
        ]
        exited = asyncio.create_task(process.wait_closed())
        stop = asyncio.create_task(control.stop_requested.wait())
        try:
            await asyncio.wait({exited, stop}, timeout=max(deadline - time.monotonic(), 0), return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():
                if not control.stop_requested.is_set():
                    control.request_stop(StopReason.TIMEOUT)
                grace = self.settings.cancel_grace_s if control.reason == StopReason.CANCELLED else self.settings.stop_grace_s
                await self._kill(conn, run_dir, job, docker, grace, exited)
        finally:
            stop.cancel()
        await asyncio.gather(*pumps)
        exit_code = process.exit_status
        if exit_code is None and process.exit_signal:
            exit_code = 128 + _signal_number(process.exit_signal[0])
        return _server_result(server, control, exit_code, job.timeout_s)

    async def _kill(self, conn, run_dir: str, job: ClaimedJob, docker: bool, grace: float, exited: asyncio.Task) -> None:
        """SIGTERM to the run's process group, SIGKILL after `grace`."""
        d = shlex.quote(run_dir)
        group = f"-$(cat {d}/pid)"
        stop_container = f"; docker kill --signal {{sig}} {_container_name(job, run_dir)} >/dev/null 2>&1" if docker else ""
        for sig, wait in (("TERM", grace), ("KILL", 5.0)):
            await _quietly(conn.run(f"kill -{sig} {group} 2>/dev/null" + stop_container.format(sig=sig), check=False))
            try:
                await asyncio.wait_for(asyncio.shield(exited), max(wait, 0.1))
                return
            except asyncio.TimeoutError:
                continue
        exited.cancel()

    async def _remove_run_dir(self, conn, run_dir: str, job: ClaimedJob, server: ServerLogin, docker: bool) -> None:
        extra = f"docker rm -f -v {_container_name(job, run_dir)} >/dev/null 2>&1; " if docker else ""
        files = f"{shlex.quote(run_dir)} {shlex.quote(run_dir + '.sock')}"
        if not await _quietly(conn.run(f"{extra}rm -rf {files}", check=False)):
            logger.warning("could not remove %s on server %s", run_dir, server["name"], extra={"job_id": job.id})


def _in_docker(job: ClaimedJob) -> bool:
    """The event runs in a container on each server's own Docker (remoteDocker)."""
    return bool((job.execution.get("target") or {}).get("docker"))


def _container_name(job: ClaimedJob, run_dir: str) -> str:
    return f"cronium-{job.id}-a{job.attempt}-{run_dir.rsplit('.', 1)[-1]}"


async def _quietly(call) -> bool:
    try:
        await asyncio.wait_for(call, SETUP_TIMEOUT_S)
        return True
    except (asyncssh.Error, OSError, asyncio.TimeoutError):
        return False


async def _stop_at(deadline: float, control: JobControl) -> None:
    await asyncio.sleep(max(deadline - time.monotonic(), 0))
    control.request_stop(StopReason.TIMEOUT)


async def _pump(stream, name: str, prefix: str, sink: LogSink, max_chars: int) -> None:
    splitter = LineSplitter(max_chars - len(prefix))
    try:
        while True:
            data = await stream.read(READ_CHUNK)
            if not data:
                break
            lines = splitter.feed(data)
            if lines:
                await sink.lines(name, [prefix + line for line in lines])
    except (asyncssh.Error, OSError):
        pass  # the channel closed under us: what was read is logged
    rest = splitter.flush()
    if rest:
        await sink.lines(name, [prefix + line for line in rest])


def _signal_number(name: str) -> int:
    try:
        return int(signal.Signals[f"SIG{name}"])
    except KeyError:
        return 0


def _server_result(server: ServerLogin, control: JobControl, exit_code: int | None, timeout_s: float) -> ServerResult:
    reason = control.reason
    if reason == StopReason.CANCELLED:
        return ServerResult(server, "cancelled", exit_code, error="cancelled by user")
    if reason == StopReason.TIMEOUT:
        return ServerResult(server, "timed_out", exit_code, error=f"timed out after {timeout_s:g} s; the remote process group was killed")
    if reason is not None:
        return ServerResult(server, "failed", exit_code, error=f"stopped: {reason}")
    if exit_code == 0:
        return ServerResult(server, "completed", 0)
    return ServerResult(server, "failed", exit_code, error=f"the script exited with code {exit_code}")


def _describe(result: ServerResult) -> str:
    took = f" after {result.duration_ms} ms" if result.duration_ms is not None else ""
    if result.status == "completed":
        return f"done: exit code 0{took}"
    return f"{result.status}{took}: {result.error}"


def _combine(results: list[ServerResult], control: JobControl, timeout_s: float) -> Outcome:
    ok = [r for r in results if r.status == "completed"]
    per_server = [r.to_api() for r in results]
    first_bad = next((r for r in results if r.status != "completed"), None)
    if control.reason == StopReason.CANCELLED:
        return Outcome("cancelled", first_bad.exit_code if first_bad else None, "cancelled by user", servers=per_server)
    if control.reason == StopReason.TIMEOUT and first_bad is not None:
        return Outcome("timed_out", first_bad.exit_code, f"timed out after {timeout_s:g} s on {len(results) - len(ok)} of {len(results)} servers", servers=per_server)
    if first_bad is None:
        return Outcome("completed", 0, None, servers=per_server)
    failed_names = ", ".join(r.server["name"] for r in results if r.status != "completed")
    summary = f"{len(results) - len(ok)} of {len(results)} servers failed ({failed_names}): {first_bad.error}"
    status = "partial" if ok else "failed"
    return Outcome(status, first_bad.exit_code, summary, servers=per_server)
