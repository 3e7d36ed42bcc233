"""redis-clone's command line. Most of it is redis-clone-only (`clone_only`, skipped when the binary
under test is a redis-server); the port-in-use case is checked for both."""

from __future__ import annotations

import re
import socket
import subprocess

import pytest

from conftest import HOST, ServerProcess, binary_under_test, free_port, is_real_redis, stop_process

RUN_TIMEOUT = 10


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([binary_under_test(), *args], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          stdin=subprocess.DEVNULL)


def output_lines(r: subprocess.CompletedProcess):
    return [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]


@pytest.mark.clone_only
def test_listen_addr_with_equals_sign():
    port = free_port()
    srv = ServerProcess(binary_under_test(), port, argv=[binary_under_test(), f"--listenAddr={HOST}:{port}"])
    try:
        srv.wait_ready()
        with srv.connect() as c:
            assert c.command("PING") == b"+PONG\r\n"
    finally:
        stop_process(srv, "redis-clone --listenAddr=...")


@pytest.mark.clone_only
def test_loglevel_debug_accepted():
    port = free_port()
    srv = ServerProcess(binary_under_test(), port,
                        argv=[binary_under_test(), "--listenAddr", f"{HOST}:{port}", "--loglevel", "debug"])
    try:
        srv.wait_ready()
        with srv.connect() as c:
            assert c.command("SET", "a", "b") == b"+OK\r\n"
        assert "Ready to accept connections" in srv.log_text()
    finally:
        stop_process(srv, "redis-clone --loglevel debug")


@pytest.mark.clone_only
def test_help():
    r = run("--help")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    text = r.stdout + r.stderr
    assert re.search(r"usage", text, re.I), text
    assert "--listenAddr" in text, text


@pytest.mark.clone_only
def test_version():
    r = run("--version")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert re.search(r"\d+\.\d+\.\d+", r.stdout + r.stderr), (r.stdout, r.stderr)


@pytest.mark.clone_only
@pytest.mark.parametrize("args", [["--bogus"], ["--no-such-flag=1"], ["--listenAddr", f"{HOST}:1", "--what"]],
                         ids=["bogus", "bogus-with-value", "bogus-after-valid"])
def test_unknown_flag_exits_2_with_one_line(args):
    r = run(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = output_lines(r)
    assert len(lines) == 1, f"expected exactly one line of output, got {lines!r}"


@pytest.mark.clone_only
@pytest.mark.parametrize("address", ["nope", "127.0.0.1:notaport", "127.0.0.1:70000", "127.0.0.1:-1", ""])
def test_bad_listen_address_exits_2(address):
    r = run("--listenAddr", address)
    assert r.returncode == 2, (address, r.returncode, r.stdout, r.stderr)
    assert output_lines(r), "a bad address must be explained"


@pytest.mark.clone_only
def test_listen_addr_without_value_exits_2():
    r = run("--listenAddr")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)


def test_port_in_use_exits_1():
    """Both redis-server and redis-clone exit with 1 and say 'Address already in use'."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind((HOST, 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        binary = binary_under_test()
        if is_real_redis(binary):
            argv = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        else:
            argv = [binary, "--listenAddr", f"{HOST}:{port}"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL,
                           cwd="/tmp")
        assert r.returncode == 1, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
        assert "Address already in use" in r.stdout + r.stderr, (r.stdout[-2000:], r.stderr[-2000:])
