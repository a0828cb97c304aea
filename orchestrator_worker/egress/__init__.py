"""Egress jobs reach the public internet and nothing else: the job network
(network.py), its firewall rules (policy.py, firewall.py) and the guard
that refuses egress jobs when they cannot be protected (guard.py).
`python -m orchestrator_worker.egress` installs, shows and removes them."""

from orchestrator_worker.egress.guard import EgressGuard, policy_from, wants_egress

__all__ = ["EgressGuard", "policy_from", "wants_egress"]
