"""Whether egress jobs may run on this worker, and on what network.

At start the worker sets up the job network and installs the firewall
rules. If it cannot (not root, no iptables, a Docker Engine on another
machine, a subnet clash), egress jobs are refused with the reason rather
than run unprotected; CRONIUM_EGRESS_POLICY=off is the operator's explicit,
unsafe way to run them without the rules. Before an egress job the guard
checks again (at most every RECHECK_S): rules wiped by a firewall reload
are put back, and a problem that has gone away no longer refuses jobs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import docker
from docker.errors import DockerException

from orchestrator_worker.egress import firewall, network
from orchestrator_worker.egress.firewall import FirewallError
from orchestrator_worker.egress.network import NetworkProblem
from orchestrator_worker.egress.policy import CONTAINER_SYSCTLS, EgressPolicy
from orchestrator_worker.jobs import ClaimedJob
from orchestrator_worker.settings import WorkerSettings

logger = logging.getLogger(__name__)

RECHECK_S = 5.0


def wants_egress(job: ClaimedJob, settings: WorkerSettings) -> bool:
    """The job asked for network access and this worker gives it."""
    return job.execution.get("network") == "egress" and settings.allow_egress


def policy_from(settings: WorkerSettings) -> EgressPolicy:
    dns = settings.egress_dns if settings.egress_dns is not None else network.host_resolvers()
    return EgressPolicy(settings.egress_network, settings.egress_allow, dns)


class EgressGuard:
    def __init__(self, settings: WorkerSettings, docker_client: Callable[[], docker.DockerClient]):
        self.settings = settings
        self.policy = policy_from(settings)
        self._docker_client = docker_client
        self._problem: str | None = "the job network has not been set up yet"
        self._installed: list[str] = []
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def enforcing(self) -> bool:
        return self.settings.egress_policy == "enforce"

    async def prepare(self) -> None:
        """Set up the network and the rules; log what egress jobs will get."""
        if not self.settings.allow_egress:
            logger.info("egress is turned off on this worker (CRONIUM_ALLOW_EGRESS): every job runs without a network")
            return
        async with self._lock:
            await self._set_up()
        if self._problem is not None:
            logger.error("egress jobs will be refused: %s", self._problem)
        elif not self.enforcing:
            logger.warning(
                "CRONIUM_EGRESS_POLICY=off: egress jobs run on network %s WITHOUT the firewall rules; they can reach "
                "this host (the app, the database), private networks and cloud metadata", self.policy.network,
            )
        else:
            logger.info(
                "egress jobs run on network %s (bridge %s) behind iptables chains %s; allowed private ranges: %s; DNS: %s",
                self.policy.network, self.policy.bridge, ", ".join(self.policy.chains),
                _listed(self.policy.allow), _listed(self.policy.dns),
            )

    async def refusal(self) -> str | None:
        """Why an egress job cannot run now (its error), or None."""
        async with self._lock:
            if self._checked_at is None or time.monotonic() - self._checked_at >= RECHECK_S:
                await self._recheck()
        if self._problem is None:
            return None
        return f"egress is unavailable on this worker: {self._problem}; the job was not run"

    def network_mode(self, egress: bool) -> str:
        return self.policy.network if egress else "none"

    def sysctls(self, egress: bool) -> dict[str, str] | None:
        return dict(CONTAINER_SYSCTLS) if egress else None

    async def _recheck(self) -> None:
        if self._problem is None:
            if not self.enforcing or await self._rules_intact():
                self._checked_at = time.monotonic()
                return
            logger.warning("the egress firewall rules changed or vanished; installing them again")
        await self._set_up()
        if self._problem is not None:
            logger.error("egress jobs will be refused: %s", self._problem)

    async def _set_up(self) -> None:
        self._checked_at = time.monotonic()
        try:
            note = await asyncio.to_thread(network.ensure_network, self._docker_client(), self.policy, self.settings.egress_subnet)
            if note:
                logger.warning("%s", note)
            if self.enforcing:
                await self._install_rules()
            self._problem = None
        except (NetworkProblem, FirewallError) as exc:
            self._problem = str(exc)
        except (DockerException, OSError) as exc:
            self._problem = f"the job network could not be set up: {exc}"

    async def _rules_intact(self) -> bool:
        try:
            return firewall.installed_rules(self.policy, await firewall.read_filter_table()) == self._installed
        except FirewallError:
            return False

    async def _install_rules(self) -> None:
        if not network.bridge_is_local(self.policy):
            raise FirewallError(
                f"the job network's bridge {self.policy.bridge} is not on this machine (is DOCKER_HOST another "
                "machine, or does the worker run in a container?), so its firewall rules cannot be installed here"
            )
        try:
            self._installed = await firewall.install(self.policy)
        except FirewallError as exc:
            raise FirewallError(f"the firewall rules that keep egress jobs off this host and private networks could not be installed: {exc}") from None


def _listed(items) -> str:
    return ", ".join(str(item) for item in items) or "none"
