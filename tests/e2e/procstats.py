"""Helpers for the security, config and abuse tests: /proc statistics of a server process (thread count,
descriptor count, resident memory), the kernel's send/receive queues of one TCP connection (to know, without
sleeping, that the server has read what a client sent), and raw sockets. Servers themselves are started by
conftest.py (ServerProcess, Launcher, start_pair).

Every wait here is a poll with a deadline and a bounded number of polls.
"""

from __future__ import annotations

import os
import socket
import time

from conftest import HOST
from resp import RespConnection


# --- /proc ---------------------------------------------------------------------------------------
def _status_field(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no {field}")


def threads(pid: int) -> int:
    return _status_field(pid, "Threads")


def rss_kb(pid: int) -> int:
    return _status_field(pid, "VmRSS")


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def counts(pid: int) -> tuple[int, int]:
    """(threads, open descriptors) of the process."""
    return threads(pid), fds(pid)


def settle(pid: int, timeout: float = 10.0, quiet: float = 0.3) -> tuple[int, int]:
    """Wait until (threads, fds) has not changed for `quiet` seconds (threads of clients that just closed
    have exited) and return it; the deadline bounds the wait."""
    deadline = time.monotonic() + timeout
    last = counts(pid)
    since = time.monotonic()
    for _ in range(int(timeout / 0.02) + 10):
        time.sleep(0.02)
        now = counts(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
        if time.monotonic() >= deadline:
            break
    raise AssertionError(f"thread/fd counts of pid {pid} did not settle within {timeout}s (last {last})")


def wait_back_to(pid: int, baseline: tuple[int, int], what: str, timeout: float = 20.0) -> tuple[int, int]:
    """Wait until threads and fds are back at (or below) the baseline; fail naming both on timeout."""
    deadline = time.monotonic() + timeout
    now = counts(pid)
    for _ in range(int(timeout / 0.02) + 10):
        now = counts(pid)
        if now[0] <= baseline[0] and now[1] <= baseline[1]:
            return now
        if time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    raise AssertionError(f"{what}: threads/fds did not return to the baseline within {timeout}s: "
                         f"before threads={baseline[0]} fds={baseline[1]}, now threads={now[0]} fds={now[1]}")


def _tcp_entries():
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, remote, queues = parts[1], parts[2], parts[4]
                    tx, rx = (int(x, 16) for x in queues.split(":"))
                    yield int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16), tx, rx
        except FileNotFoundError:
            continue


def server_side_queues(server_port: int, client_port: int) -> tuple[int, int] | None:
    """(send queue, receive queue) in bytes of the server's socket for the client connected from
    client_port, or None when that socket does not exist (any more)."""
    for local, remote, tx, rx in _tcp_entries():
        if local == server_port and remote == client_port:
            return tx, rx
    return None


def unsent_bytes(sock: socket.socket) -> int:
    """Bytes the client's kernel still holds for sending (SIOCOUTQ)."""
    import fcntl
    import struct
    import termios
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]


def wait_server_read_everything(sock: socket.socket, server_port: int, timeout: float = 10.0):
    """Wait until every byte the client sent has left its kernel and been read by the server process
    (the server-side receive queue is empty)."""
    client_port = sock.getsockname()[1]
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / 0.01) + 10):
        q = server_side_queues(server_port, client_port)
        last = (unsent_bytes(sock), q)
        if last[0] == 0 and q is not None and q[1] == 0:
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    raise AssertionError(f"the server did not read all that client :{client_port} sent within {timeout}s "
                         f"(client unsent, server (sendq, recvq)) = {last}")


# --- sockets ------------------------------------------------------------------------------------
def read_until_closed(sock: socket.socket, timeout: float = 10.0) -> tuple[bytes, str]:
    """Everything the peer sends until it closes; returns (bytes, "eof" | "reset" | "open").
    "open" means the deadline passed with the connection still open."""
    deadline = time.monotonic() + timeout
    data = bytearray()
    for _ in range(100000):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(data), "open"
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), "open"
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data += chunk
    return bytes(data), "open"


def wrap_socket(sock: socket.socket, port: int, timeout: float = 10.0) -> RespConnection:
    """A RespConnection reading replies from an already connected socket (one bound to a chosen source
    address, or one the test configured itself)."""
    conn = RespConnection.__new__(RespConnection)
    conn.host, conn.port, conn.timeout, conn.sock, conn.buf, conn.pos = HOST, port, timeout, sock, bytearray(), 0
    return conn
