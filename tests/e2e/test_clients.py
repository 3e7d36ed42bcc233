"""Real clients against the server: redis-cli (arguments and stdin) and redis-py in RESP2 and RESP3."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import redis

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
CLI_TIMEOUT = 20


def cli(server, *args, stdin: str | None = None, extra=()) -> subprocess.CompletedProcess:
    return subprocess.run([REDIS_CLI, "-h", server.host, "-p", str(server.port), *extra, *args],
                          input=stdin, capture_output=True, text=True, timeout=CLI_TIMEOUT)


# --- redis-cli -----------------------------------------------------------------------------------
def test_redis_cli_arguments(server):
    r = cli(server, "SET", "a", "b")
    assert (r.returncode, r.stdout, r.stderr) == (0, "OK\n", "")
    r = cli(server, "GET", "a")
    assert (r.returncode, r.stdout) == (0, "b\n")
    assert cli(server, "PING").stdout == "PONG\n"
    assert cli(server, "ECHO", "hello world").stdout == "hello world\n"
    assert cli(server, "EXISTS", "a", "a", "nope").stdout == "2\n"
    assert cli(server, "DEL", "a").stdout == "1\n"
    assert cli(server, "GET", "a").stdout == "\n"
    assert cli(server, "DBSIZE").stdout == "0\n"


def test_redis_cli_formatted_output(server):
    assert cli(server, "--no-raw", "GET", "missing").stdout == "(nil)\n"
    assert cli(server, "--no-raw", "SET", "a", "b").stdout == "OK\n"
    assert cli(server, "--no-raw", "GET", "a").stdout == '"b"\n'
    assert cli(server, "--no-raw", "EXISTS", "a").stdout == "(integer) 1\n"
    r = cli(server, "--no-raw", "GET")
    assert r.stdout == "(error) ERR wrong number of arguments for 'get' command\n"


def test_redis_cli_errors(server):
    r = cli(server, "foo", "bar")
    # raw mode (stdout not a tty): the error text, then an empty line
    assert r.stdout == "ERR unknown command 'foo', with args beginning with: 'bar' \n\n"
    r = cli(server, "SET", "a", "b", "NX", "XX")
    assert r.stdout == "ERR syntax error\n\n"


def test_redis_cli_resp3(server):
    assert cli(server, "-3", "--no-raw", "GET", "missing").stdout == "(nil)\n"
    assert cli(server, "-3", "SET", "k", "v").stdout == "OK\n"
    assert cli(server, "-3", "GET", "k").stdout == "v\n"


def test_redis_cli_interactive_on_stdin(server):
    script = "SET x 1\nGET x\nPING\nGET nope\nECHO \"a b\"\nSELECT 1\nGET x\nSET x 2\nGET x\nfoo\nDBSIZE\n"
    r = cli(server, stdin=script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n") == ["OK", "1", "PONG", "", "a b", "OK", "", "OK", "2",
                                    "ERR unknown command 'foo', with args beginning with: ", "", "1", ""]
    assert cli(server, "GET", "x").stdout == "1\n"
    assert cli(server, "-n", "1", "GET", "x").stdout == "2\n"


def test_redis_cli_binary_value_via_stdin_x(server):
    r = subprocess.run([REDIS_CLI, "-h", server.host, "-p", str(server.port), "-x", "SET", "bin"],
                       input=b"\x00\x01\r\n\xff", capture_output=True, timeout=CLI_TIMEOUT)
    assert r.stdout == b"OK\n"
    with server.connect() as c:
        assert c.command("GET", "bin") == b"$5\r\n\x00\x01\r\n\xff\r\n"


# --- redis-py ------------------------------------------------------------------------------------
@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request, server):
    c = redis.Redis(host=server.host, port=server.port, protocol=request.param, socket_timeout=10,
                    socket_connect_timeout=10)
    c.test_protocol = request.param
    yield c
    c.close()


def test_redis_py_basic(client):
    assert client.ping() is True
    assert client.set("a", "1") is True
    assert client.get("a") == b"1"
    assert client.get("missing") is None
    assert client.exists("a", "a", "missing") == 2
    assert client.echo("hi") == b"hi"
    assert client.dbsize() == 1
    assert client.delete("a", "missing") == 1
    assert client.dbsize() == 0


def test_redis_py_protocol_really_negotiated(client):
    """protocol=3 must have sent HELLO 3 successfully (else redis-py raises on connect)."""
    info = client.execute_command("HELLO")
    proto = info[b"proto"] if isinstance(info, dict) else dict(zip(info[::2], info[1::2]))[b"proto"]
    assert proto == client.test_protocol


def test_redis_py_set_options(client):
    assert client.set("k", "v", nx=True) is True
    assert client.set("k", "v2", nx=True) is None
    assert client.set("k", "v3", xx=True) is True
    assert client.set("nope", "v", xx=True) is None
    assert client.set("k", "v4", get=True) == b"v3"
    assert client.set("k", "v5", ex=100) is True
    assert 99 <= client.ttl("k") <= 100
    assert client.set("k", "v6", keepttl=True) is True
    assert 98 <= client.ttl("k") <= 100
    assert client.set("k", "v7", px=50_000) is True
    assert 48_000 < client.pttl("k") <= 50_000
    assert client.set("k", "v8") is True
    assert client.ttl("k") == -1
    assert client.ttl("missing") == -2
    assert client.pttl("missing") == -2


def test_redis_py_errors(client):
    with pytest.raises(redis.ResponseError, match="unknown command 'foo', with args beginning with: 'x'"):
        client.execute_command("foo", "x")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'get' command"):
        client.execute_command("GET")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        client.execute_command("SET", "k", "v", "NX", "XX")
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        client.execute_command("SELECT", "16")
    assert client.ping() is True


def test_redis_py_client_name(client):
    assert client.client_getname() is None
    assert client.client_setname("py-client") is True
    name = client.client_getname()  # redis-py decodes it to str in RESP2, not in RESP3
    assert (name.decode() if isinstance(name, bytes) else name) == "py-client"


def test_redis_py_select_db(server):
    for protocol in (2, 3):
        r0 = redis.Redis(host=server.host, port=server.port, protocol=protocol, db=0, socket_timeout=10)
        r3 = redis.Redis(host=server.host, port=server.port, protocol=protocol, db=3, socket_timeout=10)
        try:
            r0.flushall()
            r3.set("k", "in3")
            assert r0.get("k") is None
            assert r3.get("k") == b"in3"
            assert r3.dbsize() == 1 and r0.dbsize() == 0
            r3.flushdb()
            assert r3.dbsize() == 0
        finally:
            r0.close()
            r3.close()


def test_redis_py_decode_responses(server):
    for protocol in (2, 3):
        r = redis.Redis(host=server.host, port=server.port, protocol=protocol, decode_responses=True,
                        socket_timeout=10)
        try:
            r.set("ключ", "значение ✓")
            assert r.get("ключ") == "значение ✓"
        finally:
            r.close()


def test_redis_py_pipeline(client):
    n = 2000
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"k{i}", f"v{i}")
        pipe.get(f"k{i}")
    results = pipe.execute()
    assert results[0::2] == [True] * n
    assert results[1::2] == [f"v{i}".encode() for i in range(n)]
    assert client.dbsize() == n


def test_redis_py_binary_and_big(client):
    every = bytes(range(256))
    assert client.set(every, every * 2)
    assert client.get(every) == every * 2
    big = every * 4096 * 4  # 4 MB
    assert client.set("big", big)
    assert client.get("big") == big


def test_redis_py_connection_pool_threads(server):
    import threading

    pool = redis.ConnectionPool(host=server.host, port=server.port, protocol=3, max_connections=10,
                                socket_timeout=10)
    r = redis.Redis(connection_pool=pool)
    errors = []

    def worker(t):
        try:
            for i in range(100):
                r.set(f"t{t}:{i}", i)
                if r.get(f"t{t}:{i}") != str(i).encode():
                    errors.append((t, i))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not any(t.is_alive() for t in threads)
        assert not errors, errors[:5]
        assert r.dbsize() == 1000
    finally:
        pool.disconnect()
