#!/usr/bin/env bash
# The remote-server tests and benchmarks start their own OpenSSH servers on
# loopback addresses; nothing listens on port 22 because of this.
exec "$(dirname "$0")/ensure-deb.sh" /usr/sbin/sshd openssh-server
