"""Helpers for the security, config and abuse tests.

* /proc statistics of a server process: thread count, descriptor count, resident memory, and the kernel's
  send/receive queues of one TCP connection (to know, without sleeping, that the server has read what a
  client sent).
* `Launched`: a server process started with an exact command line and environment (conftest's fixtures
  always bind 127.0.0.1 and need +PONG to call a server ready; these tests also need `--bind 0.0.0.0`,
  a password in the environment, a config file, and servers that answer PING with -NOAUTH).

Every wait here is a poll with a deadline and a bounded number of polls.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from resp import RespConnection, RespError

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_REDIS = "/usr/bin/redis-server"
HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


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


# --- servers with a custom command line ------------------------------------------------------------
def binary_under_test() -> str:
    return os.path.abspath(os.environ.get("REDIS_CLONE_BIN") or str(REPO_ROOT / "build" / "redis-clone"))


def is_real_redis(path: str) -> bool:
    return os.path.basename(path) == "redis-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_argv(binary: str, port: int, extra=(), bind: str = HOST, conf: str | None = None,
                tmpdir: str = ".") -> list[str]:
    """The command line that starts `binary` (redis-clone or redis-server) listening on bind:port."""
    head = [binary] + ([conf] if conf else [])
    if is_real_redis(binary):
        return [*head, "--port", str(port), "--bind", bind, "--save", "", "--appendonly", "no",
                "--dir", tmpdir, *extra]
    return [*head, "--bind", bind, "--port", str(port), *extra]


class Launched:
    """A server started from an exact argv (a function of the port) and environment, output in a log."""

    def __init__(self, make_argv, env: dict | None = None, name: str = "server"):
        self.name = name
        self.tmpdir = tempfile.mkdtemp(prefix="e2e-sec-")
        self.log_path = os.path.join(self.tmpdir, "server.log")
        self.port = free_port()
        self.host = HOST
        self.argv = make_argv(self.port, self.tmpdir)
        full_env = dict(os.environ)
        full_env.pop("REDIS_CLONE_PASSWORD", None)
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.tmpdir, env=full_env)
        self.pid = self.proc.pid
        self.stopped = False

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def connect(self, timeout: float = 10.0) -> RespConnection:
        return RespConnection(self.host, self.port, timeout=timeout)

    def wait_ready(self, timeout: float = START_TIMEOUT):
        """Ready = PING on 127.0.0.1 answers +PONG or -NOAUTH (a password is set)."""
        deadline = time.monotonic() + timeout
        last = None
        for _ in range(int(timeout / 0.02) + 10):
            rc = self.proc.poll()
            if rc is not None:
                raise RuntimeError(f"{self.name} exited with code {rc}: {self.argv}\n{self.log_text()[-3000:]}")
            try:
                with RespConnection(self.host, self.port, timeout=2.0) as c:
                    reply = c.command("PING")
                    if reply in (b"+PONG\r\n", b"-NOAUTH Authentication required.\r\n"):
                        return self
                    last = reply
            except (OSError, RespError) as e:
                last = e
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} not ready within {timeout}s ({last!r}): {self.argv}\n"
                           f"{self.log_text()[-3000:]}")

    def stop(self) -> int | None:
        """SIGTERM and wait; returns the exit code (None: it had to be killed)."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
            rc = None
        self._log.close()
        return rc

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class Launcher:
    """Starts servers for one test and stops them at the end, requiring each to have stayed up and to
    exit with code 0 on SIGTERM. `start(make_argv, env=None, ready=True)`."""

    def __init__(self):
        self.started: list[Launched] = []

    def start(self, make_argv, env=None, name="server", ready=True, attempts=3) -> Launched:
        last = None
        for _ in range(attempts):
            srv = Launched(make_argv, env, name)
            self.started.append(srv)
            if not ready:
                return srv
            try:
                return srv.wait_ready()
            except RuntimeError as e:
                last = e
                srv.stop()
                if "already in use" not in str(e) and "Address in use" not in str(e):
                    break
        raise last

    def close(self) -> list[str]:
        errors = []
        for srv in self.started:
            try:
                if srv.stopped:
                    continue
                crashed = srv.proc.poll()
                rc = srv.stop()
                if crashed is not None:
                    errors.append(f"{srv.name} exited by itself with code {crashed}: {srv.argv}\n"
                                  f"{srv.log_text()[-3000:]}")
                elif rc != 0:
                    errors.append(f"{srv.name} exit code {rc} after SIGTERM (expected 0): {srv.argv}\n"
                                  f"{srv.log_text()[-3000:]}")
            finally:
                srv.cleanup()
        return errors


def start_pair(launcher: Launcher, extra=(), bind: str = HOST, conf_text: str | None = None,
               env: dict | None = None) -> dict[str, Launched]:
    """The reference redis-server and the binary under test, started with the same options (and each with
    its own copy of the config file `conf_text`, when given). Keys: "redis", "clone"."""
    if not os.path.exists(REFERENCE_REDIS):
        raise AssertionError(f"{REFERENCE_REDIS} is missing: apt-get install redis-server")

    def maker(binary):
        def make(port, tmpdir):
            conf = None
            if conf_text is not None:
                conf = os.path.join(tmpdir, "server.conf")
                with open(conf, "w") as f:
                    f.write(conf_text)
            return server_argv(binary, port, extra, bind, conf, tmpdir)
        return make

    return {"redis": launcher.start(maker(REFERENCE_REDIS), env, name="reference redis-server"),
            "clone": launcher.start(maker(binary_under_test()), env, name="server under test")}


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
