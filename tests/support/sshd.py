"""Real OpenSSH servers for the remote-server tests: one `sshd` listening on
loopback addresses (127.0.0.2, 127.0.0.3, ...), logging in a dedicated
unprivileged account, with its own host key and config in a temporary
directory. Needs root (sshd's privilege separation) and Debian's
openssh-server (`make sshd` installs it).

Test sessions running at once on one machine (CI runs several) keep apart:
every SshdHosts listens on a port nobody else holds on its addresses (picked
free, and picked again should another process take it first), and logs in
an account of its own with a password of its own (one shared account would
have each session's new password lock out the others)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.support.ports import PortTaken, free_port_on

SSHD = "/usr/sbin/sshd"
ACCOUNT_PREFIX = "cronium-ssh-"
# The test accounts' lock files (root's only).
ACCOUNTS_DIR = Path("/var/lib/cronium-test-sshd")
SOCKETS_PER_SSHD = 16
PORT_ATTEMPTS = 5


def keygen(path: Path, kind: str = "ed25519") -> tuple[str, str]:
    """A new key pair: (private key text, public key line)."""
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "cronium-test", "-f", str(path)], check=True)
    return path.read_text(), Path(f"{path}.pub").read_text().strip()


@contextlib.contextmanager
def _accounts_lock() -> Iterator[None]:
    """One session at a time adds or removes test accounts (useradd and
    userdel refuse to run while another one holds /etc/passwd)."""
    ACCOUNTS_DIR.mkdir(mode=0o700, exist_ok=True)
    with open(ACCOUNTS_DIR / "accounts.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _user_command(*argv: str) -> None:
    """useradd/userdel, again for a while if a process outside the tests
    holds the passwd lock (exit status 10)."""
    for _ in range(50):
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 10:
            break
        time.sleep(0.2)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()}")


def _remove_account(name: str) -> None:
    # --force: an sshd session of a killed test run may still be there.
    _user_command("userdel", "--force", "--remove", name)
    (ACCOUNTS_DIR / f"{name}.held").unlink(missing_ok=True)


def _remove_abandoned_accounts() -> None:
    """Accounts whose session ended without removing them (killed): nobody
    holds their lock file any more."""
    for entry in pwd.getpwall():
        if not entry.pw_name.startswith(ACCOUNT_PREFIX):
            continue
        with open(ACCOUNTS_DIR / f"{entry.pw_name}.held", "a") as held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its session is running
            _remove_account(entry.pw_name)


class SshAccount:
    """An unprivileged account of this session's own, with a random
    password; it holds a lock file while it exists, so that a later session
    can tell an account left by a killed one from a live one's."""

    def __init__(self) -> None:
        self.name = ACCOUNT_PREFIX + secrets.token_hex(3)
        self.password = secrets.token_urlsafe(12)
        self._held: IO[str] | None = None

    def create(self) -> "SshAccount":
        with _accounts_lock():
            _remove_abandoned_accounts()
            self._held = open(ACCOUNTS_DIR / f"{self.name}.held", "w")
            fcntl.flock(self._held, fcntl.LOCK_EX)
            _user_command("useradd", "--create-home", "--shell", "/bin/bash", self.name)
            subprocess.run(["chpasswd"], input=f"{self.name}:{self.password}\n", text=True, check=True)
        return self

    def remove(self) -> None:
        if self._held is None:
            return
        with _accounts_lock():
            _remove_account(self.name)
            self._held.close()
            self._held = None


@dataclass
class SshdHosts:
    """sshd on `count` loopback addresses from 127.0.0.2 on, on one port:
    `port` if given, else a free one of its own (see the module's docstring)."""

    count: int = 3
    port: int | None = None
    addresses: list[str] = field(default_factory=list)
    password: str = ""
    private_key: str = ""
    public_key: str = ""
    host_key: str = ""
    other_host_key: str = ""  # a key the servers do not have (for the mismatch test)
    user: str = ""
    account: SshAccount | None = None
    # Logins may ask for a PTY (the browser terminal's tests); the servers
    # of the remote-run tests refuse one, as nothing there needs it.
    permit_tty: bool = False
    processes: list[subprocess.Popen] = field(default_factory=list)
    directory: Path | None = None
    log_path: Path | None = None

    def start(self) -> "SshdHosts":
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> "SshdHosts":
        if os.geteuid() != 0:
            raise RuntimeError("the SSH server tests need root (sshd's privilege separation); CI runs as root")
        if not Path(SSHD).exists():
            raise RuntimeError(f"{SSHD} is missing: run `make sshd` (Debian's openssh-server)")
        self.account = SshAccount().create()
        self.user, self.password = self.account.name, self.account.password
        self.addresses = [f"127.0.0.{2 + i}" for i in range(self.count)]
        # Readable by the test user: sshd reads authorized_keys as that user.
        self.directory = Path(tempfile.mkdtemp(prefix="cronium-sshd-"))
        self.directory.chmod(0o755)
        _, self.host_key = keygen(self.directory / "host_ed25519")
        _, self.other_host_key = keygen(self.directory / "other_host_ed25519")
        self.private_key, self.public_key = keygen(self.directory / "client_ed25519")
        authorized = self.directory / "authorized_keys"
        authorized.write_text(self.public_key + "\n")
        authorized.chmod(0o644)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        self.log_path = self.directory / "sshd.log"
        if self.port is not None:
            self._start_servers()
            return self
        # The free port may be taken by another process between the pick and
        # sshd's bind: pick again then.
        for attempt in range(PORT_ATTEMPTS):
            self.port = free_port_on(self.addresses)
            try:
                self._start_servers()
                return self
            except PortTaken:
                self._stop_servers()
                if attempt == PORT_ATTEMPTS - 1:
                    raise
        return self

    def _start_servers(self) -> None:
        # One sshd listens on at most 16 sockets (MAX_LISTEN_SOCKS).
        for first in range(0, len(self.addresses), SOCKETS_PER_SSHD):
            config = self.directory / f"sshd_config.{first}"
            config.write_text(self._config(self.addresses[first : first + SOCKETS_PER_SSHD], first))
            subprocess.run([SSHD, "-t", "-f", str(config)], check=True)
            self.processes.append(
                subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=open(self.log_path, "ab"), stdout=subprocess.DEVNULL)
            )
        self._wait_listening()

    def _config(self, addresses: list[str], index: int) -> str:
        listen = "".join(f"ListenAddress {address}:{self.port}\n" for address in addresses)
        return (
            listen
            + f"HostKey {self.directory}/host_ed25519\n"
            + f"PidFile {self.directory}/sshd.{index}.pid\n"
            + f"AuthorizedKeysFile {self.directory}/authorized_keys\n"
            + f"AllowUsers {self.user}\n"
            + "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            + "PermitRootLogin no\nAllowStreamLocalForwarding yes\nStreamLocalBindUnlink yes\n"
            + "AllowTcpForwarding remote\nX11Forwarding no\nAllowAgentForwarding no\n"
            + f"PermitTTY {'yes' if self.permit_tty else 'no'}\n"
            + "MaxSessions 64\nMaxStartups 200\nLogLevel VERBOSE\n"
        )

    def _wait_listening(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.addresses)
        while pending and time.monotonic() < deadline:
            # sshd carries on when some of its addresses fail to bind; the
            # test would then talk to whoever holds the port there.
            if "Address already in use" in self.log_path.read_text(errors="replace"):
                raise PortTaken(f"port {self.port} is taken on one of {self.addresses}")
            if any(process.poll() is not None for process in self.processes):
                raise RuntimeError(f"sshd exited: {self.log_path.read_text()[-2000:]}")
            try:
                socket.create_connection((pending[0], self.port), timeout=1).close()
                pending.pop(0)
            except OSError:
                time.sleep(0.1)
        if pending:
            raise RuntimeError(f"sshd is not listening on {pending}: {self.log_path.read_text()[-2000:]}")

    def logins(self) -> int:
        """Successful logins so far (each is one new SSH connection)."""
        text = self.log_path.read_text(errors="replace") if self.log_path else ""
        return len(re.findall(r"Accepted (?:publickey|password) for ", text))

    def drop_connections(self) -> int:
        """End every open SSH connection (the per-connection sshd processes,
        children of ours) while the servers keep listening; how many."""
        dropped = 0
        for process in self.processes:
            children = subprocess.run(["ps", "--ppid", str(process.pid), "-o", "pid="], capture_output=True, text=True).stdout.split()
            for pid in children:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                    dropped += 1
                except ProcessLookupError:
                    pass
        return dropped

    def stop(self) -> None:
        self._stop_servers()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
        if self.account is not None:
            self.account.remove()

    def _stop_servers(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)  # logins() counts this server's only

    def __enter__(self) -> "SshdHosts":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
