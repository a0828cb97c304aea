"""Real OpenSSH servers for the remote-server tests: one `sshd` listening on
loopback addresses (127.0.0.2, 127.0.0.3, ...), logging in a dedicated
unprivileged account, with its own host key and config in a temporary
directory. Needs root (sshd's privilege separation) and Debian's
openssh-server (`make sshd` installs it)."""

from __future__ import annotations

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
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
TEST_USER = "cronium-ssh"
PORT = 2222
SOCKETS_PER_SSHD = 16


def keygen(path: Path, kind: str = "ed25519") -> tuple[str, str]:
    """A new key pair: (private key text, public key line)."""
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "cronium-test", "-f", str(path)], check=True)
    return path.read_text(), Path(f"{path}.pub").read_text().strip()


def ensure_test_user(password: str) -> pwd.struct_passwd:
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", TEST_USER], check=True)
    subprocess.run(["chpasswd"], input=f"{TEST_USER}:{password}\n", text=True, check=True)
    return pwd.getpwnam(TEST_USER)


@dataclass
class SshdHosts:
    """sshd on `count` loopback addresses from 127.0.0.2 on, port 2222."""

    count: int = 3
    port: int = PORT
    addresses: list[str] = field(default_factory=list)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    private_key: str = ""
    public_key: str = ""
    host_key: str = ""
    other_host_key: str = ""  # a key the servers do not have (for the mismatch test)
    user: str = TEST_USER
    processes: list[subprocess.Popen] = field(default_factory=list)
    directory: Path | None = None
    log_path: Path | None = None

    def start(self) -> "SshdHosts":
        if os.geteuid() != 0:
            raise RuntimeError("the SSH server tests need root (sshd's privilege separation); CI runs as root")
        if not Path(SSHD).exists():
            raise RuntimeError(f"{SSHD} is missing: run `make sshd` (Debian's openssh-server)")
        ensure_test_user(self.password)
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
        # One sshd listens on at most 16 sockets (MAX_LISTEN_SOCKS).
        for first in range(0, len(self.addresses), SOCKETS_PER_SSHD):
            config = self.directory / f"sshd_config.{first}"
            config.write_text(self._config(self.addresses[first : first + SOCKETS_PER_SSHD], first))
            subprocess.run([SSHD, "-t", "-f", str(config)], check=True)
            self.processes.append(
                subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=open(self.log_path, "ab"), stdout=subprocess.DEVNULL)
            )
        self._wait_listening()
        return self

    def _config(self, addresses: list[str], index: int) -> str:
        listen = "".join(f"ListenAddress {address}:{self.port}\n" for address in addresses)
        return (
            listen
            + f"HostKey {self.directory}/host_ed25519\n"
            + f"PidFile {self.directory}/sshd.{index}.pid\n"
            + f"AuthorizedKeysFile {self.directory}/authorized_keys\n"
            + f"AllowUsers {TEST_USER}\n"
            + "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            + "PermitRootLogin no\nAllowStreamLocalForwarding yes\nStreamLocalBindUnlink yes\n"
            + "AllowTcpForwarding remote\nX11Forwarding no\nAllowAgentForwarding no\nPermitTTY no\n"
            + "MaxSessions 64\nMaxStartups 200\nLogLevel VERBOSE\n"
        )

    def _wait_listening(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.addresses)
        while pending and time.monotonic() < deadline:
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
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "SshdHosts":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
