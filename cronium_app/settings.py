"""Typed settings, read once from the environment (and a `.env` file).

Everything that an operator may want to change lives here; code takes a
`Settings` object (usually `get_settings()`) instead of reading os.environ.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator_worker import local_secrets

REPO_ROOT = Path(__file__).resolve().parent.parent
# A secret shorter than this is refused in production.
MIN_SECRET_CHARS = 32


class InsecureSettingsError(RuntimeError):
    """Raised when production mode is asked for with a weak secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # -- where things live -------------------------------------------------
    # Unset: a SQLite file in the data directory.
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    # Generated secrets (secrets.json) and the default SQLite database.
    data_dir: Path = Field(default=REPO_ROOT / "data", validation_alias="CRONIUM_DATA_DIR")
    port: int = Field(default=8000, validation_alias="CRONIUM_PORT")
    # The address the app listens on: this machine only, unless told otherwise
    # (0.0.0.0 behind a reverse proxy or in a container).
    host: str = Field(default="127.0.0.1", validation_alias="CRONIUM_HOST")
    # The origin people reach the UI at (scheme://host[:port]); the only
    # origin cross-site requests and websockets are accepted from. Default:
    # http://localhost:{port}.
    public_url: str | None = Field(default=None, validation_alias="CRONIUM_PUBLIC_URL")
    environment: str = Field(default="dev", validation_alias="CRONIUM_ENV")
    # Redis (redis://, rediss:// or unix://): Reflex keeps the web UI's state
    # there, so that several app processes (replicas) serve one instance.
    # Unset: each process keeps its pages' state in its own memory.
    redis_url: str = Field(default="", validation_alias="REDIS_URL")
    # This process's name in its own metrics' `replica` label (default: the
    # host name); each replica of a deployment needs a different one.
    replica_name: str = Field(default="", max_length=128, validation_alias="CRONIUM_REPLICA_NAME")

    # -- secrets -------------------------------------------------------------
    # Unset: generated on first start and kept in {data_dir}/secrets.json.
    secret_key: str = Field(default="", validation_alias="SECRET_KEY")
    orchestrator_token: str = Field(default="", validation_alias="ORCHESTRATOR_TOKEN")
    # The bearer token a Prometheus scraper sends to /metrics. Unset: /metrics
    # answers 404 ("metrics are off"), so nothing is served by default.
    metrics_token: str = Field(default="", validation_alias="CRONIUM_METRICS_TOKEN")

    # -- accounts ----------------------------------------------------------
    allow_registration: bool = Field(default=True, validation_alias="CRONIUM_ALLOW_REGISTRATION")
    # Who may create an account: anyone (open), only through an invitation
    # link (invite), nobody new (closed). Unset: open, or closed when
    # CRONIUM_ALLOW_REGISTRATION=false (its older name). The first account
    # can always be created, and is the admin.
    registration: Literal["open", "invite", "closed"] | None = Field(
        default=None, validation_alias="CRONIUM_REGISTRATION"
    )
    # How long an invitation link and a password-reset link work.
    invite_ttl: timedelta = Field(default=timedelta(days=7), validation_alias="CRONIUM_INVITE_TTL")
    reset_ttl: timedelta = Field(default=timedelta(hours=1), validation_alias="CRONIUM_RESET_TTL")
    admin_email: str | None = Field(default=None, validation_alias="CRONIUM_ADMIN_EMAIL")
    admin_password: str | None = Field(default=None, validation_alias="CRONIUM_ADMIN_PASSWORD")
    # API tokens that /api/v1/auth/login and /register hand out expire after
    # this long (seconds, or ISO 8601 such as P30D; 0: never). Tokens made
    # through /api/v1/tokens keep the expiry they were given.
    login_token_ttl: timedelta = Field(default=timedelta(days=30), validation_alias="CRONIUM_LOGIN_TOKEN_TTL")
    # Behind this many reverse proxies the client's address is the one they
    # add to X-Forwarded-For (0: the address the request came from).
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10, validation_alias="CRONIUM_TRUSTED_PROXY_HOPS")

    # -- single sign-on through OpenID Connect (cronium_app/auth/oidc_*.py) --
    # The provider's issuer URL (its discovery document is under
    # /.well-known/openid-configuration). Unset: single sign-on is off and
    # its routes answer 404. Set: the client id and secret must be set too.
    oidc_issuer: str = Field(default="", max_length=500, validation_alias="CRONIUM_OIDC_ISSUER")
    oidc_client_id: str = Field(default="", max_length=500, validation_alias="CRONIUM_OIDC_CLIENT_ID")
    # A secret: SecretStr keeps it out of the settings' repr (and so of logs).
    oidc_client_secret: SecretStr = Field(default=SecretStr(""), validation_alias="CRONIUM_OIDC_CLIENT_SECRET")
    oidc_scopes: str = Field(default="openid email profile", max_length=500, validation_alias="CRONIUM_OIDC_SCOPES")
    # The ID token claim that says who administers the server (a string or a
    # list of strings, e.g. `groups`), and the comma-separated values that
    # make an account an admin; every other value makes it a user. Unset:
    # single sign-on leaves the instance role alone.
    oidc_role_claim: str = Field(default="", max_length=100, validation_alias="CRONIUM_OIDC_ROLE_CLAIM")
    oidc_admin_values: str = Field(default="", max_length=2000, validation_alias="CRONIUM_OIDC_ADMIN_VALUES")
    # Whether a first sign-on may create an account: `registration` follows
    # CRONIUM_REGISTRATION (open: anyone the provider vouches for; invite:
    # only invited emails; closed: nobody), `always` lets the provider decide
    # alone, `never` only signs in existing accounts.
    oidc_create_accounts: Literal["registration", "always", "never"] = Field(
        default="registration", validation_alias="CRONIUM_OIDC_CREATE_ACCOUNTS"
    )
    # The login page's button says "Sign in with <label>".
    oidc_label: str = Field(default="single sign-on", min_length=1, max_length=60,
                            validation_alias="CRONIUM_OIDC_LABEL")

    # -- throttles (cronium_app/auth/throttle.py): at most LIMIT in WINDOW
    # seconds; past that a caller waits the window, twice as long the next
    # time, and so on up to the maximum wait.
    sign_in_account_limit: int = Field(default=10, ge=1, validation_alias="CRONIUM_SIGN_IN_ACCOUNT_LIMIT")
    sign_in_ip_limit: int = Field(default=50, ge=1, validation_alias="CRONIUM_SIGN_IN_IP_LIMIT")
    sign_in_window_s: float = Field(default=60.0, gt=0, validation_alias="CRONIUM_SIGN_IN_WINDOW")
    register_ip_limit: int = Field(default=10, ge=1, validation_alias="CRONIUM_REGISTER_IP_LIMIT")
    register_window_s: float = Field(default=3600.0, gt=0, validation_alias="CRONIUM_REGISTER_WINDOW")
    token_create_limit: int = Field(default=30, ge=1, validation_alias="CRONIUM_TOKEN_CREATE_LIMIT")
    token_create_window_s: float = Field(default=3600.0, gt=0, validation_alias="CRONIUM_TOKEN_CREATE_WINDOW")
    throttle_max_wait_s: float = Field(default=3600.0, gt=0, validation_alias="CRONIUM_THROTTLE_MAX_WAIT")
    # Addresses, accounts and users each throttle remembers at most.
    throttle_max_keys: int = Field(default=10_000, ge=100, validation_alias="CRONIUM_THROTTLE_MAX_KEYS")
    # Argon2 hashes and checks running at once (each takes 64 MiB), and how
    # long a sign-in waits for its turn before it is told to come back.
    hash_concurrency: int = Field(default=2, ge=1, le=64, validation_alias="CRONIUM_HASH_CONCURRENCY")
    hash_wait_s: float = Field(default=10.0, gt=0, validation_alias="CRONIUM_HASH_WAIT")

    # -- job defaults and the maxima a user may ask for ---------------------
    job_default_timeout_s: int = Field(default=300, validation_alias="CRONIUM_JOB_DEFAULT_TIMEOUT")
    job_max_timeout_s: int = Field(default=86_400, validation_alias="CRONIUM_JOB_MAX_TIMEOUT")
    job_default_cpus: float = Field(default=1.0, validation_alias="CRONIUM_JOB_DEFAULT_CPUS")
    job_max_cpus: float = Field(default=2.0, validation_alias="CRONIUM_JOB_MAX_CPUS")
    job_default_memory_mb: int = Field(default=256, validation_alias="CRONIUM_JOB_DEFAULT_MEMORY_MB")
    job_max_memory_mb: int = Field(default=2048, validation_alias="CRONIUM_JOB_MAX_MEMORY_MB")
    job_default_pids: int = Field(default=128, validation_alias="CRONIUM_JOB_DEFAULT_PIDS")
    job_max_pids: int = Field(default=1024, validation_alias="CRONIUM_JOB_MAX_PIDS")
    job_max_retries: int = Field(default=10, validation_alias="CRONIUM_JOB_MAX_RETRIES")
    job_log_max_bytes: int = Field(default=5 * 1024 * 1024, validation_alias="CRONIUM_JOB_LOG_MAX_BYTES")
    allow_egress: bool = Field(default=True, validation_alias="CRONIUM_ALLOW_EGRESS")
    # Images an event may name, as the workers read them (orchestrator_worker/image_policy.py).
    runtime_image: str = Field(default="cronium-runtime:latest", validation_alias="CRONIUM_RUNTIME_IMAGE")
    allowed_images: str = Field(default="", validation_alias="CRONIUM_ALLOWED_IMAGES")

    # -- sizes a user controls ---------------------------------------------
    script_max_bytes: int = Field(default=256 * 1024, validation_alias="CRONIUM_SCRIPT_MAX_BYTES")
    variable_value_max_bytes: int = Field(default=1024 * 1024, validation_alias="CRONIUM_VARIABLE_MAX_BYTES")
    job_io_max_bytes: int = Field(default=5 * 1024 * 1024, validation_alias="CRONIUM_JOB_IO_MAX_BYTES")
    request_body_max_bytes: int = Field(default=8 * 1024 * 1024, validation_alias="CRONIUM_REQUEST_MAX_BYTES")
    log_batch_max_lines: int = Field(default=5000, validation_alias="CRONIUM_LOG_BATCH_MAX_LINES")
    log_line_max_chars: int = Field(default=16 * 1024, validation_alias="CRONIUM_LOG_LINE_MAX_CHARS")

    # -- per-user quotas -----------------------------------------------------
    max_events_per_user: int = Field(default=1000, ge=1, validation_alias="CRONIUM_MAX_EVENTS_PER_USER")
    max_variables_per_user: int = Field(default=1000, ge=1, validation_alias="CRONIUM_MAX_VARIABLES_PER_USER")
    max_servers_per_user: int = Field(default=200, ge=1, validation_alias="CRONIUM_MAX_SERVERS_PER_USER")
    max_waiting_jobs_per_user: int = Field(default=1000, ge=1, validation_alias="CRONIUM_MAX_WAITING_JOBS_PER_USER")
    # Jobs of one user held by workers at once (0: no limit); the others wait in the queue.
    max_running_jobs_per_user: int = Field(default=0, ge=0, validation_alias="CRONIUM_MAX_RUNNING_JOBS_PER_USER")

    max_tools_per_user: int = Field(default=100, ge=1, validation_alias="CRONIUM_MAX_TOOLS_PER_USER")
    max_triggers_per_user: int = Field(default=200, ge=1, validation_alias="CRONIUM_MAX_TRIGGERS_PER_USER")

    # -- tools, conditional actions, webhook triggers ---------------------------
    # The URL a chat tool's incoming webhook must start with, per service
    # (comma-separated; "*." in a host matches any subdomain). Tests point
    # them at receivers of their own.
    slack_webhook_bases: str = Field(default="https://hooks.slack.com/", validation_alias="CRONIUM_SLACK_WEBHOOK_BASES")
    discord_webhook_bases: str = Field(
        default="https://discord.com/api/webhooks/,https://discordapp.com/api/webhooks/",
        validation_alias="CRONIUM_DISCORD_WEBHOOK_BASES",
    )
    teams_webhook_bases: str = Field(
        default="https://*.webhook.office.com/,https://*.logic.azure.com/,https://*.api.powerplatform.com/",
        validation_alias="CRONIUM_TEAMS_WEBHOOK_BASES",
    )
    # Private hosts and ranges tools may reach (the workers read it too).
    tool_allow: str = Field(default="", validation_alias="CRONIUM_TOOL_ALLOW")
    # A new failure alert's window: at most one alert per this many seconds.
    alert_window_s: int = Field(default=3600, ge=0, le=30 * 86400, validation_alias="CRONIUM_ALERT_WINDOW")
    # How often the late and long-running run alerts are checked (jobs/late_runs.py).
    late_check_interval_s: float = Field(default=30.0, gt=0, validation_alias="CRONIUM_LATE_CHECK_INTERVAL")
    # Webhook triggers: the largest body, and calls per trigger per window.
    hook_body_max_bytes: int = Field(default=1024 * 1024, ge=1, validation_alias="CRONIUM_HOOK_BODY_MAX_BYTES")
    hook_rate_limit: int = Field(default=60, ge=1, validation_alias="CRONIUM_HOOK_RATE_LIMIT")
    hook_rate_window_s: float = Field(default=60.0, gt=0, validation_alias="CRONIUM_HOOK_RATE_WINDOW")

    runtime_requests_per_s: float = Field(default=50.0, validation_alias="CRONIUM_RUNTIME_RATE")
    runtime_burst: int = Field(default=100, validation_alias="CRONIUM_RUNTIME_BURST")

    # -- queue ---------------------------------------------------------------
    lease_seconds: int = Field(default=30, validation_alias="CRONIUM_LEASE_SECONDS")
    max_attempts: int = Field(default=3, validation_alias="CRONIUM_MAX_ATTEMPTS")
    sweep_interval_s: float = Field(default=5.0, validation_alias="CRONIUM_SWEEP_INTERVAL")
    claim_max_wait_s: float = Field(default=30.0, validation_alias="CRONIUM_CLAIM_MAX_WAIT")

    # -- workers (the Workers page): what their heartbeats say ---------------
    # A worker not heard from for this long is shown as gone.
    worker_gone_after_s: float = Field(default=60.0, gt=0, validation_alias="CRONIUM_WORKER_GONE_AFTER")
    # A gone worker is forgotten (its row deleted) after this long.
    worker_forget_after: timedelta = Field(default=timedelta(days=7), validation_alias="CRONIUM_WORKER_FORGET_AFTER")

    # -- history retention (jobs/retention.py) -----------------------------------
    # Days a finished job is kept unless its event says otherwise; 0: forever.
    retention_days: int = Field(default=30, ge=0, le=36_500, validation_alias="CRONIUM_RETENTION_DAYS")
    retention_interval_s: float = Field(default=3600.0, gt=0, validation_alias="CRONIUM_RETENTION_INTERVAL")
    # Jobs per delete batch (one short transaction each).
    retention_batch: int = Field(default=500, ge=1, le=10_000, validation_alias="CRONIUM_RETENTION_BATCH")
    # Days an audit log entry is kept (cronium_app/audit); 0: forever.
    audit_retention_days: int = Field(default=365, ge=0, le=36_500, validation_alias="CRONIUM_AUDIT_RETENTION_DAYS")

    # -- scheduler (cronium_app/scheduler) and retries ----------------------------
    scheduler_enabled: bool = Field(default=True, validation_alias="CRONIUM_SCHEDULER_ENABLED")
    # How often the loop looks for due schedules (it also wakes for the next one).
    scheduler_poll_s: float = Field(default=0.5, gt=0, validation_alias="CRONIUM_SCHEDULER_POLL")
    # Schedules handled per transaction.
    scheduler_batch: int = Field(default=100, ge=1, validation_alias="CRONIUM_SCHEDULER_BATCH")
    # A fire time older than this when the loop reaches it counts as missed
    # (the app was down) and goes to the schedule's misfire policy.
    scheduler_misfire_grace_s: float = Field(default=5.0, ge=0, validation_alias="CRONIUM_SCHEDULER_MISFIRE_GRACE")
    # misfire_policy run_all creates at most this many runs for missed times.
    scheduler_run_all_cap: int = Field(default=100, ge=1, validation_alias="CRONIUM_SCHEDULER_RUN_ALL_CAP")
    # Retry n of a failed job waits base * 2^(n-1) seconds (at most max), half of it jittered.
    retry_backoff_base_s: float = Field(default=10.0, ge=0, validation_alias="CRONIUM_RETRY_BACKOFF_BASE")
    retry_backoff_max_s: float = Field(default=3600.0, ge=0, validation_alias="CRONIUM_RETRY_BACKOFF_MAX")

    # The browser terminal to a user's server (cronium_app/terminal/).
    # Closed after this long without a key press or a paste from the browser.
    terminal_idle_s: float = Field(default=900.0, gt=0, le=86_400, validation_alias="CRONIUM_TERMINAL_IDLE_SECONDS")
    # Terminals one user may have open at once (counted per app process).
    terminal_max_per_user: int = Field(default=3, ge=1, le=50, validation_alias="CRONIUM_TERMINAL_MAX_PER_USER")
    # How often an open terminal re-checks that its sign-in and its access still hold.
    terminal_recheck_s: float = Field(default=1.0, gt=0, le=60, validation_alias="CRONIUM_TERMINAL_RECHECK_SECONDS")

    @property
    def is_production(self) -> bool:
        return self.environment.lower() in {"prod", "production"}

    @property
    def registration_mode(self) -> str:
        if self.registration is not None:
            return self.registration
        return "open" if self.allow_registration else "closed"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def oidc_admin_value_set(self) -> frozenset[str]:
        return frozenset(value.strip() for value in self.oidc_admin_values.split(",") if value.strip())

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def origin(self) -> str:
        """The public origin, without a trailing slash."""
        return (self.public_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def served_over_https(self) -> bool:
        """People reach the app over https (a TLS proxy in front): cookies
        are then sent over https only, whatever the request to the app was."""
        return self.origin.lower().startswith("https://")

    @model_validator(mode="after")
    def _check_limits(self) -> "Settings":
        for name, ttl in (("CRONIUM_INVITE_TTL", self.invite_ttl), ("CRONIUM_RESET_TTL", self.reset_ttl)):
            if not timedelta(minutes=1) <= ttl <= timedelta(days=90):
                raise ValueError(f"{name} must be between one minute and 90 days")
        if self.job_default_timeout_s > self.job_max_timeout_s:
            raise ValueError("CRONIUM_JOB_DEFAULT_TIMEOUT exceeds CRONIUM_JOB_MAX_TIMEOUT")
        return self

    @model_validator(mode="after")
    def _check_single_sign_on(self) -> "Settings":
        """Single sign-on is either off (no issuer) or whole: a half
        configuration would fail only when someone tries to sign in."""
        given = {"CRONIUM_OIDC_ISSUER": self.oidc_issuer, "CRONIUM_OIDC_CLIENT_ID": self.oidc_client_id,
                 "CRONIUM_OIDC_CLIENT_SECRET": self.oidc_client_secret.get_secret_value()}
        if not self.oidc_issuer:
            if any(given.values()) or self.oidc_role_claim or self.oidc_admin_values:
                raise ValueError("single sign-on settings are set but CRONIUM_OIDC_ISSUER is not: "
                                 "set the provider's issuer URL, or remove the other CRONIUM_OIDC_ settings")
            return self
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise ValueError("single sign-on needs " + " and ".join(missing) + " too (CRONIUM_OIDC_ISSUER is set)")
        if not _acceptable_issuer(self.oidc_issuer):
            raise ValueError("CRONIUM_OIDC_ISSUER must be an https:// URL (http:// only for this machine: "
                             "localhost or 127.0.0.1)")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("CRONIUM_OIDC_SCOPES must include openid")
        if bool(self.oidc_role_claim) != bool(self.oidc_admin_value_set):
            raise ValueError("CRONIUM_OIDC_ROLE_CLAIM and CRONIUM_OIDC_ADMIN_VALUES go together: "
                             "set both (the claim, and the values of it that make an admin) or neither")
        return self

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        self.database_url = self.database_url or f"sqlite:///{self.data_dir / 'cronium.db'}"
        return self

    @model_validator(mode="after")
    def _generated_secrets(self) -> "Settings":
        """Secrets not given are this installation's own, made on first use."""
        if not (self.secret_key and self.orchestrator_token):
            generated = local_secrets.read_or_create(self.data_dir)
            self.secret_key = self.secret_key or generated["secret_key"]
            self.orchestrator_token = self.orchestrator_token or generated["orchestrator_token"]
        return self

    def assert_safe_for_production(self) -> None:
        """Refuse to serve production traffic with a secret that can be guessed."""
        if not self.is_production:
            return
        problems = [
            f"{name} must be a random value of at least {MIN_SECRET_CHARS} characters"
            for name, value in (("SECRET_KEY", self.secret_key), ("ORCHESTRATOR_TOKEN", self.orchestrator_token))
            if len(value) < MIN_SECRET_CHARS
        ]
        if problems:
            raise InsecureSettingsError("refusing to start in production: " + "; ".join(problems))


def _acceptable_issuer(url: str) -> bool:
    """https, or http to this machine only (a provider for development and
    tests): tokens and the client secret never cross a network in clear."""
    parts = urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
