"""Fixtures for the end-to-end tests, and the one way they start, wait for and stop server processes.

The binary under test is $REDIS_CLONE_BIN (default: <repo>/build/redis-clone). If its basename is
`redis-server`, it is started the way real Redis is started, so that the whole suite can be validated
against Redis 7.0 itself; tests marked `clone_only` (redis-clone's own command line) are then skipped.

Servers:
  ServerProcess     one server process with its output in a log file, in its own temporary directory; its
                    command line is the default one for a binary on 127.0.0.1:port, an exact argv, or a
                    function (port, tmpdir) -> argv. wait_ready() polls PING against a deadline.
  start_process     start one on a free port and wait until it is ready (retried when the port was taken)
  stop_process      teardown of one: SIGTERM, and fail the test unless it exits with code 0 in time
  Launcher          the servers of a test or module: start(make_argv, env=None, ...) -> ServerProcess, and
                    close() -> the teardown failures. Servers it starts count as ready on +PONG or -NOAUTH.
  start_pair        the reference redis-server and the binary under test started with the same options

Fixtures:
  server            the binary under test, fresh for each test
  reference_server  Debian's /usr/bin/redis-server (the reference for differential tests), per module
  clone_module_server  the binary under test, shared by a module (differential tests)
  start_server      factory: start_server(extra_args=[...]) -> ServerProcess, stopped at teardown
  launcher          a Launcher whose servers are stopped at teardown (clean exit required)

Every wait here is a poll with a deadline and a bounded number of polls.
"""

from __future__ import annotations

import contextlib
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
PONG = b"+PONG\r\n"
NOAUTH = b"-NOAUTH Authentication required.\r\n"
LOG_TAIL = 4000


def binary_under_test() -> str:
    return os.path.abspath(os.environ.get("REDIS_CLONE_BIN") or str(REPO_ROOT / "build" / "redis-clone"))


def is_real_redis(path: str) -> bool:
    return os.path.basename(path) == "redis-server"


def free_port() -> int:
    """A port that was free a moment ago (bind to port 0 on 127.0.0.1 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_argv(binary: str, port: int, extra=(), bind: str = HOST, conf: str | None = None, tmpdir: str = ".", *,
                listen_addr: bool = False, real_redis: bool | None = None) -> list[str]:
    """The command line that starts `binary` (redis-clone or redis-server) listening on bind:port, reading the
    config file `conf` first when given. redis-clone gets `--bind B --port P`, or `--listenAddr B:P` with
    listen_addr; redis-server gets no persistence and `--dir tmpdir`."""
    head = [binary] + ([conf] if conf else [])
    if is_real_redis(binary) if real_redis is None else real_redis:
        return [*head, "--port", str(port), "--bind", bind, "--save", "", "--appendonly", "no",
                "--dir", tmpdir, *extra]
    if listen_addr:
        return [*head, "--listenAddr", f"{bind}:{port}", *extra]
    return [*head, "--bind", bind, "--port", str(port), *extra]


class ServerProcess:
    """A server process listening on HOST:port, with its stdout+stderr captured in a log file.

    argv: None for the default command line of `binary` (redis-clone: `--listenAddr HOST:port`, then
    extra_args), a list, or a function (port, tmpdir) -> list. The process runs in its own temporary
    directory, with this environment plus `env` (never REDIS_CLONE_PASSWORD from the environment of the
    tests). wait_ready() succeeds on a PING reply in `ready_replies`."""

    def __init__(self, binary: str | None, port: int, extra_args=(), real_redis: bool | None = None, argv=None, *,
                 env: dict | None = None, name: str = "server", ready_replies=(PONG,)):
        self.host = HOST
        self.port = port
        self.name = name
        self.ready_replies = tuple(ready_replies)
        self.tmpdir = tempfile.mkdtemp(prefix="e2e-server-")
        self.log_path = os.path.join(self.tmpdir, "server.log")
        if callable(argv):
            argv = argv(port, self.tmpdir)
        elif argv is None:
            argv = server_argv(binary, port, extra_args, tmpdir=self.tmpdir, listen_addr=True, real_redis=real_redis)
        self.argv = list(argv)
        self.binary = binary or self.argv[0]
        self.real_redis = is_real_redis(self.binary) if real_redis is None else real_redis
        full_env = dict(os.environ)
        full_env.pop("REDIS_CLONE_PASSWORD", None)
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.tmpdir, env=full_env)
        self.pid = self.proc.pid
        self.stopped = False

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def _log_tail(self) -> str:
        text = self.log_text() if os.path.exists(self.log_path) else ""
        return f"--- log ---\n{text[-LOG_TAIL:]}"

    def connect(self, timeout: float = 10.0) -> RespConnection:
        return RespConnection(self.host, self.port, timeout=timeout)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        """Wait until PING on HOST:port gets one of `ready_replies`, or fail (process exited / deadline
        passed). Returns self."""
        deadline = time.monotonic() + timeout
        last_err = None
        for _ in range(int(timeout / 0.02) + 10):
            rc = self.proc.poll()
            if rc is not None:
                raise RuntimeError(f"{self.name} exited with code {rc} before accepting connections: {self.argv}\n"
                                   f"{self._log_tail()}")
            try:
                probe_timeout = min(2.0, max(0.5, deadline - time.monotonic()))
                with RespConnection(self.host, self.port, timeout=probe_timeout) as c:
                    reply = c.command("PING")
                    if reply in self.ready_replies:
                        return self
                    last_err = f"PING replied {reply!r}"
            except (OSError, RespError) as e:
                last_err = repr(e)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer PING within {timeout}s ({last_err}): {self.argv}\n"
                           f"{self._log_tail()}")

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

    stop = terminate_and_wait

    def shutdown_error(self, who: str | None = None) -> str | None:
        """Teardown check: SIGTERM, and what was wrong (None: it exited with code 0 within STOP_TIMEOUT).
        A server the test already stopped itself is not checked; one that exited on its own during the
        test (a crash) is an error."""
        if self.stopped:
            return None
        who = who or f"{self.name} {self.argv}"
        crashed = self.proc.poll()
        rc = self.terminate_and_wait()
        if crashed is not None:
            return f"{who} exited by itself during the test with code {crashed}\n{self._log_tail()}"
        if rc is None:
            return f"{who} did not exit within {STOP_TIMEOUT}s of SIGTERM\n{self._log_tail()}"
        if rc != 0:
            return f"{who} exited with code {rc} after SIGTERM (expected 0)\n{self._log_tail()}"
        return None

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def _lost_port_race(error: Exception) -> bool:
    return "already in use" in str(error) or "Address in use" in str(error)


def start_process(binary: str | None, extra_args=(), attempts: int = 3, *, ready: bool = True,
                  **kwargs) -> ServerProcess:
    """Start a server (ServerProcess(binary, free port, extra_args, **kwargs)) and, with `ready`, wait until
    it answers PING. A start that lost the race for its port is retried on another one."""
    if binary is not None and not os.path.exists(binary):
        pytest.fail(f"server binary {binary!r} does not exist (set REDIS_CLONE_BIN to an absolute path)",
                    pytrace=False)
    for attempt in range(attempts):
        srv = ServerProcess(binary, free_port(), extra_args, **kwargs)
        if not ready:
            return srv
        try:
            return srv.wait_ready()
        except RuntimeError as e:
            srv.cleanup()
            if attempt + 1 >= attempts or not _lost_port_race(e):
                raise
    raise AssertionError("start_process: attempts must be at least 1")


def stop_process(srv: ServerProcess, who: str | None = None):
    """Teardown: SIGTERM and require a clean exit (code 0) within the deadline, else fail the test.

    A server the test already stopped itself (terminate_and_wait) is only cleaned up; one that exited on
    its own during the test (a crash) fails the test."""
    try:
        error = srv.shutdown_error(who)
    finally:
        srv.cleanup()
    if error:
        pytest.fail(error, pytrace=False)


class Launcher:
    """Starts servers for one test (or module) and stops them at the end, requiring each to have stayed up
    and to exit with code 0 on SIGTERM. `start(make_argv, env=None, name=..., ready=True)`: make_argv is a
    function (port, tmpdir) -> argv; a server is ready when PING answers +PONG or -NOAUTH."""

    def __init__(self):
        self.started: list[ServerProcess] = []

    def track(self, srv: ServerProcess) -> ServerProcess:
        self.started.append(srv)
        return srv

    def start(self, make_argv, env: dict | None = None, name: str = "server", ready: bool = True,
              attempts: int = 3) -> ServerProcess:
        return self.track(start_process(None, attempts=attempts, ready=ready, argv=make_argv, env=env, name=name,
                                        ready_replies=(PONG, NOAUTH)))

    def close(self) -> list[str]:
        """Stop every server; returns the teardown failures (see ServerProcess.shutdown_error)."""
        errors = []
        for srv in self.started:
            try:
                error = srv.shutdown_error()
            finally:
                srv.cleanup()
            if error:
                errors.append(error)
        return errors


@contextlib.contextmanager
def launched():
    """A Launcher whose servers are all stopped on leaving the block; unless the block raised, the test fails
    (naming each) if any of them crashed or did not exit cleanly."""
    lau = Launcher()
    try:
        yield lau
    except BaseException:
        lau.close()
        raise
    errors = lau.close()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


def start_pair(launcher: Launcher, extra=(), bind: str = HOST, conf_text: str | None = None,
               env: dict | None = None) -> dict[str, ServerProcess]:
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
def launcher():
    """A Launcher for this test; its servers are stopped at teardown (SIGTERM, clean exit required)."""
    with launched() as lau:
        yield lau


@pytest.fixture
def start_server():
    """Factory fixture: start_server(extra_args=(), binary=None) starts a server; all are stopped
    (SIGTERM, clean exit required) at teardown."""
    with launched() as lau:
        yield lambda extra_args=(), binary=None: lau.track(start_process(binary or binary_under_test(), extra_args))


@pytest.fixture
def server():
    """The binary under test, fresh for this test; yields a ServerProcess (.host, .port, .connect())."""
    srv = start_process(binary_under_test(), name="server under test")
    yield srv
    stop_process(srv)


@pytest.fixture(scope="module")
def clone_module_server():
    srv = start_process(binary_under_test(), name="server under test")
    yield srv
    stop_process(srv)


@pytest.fixture(scope="module")
def reference_server():
    """Debian's redis-server 7.0, the reference for differential tests."""
    if not os.path.exists(REFERENCE_REDIS):
        pytest.fail(f"{REFERENCE_REDIS} is missing: apt-get install redis-server", pytrace=False)
    srv = start_process(REFERENCE_REDIS, name="reference redis-server")
    yield srv
    stop_process(srv)
