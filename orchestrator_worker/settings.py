"""Worker settings, from the environment (and a `.env` file)."""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from orchestrator_worker import image_policy, local_secrets
from orchestrator_worker.executors.ssrf import AllowList
from orchestrator_worker.job_limits import MIN_CPUS, MIN_MEMORY_MB, MIN_PIDS


class WorkerSettings(BaseSettings):
    """Everything a worker needs to know; see the README's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    orchestrator_url: str = Field(default="http://127.0.0.1:8000", validation_alias="ORCHESTRATOR_URL")
    # Unset: the token the app beside this worker generated
    # ({data_dir}/secrets.json); a worker on another host must be given it.
    orchestrator_token: str = Field(default="", validation_alias="ORCHESTRATOR_TOKEN")
    data_dir: Path = Field(default=Path("data"), validation_alias="CRONIUM_DATA_DIR")
    # Must be unique per worker: on start a worker removes containers that
    # carry its id, since they can only be left over from its last life.
    # Unset: `{host name}-{n}`, a per-host slot taken at start (identity.py).
    worker_id: str = Field(default="", validation_alias="CRONIUM_WORKER_ID")
    concurrency: int = Field(default=8, ge=1, le=1000, validation_alias="CRONIUM_WORKER_CONCURRENCY")
    docker_host: str | None = Field(default=None, validation_alias="DOCKER_HOST")
    default_image: str = Field(default="cronium-runtime:latest", validation_alias="CRONIUM_RUNTIME_IMAGE")
    # Images besides the runtime image an event may name (image_policy.py).
    allowed_images_listed: str = Field(default="", validation_alias="CRONIUM_ALLOWED_IMAGES")
    # Per-job host directories (script, runtime socket) mounted into
    # containers, and the worker id slots of this host (identity.py).
    run_dir: str = Field(default="/run/cronium-worker", validation_alias="CRONIUM_WORKER_RUN_DIR")

    # Prometheus metrics of this worker (telemetry.py): 0 = not served.
    metrics_port: int = Field(default=0, ge=0, le=65535, validation_alias="CRONIUM_WORKER_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", validation_alias="CRONIUM_WORKER_METRICS_HOST")

    claim_wait_s: float = Field(default=20.0, validation_alias="CRONIUM_WORKER_CLAIM_WAIT")
    # Short: cancel requests arrive in the heartbeat reply.
    heartbeat_interval_s: float = Field(default=1.0, validation_alias="CRONIUM_WORKER_HEARTBEAT")
    # With no job to renew, a heartbeat only says the worker is alive (the
    # app's Workers page): this often is enough.
    idle_heartbeat_interval_s: float = Field(default=10.0, gt=0, validation_alias="CRONIUM_WORKER_IDLE_HEARTBEAT")
    shutdown_grace_s: float = Field(default=30.0, validation_alias="CRONIUM_WORKER_SHUTDOWN_GRACE")
    stop_grace_s: float = Field(default=5.0, validation_alias="CRONIUM_WORKER_STOP_GRACE")
    cancel_grace_s: float = Field(default=1.0, validation_alias="CRONIUM_WORKER_CANCEL_GRACE")
    # How often leftover job containers (of dead workers) are looked for; also done at start.
    reap_interval_s: float = Field(default=30.0, gt=0, validation_alias="CRONIUM_WORKER_REAP_INTERVAL")

    # Warm single-use containers (executors/warm_pool.py): ready containers
    # per resource profile (0: every job's container is made when it is
    # claimed), in all, their longest life, and how long a profile no job
    # asked for stays warm.
    pool_size: int = Field(default=2, ge=0, le=64, validation_alias="CRONIUM_POOL_SIZE")
    pool_max_total: int = Field(default=8, ge=0, le=256, validation_alias="CRONIUM_POOL_MAX_TOTAL")
    pool_ttl_s: float = Field(default=300.0, gt=0, validation_alias="CRONIUM_POOL_TTL")
    pool_key_idle_s: float = Field(default=600.0, gt=0, validation_alias="CRONIUM_POOL_KEY_IDLE")
    # The OCI runtime of job containers, as registered with the engine
    # (e.g. "crun"); empty: the engine's default (runc).
    container_runtime: str = Field(default="", validation_alias="CRONIUM_CONTAINER_RUNTIME")

    log_max_bytes: int = Field(default=5 * 1024 * 1024, validation_alias="CRONIUM_JOB_LOG_MAX_BYTES")
    log_line_max_chars: int = Field(default=8192, validation_alias="CRONIUM_WORKER_LOG_LINE_MAX")
    log_flush_interval_s: float = Field(default=0.1, validation_alias="CRONIUM_WORKER_LOG_FLUSH")
    log_batch_max_lines: int = Field(default=2000, validation_alias="CRONIUM_WORKER_LOG_BATCH")
    # Unsent log bytes a job may buffer while the app is unreachable; past
    # this the container's output waits (backpressure) instead of memory growing.
    log_buffer_max_bytes: int = Field(default=4 * 1024 * 1024, validation_alias="CRONIUM_WORKER_LOG_BUFFER")

    # The most a job's container gets, whatever its spec asks (job_limits.py
    # also holds the minima). The same variables set the app's maxima.
    job_max_cpus: float = Field(default=2.0, ge=MIN_CPUS, allow_inf_nan=False, validation_alias="CRONIUM_JOB_MAX_CPUS")
    job_max_memory_mb: int = Field(default=2048, ge=MIN_MEMORY_MB, validation_alias="CRONIUM_JOB_MAX_MEMORY_MB")
    job_max_pids: int = Field(default=1024, ge=MIN_PIDS, validation_alias="CRONIUM_JOB_MAX_PIDS")

    runtime_body_max_bytes: int = Field(default=6 * 1024 * 1024, validation_alias="CRONIUM_RUNTIME_BODY_MAX_BYTES")
    tmpfs_size_mb: int = Field(default=64, validation_alias="CRONIUM_JOB_TMPFS_MB")
    allow_egress: bool = Field(default=True, validation_alias="CRONIUM_ALLOW_EGRESS")
    # Egress jobs run on a Docker network of Cronium's own behind firewall
    # rules (orchestrator_worker/egress): the network's name (its bridge is
    # NAME0, its iptables chains NAME-FORWARD/-INPUT/-REJECT in upper case).
    egress_network: str = Field(default="cronium-egress", pattern=r"^[a-z][a-z0-9-]{0,13}$", validation_alias="CRONIUM_EGRESS_NETWORK")
    egress_subnet: ipaddress.IPv4Network = Field(default=ipaddress.IPv4Network("172.29.252.0/22"), validation_alias="CRONIUM_EGRESS_SUBNET")
    # Private ranges egress jobs may reach after all (comma-separated CIDRs).
    egress_allow: Annotated[tuple[ipaddress.IPv4Network, ...], NoDecode] = Field(default=(), validation_alias="CRONIUM_EGRESS_ALLOW")
    # The resolvers jobs' DNS lookups go to (port 53 is open to them); None:
    # those of the host's /etc/resolv.conf, which Docker forwards to.
    egress_dns: Annotated[tuple[ipaddress.IPv4Address, ...] | None, NoDecode] = Field(default=None, validation_alias="CRONIUM_EGRESS_DNS")
    # "off" runs egress jobs without the firewall rules: unsafe, they reach
    # the host, the app and private networks.
    egress_policy: Literal["enforce", "off"] = Field(default="enforce", validation_alias="CRONIUM_EGRESS_POLICY")
    # HTTP events may not reach loopback/private/link-local addresses unless this is set.
    http_allow_private: bool = Field(default=False, validation_alias="CRONIUM_HTTP_ALLOW_PRIVATE")
    http_body_max_bytes: int = Field(default=64 * 1024, validation_alias="CRONIUM_HTTP_BODY_MAX_BYTES")
    # Private hosts and ranges tools may reach after all (an internal mail
    # relay, an intranet hook): comma-separated names, addresses, CIDRs,
    # each with an optional :port. The app reads the same variable.
    tool_allow_listed: str = Field(default="", validation_alias="CRONIUM_TOOL_ALLOW")

    # Remote servers (SSH).
    ssh_connect_timeout_s: float = Field(default=10.0, gt=0, validation_alias="CRONIUM_SSH_CONNECT_TIMEOUT")
    # Server runs at once across all of this worker's jobs.
    ssh_max_parallel: int = Field(default=64, ge=1, le=1000, validation_alias="CRONIUM_SSH_MAX_PARALLEL")
    # Runs sharing one connection (sshd's MaxSessions is 10 by default).
    ssh_sessions_per_connection: int = Field(default=8, ge=1, le=100, validation_alias="CRONIUM_SSH_SESSIONS_PER_CONNECTION")
    ssh_idle_close_s: float = Field(default=60.0, gt=0, validation_alias="CRONIUM_SSH_IDLE_CLOSE")
    # After this many failed connects in a row a server is skipped (fails
    # fast) for the cooldown, then one attempt is let through.
    ssh_breaker_threshold: int = Field(default=3, ge=1, validation_alias="CRONIUM_SSH_BREAKER_THRESHOLD")
    ssh_breaker_cooldown_s: float = Field(default=30.0, gt=0, validation_alias="CRONIUM_SSH_BREAKER_COOLDOWN")

    @field_validator("egress_allow", "egress_dns", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @model_validator(mode="after")
    def _token_from_the_app_beside_it(self) -> "WorkerSettings":
        if not self.orchestrator_token:
            generated = local_secrets.read(self.data_dir) or {}
            self.orchestrator_token = generated.get("orchestrator_token", "")
        if not self.orchestrator_token:
            raise ValueError(
                f"ORCHESTRATOR_TOKEN is not set and {local_secrets.path_in(self.data_dir)} does not exist: "
                "give this worker the app's orchestrator token (a worker beside the app finds it in the "
                "app's data directory, CRONIUM_DATA_DIR)"
            )
        return self

    @field_validator("tool_allow_listed")
    @classmethod
    def _tool_allow_parses(cls, value: str) -> str:
        AllowList.parse(value)
        return value

    @property
    def tool_allow(self) -> AllowList:
        return AllowList.parse(self.tool_allow_listed)

    @property
    def allowed_images(self) -> frozenset[str]:
        return image_policy.allowed_images(self.allowed_images_listed, self.default_image)

    @property
    def app_label(self) -> str:
        """A short, stable name for the app this worker serves (its URL)."""
        return hashlib.sha256(self.orchestrator_url.rstrip("/").encode()).hexdigest()[:16]
