"""Fixtures for the end-to-end tests: start real server processes on free ports, stop them cleanly.

The binary under test is $REDIS_CLONE_BIN (default: <repo>/build/redis-clone). If its basename is
`redis-server`, it is started the way real Redis is started, so that the whole suite can be validated
against Redis 7.0 itself; tests marked `clone_only` (redis-clone's own command line) are then skipped.

Fixtures:
  server            the binary under test, fresh for each test
  reference_server  Debian's /usr/bin/redis-server (the reference for differential tests), per module
  clone_module_server  the binary under test, shared by a module (differential tests)
  start_server      factory: start_server(extra_args=[...]) -> ServerProcess, stopped at teardown
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

import pytest

from resp import RespConnection, RespError

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_REDIS = "/usr/bin/redis-server"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
HOST = "127.0.0.1"


def binary_under_test() -> str:
    path = os.environ.get("REDIS_CLONE_BIN") or str(REPO_ROOT / "build" / "redis-clone")
    return os.path.abspath(path)


def is_real_redis(path: str) -> bool:
    return os.path.basename(path) == "redis-server"


def free_port() -> int:
    """A port that was free a moment ago (bind to port 0 on 127.0.0.1 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class ServerProcess:
    """A server process listening on HOST:port, with its stdout+stderr captured in a log file."""

    def __init__(self, binary: str, port: int, extra_args=(), real_redis: bool | None = None, argv=None):
        self.binary = binary
        self.host = HOST
        self.port = port
        self.real_redis = is_real_redis(binary) if real_redis is None else real_redis
        self.tmpdir = tempfile.mkdtemp(prefix="e2e-server-")
        self.log_path = os.path.join(self.tmpdir, "server.log")
        if argv is None:
            if self.real_redis:
                argv = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
                        "--dir", self.tmpdir, *extra_args]
            else:
                argv = [binary, "--listenAddr", f"{HOST}:{port}", *extra_args]
        self.argv = argv
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.tmpdir)
        self.stopped = False

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def connect(self, timeout: float = 10.0) -> RespConnection:
        return RespConnection(self.host, self.port, timeout=timeout)

    def wait_ready(self, timeout: float = START_TIMEOUT):
        """Wait until the server answers PING with +PONG, or fail (process exited / deadline passed)."""
        deadline = time.monotonic() + timeout
        last_err = None
        for _ in range(int(timeout / 0.02) + 10):
            rc = self.proc.poll()
            if rc is not None:
                raise RuntimeError(f"server exited with code {rc} before accepting connections: {self.argv}\n"
                                   f"--- log ---\n{self.log_text()[-4000:]}")
            try:
                with RespConnection(self.host, self.port, timeout=max(0.5, deadline - time.monotonic())) as c:
                    reply = c.command("PING")
                    if reply == b"+PONG\r\n":
                        return
                    last_err = f"PING replied {reply!r}"
            except (OSError, RespError) as e:
                last_err = repr(e)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        raise RuntimeError(f"server did not answer PING within {timeout}s ({last_err}): {self.argv}\n"
                           f"--- log ---\n{self.log_text()[-4000:]}")

    def terminate_and_wait(self, timeout: float = STOP_TIMEOUT, sig: int = signal.SIGTERM) -> int | None:
        """Send `sig` (SIGTERM), then wait up to timeout. Returns the exit code, or None (the process
        did not exit and was SIGKILLed)."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
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


def start_process(binary: str, extra_args=(), attempts: int = 3) -> ServerProcess:
    """Start a server on a free port and wait until it answers PING. Retries on a lost port race."""
    if not os.path.exists(binary):
        pytest.fail(f"server binary {binary!r} does not exist (set REDIS_CLONE_BIN to an absolute path)",
                    pytrace=False)
    last = None
    for _ in range(attempts):
        srv = ServerProcess(binary, free_port(), extra_args)
        try:
            srv.wait_ready()
            return srv
        except RuntimeError as e:
            last = e
            srv.cleanup()
            if "already in use" not in str(e):
                break
    raise last


def stop_process(srv: ServerProcess, who: str):
    """Teardown: SIGTERM and require a clean exit (code 0) within the deadline.

    A server the test already stopped itself (terminate_and_wait) is only cleaned up; one that exited on
    its own during the test (a crash) fails the test."""
    try:
        if srv.stopped:
            return
        crashed = srv.proc.poll()
        rc = srv.terminate_and_wait()
        log = srv.log_text() if os.path.exists(srv.log_path) else ""
        if crashed is not None:
            pytest.fail(f"{who} exited by itself during the test with code {crashed}\n--- log ---\n{log[-4000:]}",
                        pytrace=False)
        if rc is None:
            pytest.fail(f"{who} did not exit within {STOP_TIMEOUT}s of SIGTERM\n--- log ---\n{log[-4000:]}",
                        pytrace=False)
        if rc != 0:
            pytest.fail(f"{who} exited with code {rc} after SIGTERM (expected 0)\n--- log ---\n{log[-4000:]}",
                        pytrace=False)
    finally:
        srv.cleanup()


def pytest_configure(config):
    config.addinivalue_line("markers", "clone_only: tests of redis-clone-only behaviour (skipped for redis-server)")


def pytest_collection_modifyitems(config, items):
    if not is_real_redis(binary_under_test()):
        return
    skip = pytest.mark.skip(reason="redis-clone-only behaviour; REDIS_CLONE_BIN is a redis-server")
    for item in items:
        if "clone_only" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    return [f"binary under test: {binary_under_test()}", f"reference: {REFERENCE_REDIS}"]


@pytest.fixture
def start_server():
    """Factory fixture: start_server(extra_args=(), binary=None) starts a server; all are stopped
    (SIGTERM, clean exit required) at teardown."""
    started = []

    def _start(extra_args=(), binary=None):
        srv = start_process(binary or binary_under_test(), extra_args)
        started.append(srv)
        return srv

    yield _start
    errors = []
    for srv in started:
        try:
            stop_process(srv, f"server {srv.argv}")
        except BaseException as e:  # collect every failure, then report
            errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def server():
    """The binary under test, fresh for this test; yields a ServerProcess (.host, .port, .connect())."""
    srv = start_process(binary_under_test())
    yield srv
    stop_process(srv, f"server under test {srv.argv}")


@pytest.fixture(scope="module")
def clone_module_server():
    srv = start_process(binary_under_test())
    yield srv
    stop_process(srv, f"server under test {srv.argv}")


@pytest.fixture(scope="module")
def reference_server():
    """Debian's redis-server 7.0, the reference for differential tests."""
    if not os.path.exists(REFERENCE_REDIS):
        pytest.fail(f"{REFERENCE_REDIS} is missing: apt-get install redis-server", pytrace=False)
    srv = start_process(REFERENCE_REDIS)
    yield srv
    stop_process(srv, f"reference redis-server {srv.argv}")
