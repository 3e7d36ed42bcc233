"""Configuration end to end: config file loading and its fatal errors, CONFIG GET patterns, CONFIG SET of the
mutable parameters and Redis's errors, all-or-nothing CONFIG SET, CONFIG REWRITE + restart, and the effect of
`timeout` and `maxclients` on real connections.

Scenarios run against Debian's redis-server 7.0 and the binary under test with the same options; replies
must be byte-identical and equal to the literal Redis texts written here."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import REFERENCE_REDIS, binary_under_test, free_port, launched, server_argv, start_pair
from procstats import read_until_closed
from resp import RespConnection, encode_command, parse, wait_for

OK = b"+OK\r\n"
MAXCLIENTS_REACHED = b"-ERR max number of clients reached\r\n"


@pytest.fixture(scope="module")
def shared_pair():
    """redis-server and the server under test with default options, shared by the read-only tests."""
    with launched() as lau:
        yield start_pair(lau)


def run_each(pair, commands):
    """{name: [raw replies]} running commands on one fresh connection to each server."""
    out = {}
    for name, srv in pair.items():
        with srv.connect(timeout=5) as c:
            out[name] = [c.command(*cmd) for cmd in commands]
    return out


def unordered(raw: bytes):
    """A CONFIG GET reply as (reply type, sorted name/value pairs): with several names, Redis 7.0 returns them
    in the order of its internal hash table, which clients must not rely on."""
    if raw[:1] not in (b"*", b"%"):
        return raw
    reply = parse(raw)
    return raw[:1], sorted((k.value, v.value) for k, v in reply.pairs())


def assert_same(pair, commands, expected=None, normalize=lambda raw: raw):
    got = run_each(pair, commands)
    got = {name: [normalize(r) for r in replies] for name, replies in got.items()}
    if expected is not None:
        expected = [None if r is None else normalize(r) for r in expected]
    for i, cmd in enumerate(commands):
        assert got["clone"][i] == got["redis"][i], \
            f"{cmd}: redis-server replied {got['redis'][i]!r}, the server under test {got['clone'][i]!r}"
    if expected is not None:
        for i, cmd in enumerate(commands):
            if expected[i] is not None:
                assert got["clone"][i] == expected[i], f"{cmd}: {got['clone'][i]!r}, Redis sends {expected[i]!r}"
    return got["clone"]


def config_get(conn: RespConnection, *names) -> dict[bytes, bytes]:
    reply = parse(conn.command("CONFIG", "GET", *names))
    return {k.value: v.value for k, v in reply.pairs()}


# --- config file -----------------------------------------------------------------------------------------
CONF = """# redis-clone test configuration
   # an indented comment, then a blank line

timeout 5
MaxClients 123
timeout 17
tcp-keepalive 42
loglevel warning
protected-mode no
proto-max-bulk-len 2mb
client-query-buffer-limit 4mb
databases 4
"""


def test_config_file_directives_are_loaded(launcher):
    pair = start_pair(launcher, conf_text=CONF)
    names = ["maxclients", "timeout", "tcp-keepalive", "loglevel", "protected-mode", "proto-max-bulk-len",
             "client-query-buffer-limit", "databases"]
    got = assert_same(pair, [("CONFIG", "GET", n) for n in names])
    assert got == [encode_command(n, v) for n, v in [
        ("maxclients", "123"), ("timeout", "17"), ("tcp-keepalive", "42"), ("loglevel", "warning"),
        ("protected-mode", "no"), ("proto-max-bulk-len", "2097152"), ("client-query-buffer-limit", "4194304"),
        ("databases", "4")]], got
    # and they are in force: 4 databases; a bulk over 2 MB is a protocol error
    assert_same(pair, [("SELECT", "3"), ("SELECT", "4")],
                expected=[OK, b"-ERR DB index is out of range\r\n"])
    for name, srv in pair.items():
        with srv.connect() as c:
            c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097153\r\n")
            assert c.read_reply() == b"-ERR Protocol error: invalid bulk length\r\n", name


def run_with_config(binary: str, text: str, tmp_path, timeout: float = 10.0) -> tuple[object, str]:
    """Starts binary with a config file; returns (exit code, stdout+stderr). A server that starts instead of
    refusing the file is stopped and reported as ("started", output)."""
    conf = tmp_path / f"{os.path.basename(binary)}.conf"
    conf.write_text(text)
    port = free_port()
    log = tmp_path / f"{os.path.basename(binary)}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([binary, str(conf), "--port", str(port), "--bind", "127.0.0.1"], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path)
        deadline = time.monotonic() + timeout
        result = None
        for _ in range(int(timeout / 0.02) + 10):
            rc = proc.poll()
            if rc is not None:
                result = rc
                break
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                result = "started"
                break
            except OSError:
                pass
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
            result = result or "hung"
    return result, log.read_text(errors="replace")


CONFIG_FILE_ERRORS = [
    # id, file text, line number, offending line, Redis's message
    ("unknown-directive", "# comment\nmaxclients 10\n\nfrobnicate yes\n", 4, "frobnicate yes",
     "Bad directive or wrong number of arguments"),
    ("not-an-integer", "maxclients abc\n", 1, "maxclients abc", "argument couldn't be parsed into an integer"),
    ("bad-bool", "timeout 3\nprotected-mode maybe\n", 2, "protected-mode maybe", "argument must be 'yes' or 'no'"),
    ("unbalanced-quotes", 'loglevel "warning\n', 1, 'loglevel "warning', "Unbalanced quotes in configuration line"),
    ("out-of-range", "timeout -1\n", 1, "timeout -1", "argument must be between 0 and 2147483647 inclusive"),
    ("bad-enum", "loglevel loud\n", 1, "loglevel loud",
     "argument(s) must be one of the following: debug, verbose, notice, warning"),
    ("missing-value", "timeout\n", 1, "timeout", "wrong number of arguments"),
    ("two-values", "maxclients 10 20\n", 1, "maxclients 10 20", "wrong number of arguments"),
    ("two-word-password", "requirepass two words\n", 1, "requirepass two words", "wrong number of arguments"),
    ("save-odd-words", "save 900 1\nsave 300\n", 2, "save 300", "Invalid save parameters"),
    ("save-zero-seconds", "save 0 1\n", 1, "save 0 1", "Invalid save parameters"),
    ("save-negative-changes", "save 60 -1\n", 1, "save 60 -1", "Invalid save parameters"),
    ("save-not-a-number", "save 60 often\n", 1, "save 60 often", "Invalid save parameters"),
]


@pytest.mark.parametrize("text,line_no,line,message", [c[1:] for c in CONFIG_FILE_ERRORS],
                         ids=[c[0] for c in CONFIG_FILE_ERRORS])
def test_config_file_error_exits_1_naming_the_line(tmp_path, text, line_no, line, message):
    expected_tail = [f"Reading the configuration file, at line {line_no}", f">>> '{line}'", message]
    results = {}
    for name, binary in (("redis", REFERENCE_REDIS), ("clone", binary_under_test())):
        rc, output = run_with_config(binary, text, tmp_path)
        lines = [ln for ln in output.splitlines() if ln.strip()]
        results[name] = (rc, lines)
    assert results["redis"][0] == 1 and results["redis"][1][-3:] == expected_tail, results["redis"]
    rc, lines = results["clone"]
    assert rc == 1, f"exit {rc!r} for config file {text!r} (redis-server exits 1); output: {lines}"
    assert any("*** FATAL CONFIG FILE ERROR" in ln for ln in lines), lines
    assert lines[-3:] == expected_tail, f"redis-server says {expected_tail}, the server under test {lines[-3:]}"


def test_missing_config_file_exits_1(tmp_path):
    for binary in (REFERENCE_REDIS, binary_under_test()):
        r = subprocess.run([binary, str(tmp_path / "nonexistent.conf"), "--port", str(free_port())],
                           capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        assert r.returncode == 1, (binary, r)
        assert f"Fatal error, can't open config file '{tmp_path / 'nonexistent.conf'}': No such file or directory" \
            in r.stdout + r.stderr, (binary, r)


# --- CONFIG GET -------------------------------------------------------------------------------------------
EXACT_NAMES = ["maxclients", "timeout", "tcp-keepalive", "loglevel", "protected-mode", "requirepass", "databases",
               "proto-max-bulk-len", "client-query-buffer-limit", "port"]


def test_config_get_exact_names(shared_pair):
    assert_same(shared_pair, [("CONFIG", "GET", n) for n in EXACT_NAMES if n != "port"])
    assert_same(shared_pair, [("CONFIG", "GET", "timeout", "maxclients"), ("CONFIG", "GET", "nosuch"),
                              ("CONFIG", "GET", "timeout", "nosuch", "timeout"), ("CONFIG", "GET", "time*", "timeout")],
                expected=[encode_command("timeout", "0", "maxclients", "10000"), b"*0\r\n",
                          encode_command("timeout", "0"), None],
                normalize=unordered)
    assert_same(shared_pair, [("CONFIG", "GET")],
                expected=[b"-ERR wrong number of arguments for 'config|get' command\r\n"])


def test_config_get_glob_patterns(shared_pair):
    """A pattern returns every matching parameter; the server under test knows fewer parameters than Redis,
    so its names must be a subset of Redis's for the same pattern, with the same values."""
    cases = {"max*": {b"maxclients"}, "*alive": {b"tcp-keepalive"}, "time?ut": {b"timeout"},
             "t[ci]*": {b"timeout", b"tcp-keepalive"}, "*-mode": {b"protected-mode"},
             "MAXCLIENT?": {b"maxclients"}, "*": {n.encode() for n in EXACT_NAMES}}
    same_value = {n.encode() for n in EXACT_NAMES if n != "port"}
    for pattern, required in cases.items():
        with shared_pair["redis"].connect() as r, shared_pair["clone"].connect() as c:
            ref, got = config_get(r, pattern), config_get(c, pattern)
        assert required <= set(got), f"CONFIG GET {pattern}: missing {required - set(got)} in {sorted(got)}"
        assert set(got) <= set(ref), f"CONFIG GET {pattern}: names Redis does not return: {set(got) - set(ref)}"
        for name in set(got) & same_value:
            assert got[name] == ref[name], f"CONFIG GET {pattern}: {name!r} = {got[name]!r}, Redis {ref[name]!r}"


def test_config_get_resp3_is_a_map(shared_pair):
    got = {}
    for name, srv in shared_pair.items():
        with srv.connect() as c:
            c.command("HELLO", "3")
            got[name] = unordered(c.command("CONFIG", "GET", "timeout", "maxclients"))
    assert got["clone"] == got["redis"] == (b"%", [(b"maxclients", b"10000"), (b"timeout", b"0")]), got


def test_config_get_name_is_echoed_as_given(shared_pair):
    """Redis 7.0 answers a pattern without glob characters with the name as the client wrote it."""
    assert_same(shared_pair, [("CONFIG", "GET", "MAXCLIENTS"), ("CONFIG", "GET", "Timeout")],
                expected=[encode_command("MAXCLIENTS", "10000"), encode_command("Timeout", "0")])


# --- CONFIG SET -------------------------------------------------------------------------------------------
def test_config_set_mutable_parameters(launcher):
    pair = start_pair(launcher)
    sets = [("maxclients", "50"), ("timeout", "30"), ("loglevel", "warning"), ("tcp-keepalive", "60"),
            ("protected-mode", "no"), ("proto-max-bulk-len", "4mb"), ("client-query-buffer-limit", "2mb"),
            ("loglevel", "VERBOSE"), ("protected-mode", "YES")]
    commands = []
    for name, value in sets:
        commands += [("CONFIG", "SET", name, value), ("CONFIG", "GET", name)]
    got = assert_same(pair, commands)
    assert got[::2] == [OK] * len(sets), got
    assert got[1::2] == [encode_command(n, v) for n, v in [
        ("maxclients", "50"), ("timeout", "30"), ("loglevel", "warning"), ("tcp-keepalive", "60"),
        ("protected-mode", "no"), ("proto-max-bulk-len", "4194304"), ("client-query-buffer-limit", "2097152"),
        ("loglevel", "verbose"), ("protected-mode", "yes")]], got
    # requirepass: set, used, cleared
    assert_same(pair, [("CONFIG", "SET", "requirepass", "pw"), ("CONFIG", "GET", "requirepass")],
                expected=[OK, encode_command("requirepass", "pw")])
    for srv in pair.values():
        with srv.connect() as c:
            assert c.command("PING") == b"-NOAUTH Authentication required.\r\n"
            assert c.command("AUTH", "pw") == OK
            assert c.command("CONFIG", "SET", "requirepass", "") == OK
        with srv.connect() as c:
            assert c.command("PING") == b"+PONG\r\n"


def _failed(name, why):
    return f"-ERR CONFIG SET failed (possibly related to argument '{name}') - {why}\r\n".encode()


CONFIG_SET_ERRORS = [
    ("not-an-integer", ("maxclients", "abc"), _failed("maxclients", "argument couldn't be parsed into an integer")),
    ("negative-timeout", ("timeout", "-1"), _failed("timeout", "argument must be between 0 and 2147483647 inclusive")),
    ("maxclients-zero", ("maxclients", "0"),
     _failed("maxclients", "argument must be between 1 and 4294967295 inclusive")),
    ("bad-bool", ("protected-mode", "maybe"), _failed("protected-mode", "argument must be 'yes' or 'no'")),
    ("bad-enum", ("loglevel", "loud"),
     _failed("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning")),
    ("bad-memory", ("client-query-buffer-limit", "1zz"),
     _failed("client-query-buffer-limit", "argument must be a memory value")),
    ("memory-too-small", ("proto-max-bulk-len", "1k"),
     _failed("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive")),
    ("immutable-databases", ("databases", "4"), _failed("databases", "can't set immutable config")),
    ("immutable-io-threads", ("io-threads", "2"), _failed("io-threads", "can't set immutable config")),
    ("unknown", ("nosuch", "1"), b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"),
    ("missing-value", ("timeout",), b"-ERR wrong number of arguments for 'config|set' command\r\n"),
    ("odd-pairs", ("timeout", "1", "maxclients"), b"-ERR syntax error\r\n"),
    ("duplicate", ("timeout", "1", "TIMEOUT", "2"), _failed("TIMEOUT", "duplicate parameter")),
]


@pytest.mark.parametrize("args,expected", [c[1:] for c in CONFIG_SET_ERRORS], ids=[c[0] for c in CONFIG_SET_ERRORS])
def test_config_set_errors(shared_pair, args, expected):
    assert_same(shared_pair, [("CONFIG", "SET", *args), ("CONFIG", "GET", "timeout")],
                expected=[expected, encode_command("timeout", "0")])


def test_config_set_is_all_or_nothing(launcher):
    pair = start_pair(launcher)
    state = ("CONFIG", "GET", "timeout", "maxclients", "loglevel", "requirepass")
    initial = encode_command("timeout", "0", "maxclients", "10000", "loglevel", "notice", "requirepass", "")
    for bad in [("timeout", "30", "maxclients", "abc"),           # bad value after a good one
                ("maxclients", "abc", "timeout", "30"),           # bad value first
                ("timeout", "30", "databases", "4"),              # immutable
                ("timeout", "30", "nosuch", "1"),                 # unknown
                ("requirepass", "pw", "timeout", "30", "loglevel", "loud"),
                ("timeout", "30", "maxclients", "50", "timeout", "31")]:  # duplicate
        # (the error texts themselves are checked in test_config_set_errors)
        for name, replies in run_each(pair, [("CONFIG", "SET", *bad), state]).items():
            assert replies[0].startswith(b"-ERR"), (name, bad, replies)
            assert unordered(replies[1]) == unordered(initial), \
                f"{name}: CONFIG SET {bad} failed but changed something: {replies[1]!r}"
    for srv in pair.values():  # no password was left behind by the failed multi-parameter SET
        with srv.connect() as c:
            assert c.command("PING") == b"+PONG\r\n"
    assert_same(pair, [("CONFIG", "SET", "timeout", "30", "maxclients", "50", "loglevel", "warning"), state],
                expected=[OK, encode_command("timeout", "30", "maxclients", "50", "loglevel", "warning",
                                             "requirepass", "")], normalize=unordered)


# --- save points ------------------------------------------------------------------------------------------
# (config file text or None, flags) -> CONFIG GET save. Lines and flags add up, the first replacing the
# default; `save ""` clears; words are split on any whitespace and shown as Redis prints them.
SAVE_AT_START = [
    ("two-lines", "save 900 1\nsave 300 10\n", [], "900 1 300 10"),
    ("two-flags", None, ["--save", "900 1", "--save", "300 10"], "900 1 300 10"),
    ("flag-words", None, ["--save", "900", "1", "--save", "300", "10"], "900 1 300 10"),
    ("file-then-flag", "save 60 5\n", ["--save", "900 1"], "60 5 900 1"),
    ("file-then-empty-flag", "save 60 5\n", ["--save", ""], ""),
    ("empty-then-flag", None, ["--save", "", "--save", "900 1"], "900 1"),
    ("loose-spacing", None, ["--save", "  900   1 "], "900 1"),
    ("leading-zero", None, ["--save", "010 5"], "10 5"),
    ("no-save-given", "timeout 0\n", [], "3600 1 300 100 60 10000"),
]


@pytest.mark.parametrize("conf_text,flags,expected", [c[1:] for c in SAVE_AT_START], ids=[c[0] for c in SAVE_AT_START])
def test_save_points_from_config_file_and_flags(launcher, conf_text, flags, expected):
    for binary in (REFERENCE_REDIS, binary_under_test()):
        def make(port, tmpdir, binary=binary):
            conf = []
            if conf_text is not None:
                conf = [os.path.join(tmpdir, "server.conf")]
                with open(conf[0], "w") as f:
                    f.write(conf_text)
            # The same command line for both servers (server_argv gives redis-server a --save "" of its own).
            return [binary, *conf, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmpdir,
                    "--appendonly", "no", *flags]
        srv = launcher.start(make)
        with srv.connect() as c:
            assert config_get(c, "save") == {b"save": expected.encode()}, binary
            assert c.command("CONFIG", "SET", "save", "") == OK  # nothing to save when the launcher stops it


# CONFIG SET splits on single spaces, as Redis does: a doubled or trailing space makes an empty word (0).
CONFIG_SET_SAVE = [
    ("10 5", OK, "10 5"),
    ("3600 1 300 100", OK, "3600 1 300 100"),
    ("010 5", OK, "10 5"),
    ("+10 5", OK, "10 5"),
    ("10 0", OK, "10 0"),
    ("1 2 3", None, None),
    ("0 1", None, None),
    ("1 -1", None, None),
    ("a 1", None, None),
    ("10 5 ", None, None),
    ("  10   5 ", None, None),
    ("10  5", None, None),
    ("900  1 ", OK, "900 0 1 0"),  # four words: 900, "", 1, ""
    ("", OK, ""),
]


def test_config_set_save_as_redis(launcher):
    pair = start_pair(launcher)
    invalid = _failed("save", "Invalid save parameters")
    current = ""
    commands, expected = [], []
    for value, reply, shown in CONFIG_SET_SAVE:
        current = shown if reply == OK else current  # a refused value leaves the points as they were
        commands += [("CONFIG", "SET", "save", value), ("CONFIG", "GET", "save")]
        expected += [reply or invalid, encode_command("save", current)]
    assert_same(pair, commands, expected=expected)
    # A CONFIG SET that fails on a later parameter puts save back as it was, once.
    assert_same(pair, [("CONFIG", "SET", "save", "900 1 300 10"), ("CONFIG", "SET", "save", "60 1", "maxclients", "x"),
                       ("CONFIG", "SET", "timeout", "1", "save", "1 2 3"), ("CONFIG", "GET", "save"),
                       ("CONFIG", "SET", "save", "")],
                expected=[OK, _failed("maxclients", "argument couldn't be parsed into an integer"), invalid,
                          encode_command("save", "900 1 300 10"), OK])


# --- CONFIG REWRITE ---------------------------------------------------------------------------------------
def test_config_rewrite_without_config_file(shared_pair):
    assert_same(shared_pair, [("CONFIG", "REWRITE")],
                expected=[b"-ERR The server is running without a config file\r\n"])


def test_config_rewrite_then_restart_keeps_values(launcher):
    initial = "# settings kept by CONFIG REWRITE\nmaxclients 50\ntimeout 0\n"
    finals = {}
    for name, binary in (("redis", REFERENCE_REDIS), ("clone", binary_under_test())):
        conf_holder = {}

        def first(port, tmpdir, binary=binary):
            conf = os.path.join(tmpdir, "server.conf")
            with open(conf, "w") as f:
                f.write(initial)
            conf_holder["path"] = conf
            return server_argv(binary, port, conf=conf, tmpdir=tmpdir)

        srv = launcher.start(first, name=f"{name} (first run)")
        with srv.connect() as c:
            assert c.command("CONFIG", "SET", "maxclients", "7", "timeout", "45", "loglevel", "warning",
                             "tcp-keepalive", "99", "protected-mode", "no") == OK
            assert c.command("CONFIG", "SET", "requirepass", 'pass "word"') == OK
            assert c.command("CONFIG", "REWRITE") == OK, name
        text = open(conf_holder["path"]).read()
        assert "# settings kept by CONFIG REWRITE" in text, f"{name}: the comment was lost:\n{text}"
        for line in ("maxclients 7", "timeout 45", "loglevel warning", "tcp-keepalive 99", "protected-mode no"):
            assert line in text.splitlines(), f"{name}: {line!r} not in the rewritten file:\n{text}"
        assert srv.stop() == 0, f"{name} did not exit 0 on SIGTERM"
        again = launcher.start(lambda port, tmpdir, binary=binary: server_argv(binary, port, conf=conf_holder["path"],
                                                                             tmpdir=tmpdir),
                               name=f"{name} (restarted from the rewritten file)")
        with again.connect() as c:
            assert c.command("PING") == b"-NOAUTH Authentication required.\r\n", name
            assert c.command("AUTH", 'pass "word"') == OK, name
            finals[name] = unordered(c.command("CONFIG", "GET", "maxclients", "timeout", "loglevel", "tcp-keepalive",
                                     "protected-mode", "requirepass"))
    expected = unordered(encode_command("maxclients", "7", "timeout", "45", "loglevel", "warning",
                                        "tcp-keepalive", "99", "protected-mode", "no", "requirepass", 'pass "word"'))
    assert finals["redis"] == expected
    assert finals["clone"] == expected, f"after restart: {finals['clone']!r}"


# --- timeout ----------------------------------------------------------------------------------------------
def _idle_and_active(srv, results: dict, key: str, set_at_runtime: bool):
    """An idle client must be closed about `timeout` (1 s) after its last command, with nothing sent; an
    active client pinging every 0.2 s over the same period must not be."""
    try:
        with srv.connect() as idle, srv.connect() as active:
            assert idle.command("PING") == b"+PONG\r\n"
            if set_at_runtime:
                assert active.command("CONFIG", "SET", "timeout", "1") == OK
            start = time.monotonic()
            idle.sock.setblocking(False)
            closed_after = None
            pings = 0
            for _ in range(100):  # at most 100 x 0.2 s
                assert active.command("PING") == b"+PONG\r\n", "the active client was closed"
                pings += 1
                if closed_after is None:
                    try:
                        data = idle.sock.recv(100)
                        assert data == b"", f"the idle client was sent {data!r}"
                        closed_after = time.monotonic() - start
                    except BlockingIOError:
                        pass
                    except ConnectionResetError:
                        closed_after = time.monotonic() - start
                elapsed = time.monotonic() - start
                if (closed_after is not None and elapsed > 2.5) or elapsed > 12:
                    break
                time.sleep(0.2)
            results[key] = (closed_after, pings)
    except BaseException as e:  # reported by the caller
        results[key] = e


@pytest.mark.parametrize("how", ["startup-flag", "config-set"])
def test_timeout_closes_idle_clients_only(launcher, how):
    pair = start_pair(launcher, ["--timeout", "1"] if how == "startup-flag" else [])
    results = {}
    threads = [threading.Thread(target=_idle_and_active, args=(srv, results, name, how == "config-set"))
               for name, srv in pair.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for name in pair:
        r = results.get(name)
        assert not isinstance(r, BaseException) and r is not None, f"{name}: {r!r}"
        closed_after, pings = r
        assert closed_after is not None, f"{name}: the idle client was not closed within 12 s (timeout 1)"
        assert 0.9 <= closed_after <= 4.0, f"{name}: idle client closed after {closed_after:.2f} s (timeout 1)"
        print(f"\n{name}: idle client closed after {closed_after:.2f} s; active client did {pings} PINGs")


# --- maxclients -------------------------------------------------------------------------------------------
def connected_clients(conn: RespConnection) -> int:
    info = conn.command("INFO", "clients").decode()
    return int(info.split("connected_clients:")[1].split("\r\n")[0])


def refused_reply(srv) -> tuple[bytes, str]:
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        return read_until_closed(s, timeout=5)


def _fill_to(srv, n: int) -> list[RespConnection]:
    """n connections, all registered by the server (the first waits until it is the only client)."""
    first = srv.connect()
    wait_for(lambda: connected_clients(first) == 1, timeout=10, what="earlier clients to be gone")
    conns = [first]
    for _ in range(n - 1):
        c = srv.connect()
        assert c.command("PING") == b"+PONG\r\n"
        conns.append(c)
    return conns


def test_maxclients_refuses_the_extra_client(launcher):
    pair = start_pair(launcher, ["--maxclients", "5"])
    for name, srv in pair.items():
        conns = _fill_to(srv, 5)
        try:
            data, how = refused_reply(srv)
            assert data == MAXCLIENTS_REACHED and how in ("eof", "reset"), f"{name}: 6th client got {(data, how)}"
            assert all(c.command("PING") == b"+PONG\r\n" for c in conns), name
            conns.pop().close()

            def admitted():
                with srv.connect() as c:
                    try:
                        return c.command("PING") == b"+PONG\r\n"
                    except Exception:  # noqa: BLE001 - refused while the closed client is still counted
                        return False
            wait_for(admitted, timeout=10, what=f"{name}: a client admitted after one of 5 left")
            # lowering maxclients keeps the connected clients and refuses the next one
            assert conns[0].command("CONFIG", "SET", "maxclients", "2") == OK
            assert all(c.command("PING") == b"+PONG\r\n" for c in conns), name
            assert refused_reply(srv)[0] == MAXCLIENTS_REACHED, name
            assert conns[0].command("CONFIG", "SET", "maxclients", "100") == OK
            with srv.connect() as c:
                assert c.command("PING") == b"+PONG\r\n", name
        finally:
            for c in conns:
                c.close()
