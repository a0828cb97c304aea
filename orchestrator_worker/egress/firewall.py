"""Installs, reads back and removes the egress policy's iptables rules.

Through the `iptables` commands (the same ones Docker uses, so the same
backend, nf_tables or legacy) rather than a library: the Python bindings
speak only the legacy backend, and Docker's DOCKER-USER chain lives in
whichever one its own `iptables` chose.

Installing is one `iptables-restore --noflush` transaction: our chains are
emptied and refilled, every jump to them is deleted and the jumps are
inserted again, all at once. So a restart replaces the rules without a
moment in which running egress jobs are unprotected, and never leaves a
second copy. Nothing outside our chains and the jumps to them is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shlex
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from orchestrator_worker.egress.policy import EgressPolicy, iptables_rules

COMMAND_TIMEOUT_S = 30.0
# Shared by every process on the host (systemd may give a service a /tmp of its own).
LOCK_DIR = Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())


class FirewallError(Exception):
    """The rules could not be read or written; the message says why."""


async def install(policy: EgressPolicy) -> list[str]:
    """Install (or replace) the policy's rules; return them as read back."""
    async with _one_at_a_time(policy):
        await _restore(restore_script(policy, await read_filter_table()))
        return installed_rules(policy, await read_filter_table())


async def remove(policy: EgressPolicy) -> bool:
    """Remove our chains and every jump to them; False if there were none."""
    async with _one_at_a_time(policy):
        # Gone with the rules (an install racing a removal may then run
        # unlocked: harmless, it only replaces what the removal took away).
        _lock_path(policy).unlink(missing_ok=True)
        script = removal_script(policy, await read_filter_table())
        if script is None:
            return False
        await _restore(script)
        return True


async def read_filter_table() -> list[str]:
    """The filter table in `iptables -S` form, one rule a line."""
    return (await _run(["iptables", "-w", "-S"])).splitlines()


def installed_rules(policy: EgressPolicy, table: list[str]) -> list[str]:
    """The lines of `table` that are ours: our chains, their rules, and the
    jumps to them (whatever chain those sit in)."""
    ours = set(policy.chains)
    return [line for line in table if _chain_of(line) in ours or _target_of(line) in ours]


def restore_script(policy: EgressPolicy, table: list[str]) -> str:
    """iptables-restore input that turns `table` into one with exactly our rules."""
    lines = ["*filter"]
    # Declaring a chain creates it, or empties it if it exists.
    lines += [f":{chain} - [0:0]" for chain in policy.chains]
    lines += [_as_delete(line) for line in _jumps_to_ours(policy, table)]
    lines += [shlex.join(rule) for rule in iptables_rules(policy)]
    return "\n".join([*lines, "COMMIT", ""])


def removal_script(policy: EgressPolicy, table: list[str]) -> str | None:
    existing = [chain for chain in policy.chains if f"-N {chain}" in table]
    jumps = _jumps_to_ours(policy, table)
    if not existing and not jumps:
        return None
    lines = ["*filter", *(_as_delete(line) for line in jumps)]
    # Emptied first: our chains jump to each other.
    lines += [f"-F {chain}" for chain in existing]
    lines += [f"-X {chain}" for chain in existing]
    return "\n".join([*lines, "COMMIT", ""])


def _jumps_to_ours(policy: EgressPolicy, table: list[str]) -> list[str]:
    ours = set(policy.chains)
    return [line for line in table if _target_of(line) in ours and _chain_of(line) not in ours]


def _as_delete(rule_line: str) -> str:
    return "-D" + rule_line.removeprefix("-A")


def _chain_of(line: str) -> str | None:
    words = line.split()
    return words[1] if len(words) > 1 and words[0] in ("-N", "-A") else None


def _target_of(line: str) -> str | None:
    words = line.split()
    if words[:1] != ["-A"] or "-j" not in words:
        return None
    position = words.index("-j") + 1
    return words[position] if position < len(words) else None


@contextlib.asynccontextmanager
async def _one_at_a_time(policy: EgressPolicy) -> AsyncIterator[None]:
    """Reading the table and restoring it are two steps: two workers starting
    together on one host would each insert the jumps they did not see."""
    fd = os.open(_lock_path(policy), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(0.05)
        yield
    finally:
        os.close(fd)  # and with it the lock


def _lock_path(policy: EgressPolicy) -> Path:
    return LOCK_DIR / f"{policy.network}.iptables.lock"


async def _restore(script: str) -> None:
    await _run(["iptables-restore", "-w", "--noflush"], stdin=script)


async def _run(argv: list[str], stdin: str | None = None) -> str:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise FirewallError(f"{argv[0]} is not installed (not found on PATH)") from None
    except PermissionError as exc:
        raise FirewallError(f"{argv[0]} cannot be run: {exc}") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin.encode() if stdin is not None else None), COMMAND_TIMEOUT_S)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise FirewallError(f"{argv[0]} did not finish within {COMMAND_TIMEOUT_S:g} s") from None
    if process.returncode != 0:
        reason = err.decode(errors="replace").strip() or f"exit code {process.returncode}"
        raise FirewallError(f"{argv[0]} failed: {reason}")
    return out.decode(errors="replace")
