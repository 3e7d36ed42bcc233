"""RDB snapshots end to end: SAVE and restart, BGSAVE while clients write, save points, SHUTDOWN and
SIGTERM, files exchanged with Debian's redis-server 7.0 both ways and checked by redis-check-rdb, and
broken files (truncated, corrupted, a save killed half way).

Each test gives its servers an explicit --dir (pytest's tmp_path), so that a restart finds the file.
Tests marked clone_only look at redis-clone's own log lines or its test hook
(REDIS_CLONE_RDB_KEY_SAVE_DELAY_US, the counterpart of Redis's rdb-key-save-delay); the rest also pass
against redis-server itself (REDIS_CLONE_BIN=/usr/bin/redis-server).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import REFERENCE_REDIS, ServerProcess, binary_under_test, free_port, is_real_redis
from resp import RespConnection, encode_command, info_section, parse, value, wait_bgsave_done, wait_for

CHECK_RDB = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"
SAVE_DEADLINE = 60.0
EXIT_DEADLINE = 15.0
REAL = is_real_redis(binary_under_test())


# ---- helpers -----------------------------------------------------------------------------------------

def ok(conn: RespConnection, *args):
    reply = conn.command(*args)
    assert reply == b"+OK\r\n", (args[:3], reply)


def pipeline_set(conn: RespConnection, pairs, db: int | None = None, batch: int = 1000):
    """SET every (key, value) with pipelined batches (each reply checked)."""
    if db is not None:
        ok(conn, "SELECT", db)
    pending = []

    def flush():
        conn.send(b"".join(pending))
        for _ in pending:
            assert conn.read_reply() == b"+OK\r\n"
        pending.clear()

    for k, v in pairs:
        pending.append(encode_command("SET", k, v))
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    if db is not None:
        ok(conn, "SELECT", 0)


def check_rdb(path: Path):
    r = subprocess.run([CHECK_RDB, str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "RDB looks OK" in r.stdout, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout


def resp_array(*items: bytes) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%s\r\n" % (len(i), i) for i in items)


def start_in(start_server, directory: Path, *extra, binary: str | None = None) -> ServerProcess:
    return start_server(["--dir", str(directory), *extra], binary=binary)


def slow_save(monkeypatch, microseconds: int) -> list:
    """Makes each key of a background save take `microseconds`: Redis's rdb-key-save-delay, or
    redis-clone's test hook (read when the server starts). Returns extra arguments for the server."""
    if REAL:
        return ["--rdb-key-save-delay", str(microseconds)]
    monkeypatch.setenv("REDIS_CLONE_RDB_KEY_SAVE_DELAY_US", str(microseconds))
    return []


def stop(srv: ServerProcess, sig=signal.SIGTERM) -> int | None:
    return srv.terminate_and_wait(timeout=EXIT_DEADLINE, sig=sig)


def process_gone(pid: int) -> bool:
    """True when pid no longer runs (absent, or a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def temp_files(directory: Path):
    return sorted(directory.glob("temp-*.rdb"))


# A mix that exercises every string encoding: 8/16/32-bit integers, integers too large or not canonical
# (kept as text), short and long plain strings, LZF-compressible values, binary bytes, an empty value.
SAMPLE = {
    "int8": b"12",
    "int16": b"-1234",
    "int32": b"123456789",
    "int-like": b"12345",
    "big": b"12345678901",
    "leading-zero": b"007",
    "plus": b"+5",
    "empty": b"",
    "plain": b"hello world",
    "sixty-four": bytes(range(64)),
    "lzf-1000": b"abcdefghij" * 100,
    "lzf-100k": b"the quick brown fox " * 5000,
    "random-20k": os.urandom(20000),
    "binary": b"\x00\r\n\xff\xfe" * 10,
}


def write_sample(conn: RespConnection):
    for k, v in SAMPLE.items():
        ok(conn, "SET", k, v)
    ok(conn, "SET", "ttl-key", "v", "PX", 3_600_000)
    ok(conn, "SET", "short-ttl", "gone soon", "PX", 1)
    ok(conn, "SELECT", 5)
    ok(conn, "SET", "in-db5", "five")
    ok(conn, "SET", "in-db5-ttl", "5", "EX", 1000)
    ok(conn, "SELECT", 15)
    ok(conn, "SET", "in-db15", "x" * 100)
    ok(conn, "SELECT", 0)


def check_sample(conn: RespConnection, started_ms: int, extra_db0: int = 0):
    for k, v in SAMPLE.items():
        assert value(conn, "GET", k) == v, k
    ttl = value(conn, "PTTL", "ttl-key")
    elapsed = int(time.time() * 1000) - started_ms
    assert 3_600_000 - elapsed - 2000 <= ttl <= 3_600_000, ttl
    assert value(conn, "EXISTS", "short-ttl") == 0
    assert value(conn, "TTL", "plain") == -1
    ok(conn, "SELECT", 5)
    assert value(conn, "GET", "in-db5") == b"five"
    assert 990 <= value(conn, "TTL", "in-db5-ttl") <= 1000
    assert value(conn, "DBSIZE") == 2
    ok(conn, "SELECT", 15)
    assert value(conn, "GET", "in-db15") == b"x" * 100
    ok(conn, "SELECT", 0)
    assert value(conn, "DBSIZE") == len(SAMPLE) + 1 + extra_db0
    for db in (1, 4, 6, 14):
        ok(conn, "SELECT", db)
        assert value(conn, "DBSIZE") == 0
    ok(conn, "SELECT", 0)


# ---- SAVE, restart, INFO, LASTSAVE ------------------------------------------------------------------

def test_save_and_restart_keeps_data_and_ttls(start_server, tmp_path):
    srv = start_in(start_server, tmp_path)
    started_ms = int(time.time() * 1000)
    with srv.connect() as c:
        write_sample(c)
        before = int(time.time())
        ok(c, "SAVE")
        assert before <= value(c, "LASTSAVE") <= int(time.time()) + 1
        info = info_section(c, "persistence")
        assert info["rdb_changes_since_last_save"] == "0"
        assert info["rdb_last_save_time"] == str(value(c, "LASTSAVE"))
    assert (tmp_path / "dump.rdb").exists()
    assert temp_files(tmp_path) == []
    assert stop(srv) == 0
    check_rdb(tmp_path / "dump.rdb")

    again = start_in(start_server, tmp_path)
    with again.connect() as c:
        check_sample(c, started_ms)
        info = info_section(c, "persistence")
        assert int(info["rdb_last_load_keys_loaded"]) == len(SAMPLE) + 4


def test_info_persistence_counts_changes_and_saves(start_server, tmp_path):
    srv = start_in(start_server, tmp_path)
    with srv.connect() as c:
        info = info_section(c, "persistence")
        assert info["rdb_changes_since_last_save"] == "0"
        assert info["rdb_bgsave_in_progress"] == "0"
        assert info["rdb_last_bgsave_status"] == "ok"
        saves = int(info["rdb_saves"])
        ok(c, "SET", "a", "1")
        ok(c, "SET", "b", "2")
        assert c.command("INCR", "a") == b":2\r\n"
        assert c.command("GET", "a") == b"$1\r\n2\r\n"          # reads are not changes
        assert c.command("INCR", "nonint-x").startswith(b":")   # (1)
        ok(c, "SET", "s", "text")
        assert c.command("INCR", "s").startswith(b"-")          # failed writes are not changes
        assert info_section(c, "persistence")["rdb_changes_since_last_save"] == "5"
        ok(c, "SAVE")
        info = info_section(c, "persistence")
        assert info["rdb_changes_since_last_save"] == "0"
        assert int(info["rdb_saves"]) == saves + 1
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        info = wait_bgsave_done(c)
        assert info["rdb_last_bgsave_status"] == "ok"
        assert int(info["rdb_saves"]) == saves + 2
        assert int(info["rdb_last_bgsave_time_sec"]) >= 0


def test_command_errors(start_server, tmp_path):
    srv = start_in(start_server, tmp_path)
    with srv.connect() as c:
        assert c.command("SAVE", "x") == b"-ERR wrong number of arguments for 'save' command\r\n"
        assert c.command("LASTSAVE", "x") == b"-ERR wrong number of arguments for 'lastsave' command\r\n"
        assert c.command("BGSAVE", "now") == b"-ERR syntax error\r\n"
        assert c.command("BGSAVE", "schedule", "x") == b"-ERR syntax error\r\n"
        assert c.command("SHUTDOWN", "bogus") == b"-ERR syntax error\r\n"
        assert c.command("SHUTDOWN", "SAVE", "NOSAVE") == b"-ERR syntax error\r\n"
        assert c.command("SHUTDOWN", "ABORT", "NOW") == b"-ERR syntax error\r\n"
        assert c.command("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"
        assert c.command("BGSAVE", "SCHEDULE") in (b"+Background saving started\r\n",
                                                   b"+Background saving scheduled\r\n")
        wait_bgsave_done(c)
        assert c.command("PING") == b"+PONG\r\n"


def test_bgsave_and_save_refused_while_a_bgsave_runs(start_server, tmp_path, monkeypatch):
    srv = start_in(start_server, tmp_path, *slow_save(monkeypatch, 1000))
    with srv.connect() as c:
        pipeline_set(c, ((f"k{i}", str(i)) for i in range(2000)))
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        assert c.command("BGSAVE") == b"-ERR Background save already in progress\r\n"
        assert c.command("BGSAVE", "SCHEDULE") == b"-ERR Background save already in progress\r\n"
        assert c.command("SAVE") == b"-ERR Background save already in progress\r\n"
        info = info_section(c, "persistence")
        assert info["rdb_bgsave_in_progress"] == "1"
        assert int(info["rdb_current_bgsave_time_sec"]) >= 0
        info = wait_bgsave_done(c)
        assert info["rdb_last_bgsave_status"] == "ok"
        assert info["rdb_current_bgsave_time_sec"] == "-1"
    check_rdb(tmp_path / "dump.rdb")


# ---- files exchanged with redis-server 7.0 and redis-check-rdb ---------------------------------------

def test_redis_check_rdb_accepts_every_file_we_write(start_server, tmp_path):
    srv = start_in(start_server, tmp_path)
    with srv.connect() as c:
        ok(c, "SAVE")  # an empty keyspace
        check_rdb(tmp_path / "dump.rdb")
        write_sample(c)
        pipeline_set(c, ((f"key:{i:07d}", os.urandom(i % 50)) for i in range(20000)), db=3)
        ok(c, "SAVE")
        assert "keys read" in check_rdb(tmp_path / "dump.rdb")
        ok(c, "CONFIG", "SET", "rdbcompression", "no")
        ok(c, "SAVE")
        check_rdb(tmp_path / "dump.rdb")
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        assert wait_bgsave_done(c)["rdb_last_bgsave_status"] == "ok"
        check_rdb(tmp_path / "dump.rdb")


def test_real_redis_loads_our_dump(start_server, tmp_path):
    srv = start_in(start_server, tmp_path)
    started_ms = int(time.time() * 1000)
    with srv.connect() as c:
        write_sample(c)
        ok(c, "SAVE")
    assert stop(srv) == 0
    redis = start_in(start_server, tmp_path, binary=REFERENCE_REDIS)
    with redis.connect() as c:
        check_sample(c, started_ms)
        assert c.command("OBJECT", "ENCODING", "int16") == b"$3\r\nint\r\n"


def test_we_load_a_dump_real_redis_wrote(start_server, tmp_path):
    redis = start_in(start_server, tmp_path, binary=REFERENCE_REDIS)
    started_ms = int(time.time() * 1000)
    with redis.connect() as c:
        write_sample(c)
        pipeline_set(c, ((f"rep:{i}", (b"%05d" % i) * 200) for i in range(1000)))  # 1000-byte repetitive
        pipeline_set(c, ((f"num:{i}", str(i * 37 - 5000)) for i in range(1000)), db=2)
        ok(c, "SAVE")
    assert stop(redis) == 0
    raw = (tmp_path / "dump.rdb").read_bytes()
    assert b"\xc1\x39\x30" in raw          # "12345" as a 16-bit integer
    assert b"\xc3" in raw and b"abcdefghij" * 100 not in raw  # LZF, not the plain value
    srv = start_in(start_server, tmp_path)
    with srv.connect() as c:
        check_sample(c, started_ms, extra_db0=1000)
        for i in (0, 1, 517, 999):
            assert value(c, "GET", f"rep:{i}") == (b"%05d" % i) * 200
        ok(c, "SELECT", 2)
        assert value(c, "DBSIZE") == 1000
        assert value(c, "GET", "num:3") == b"-4889"


# ---- BGSAVE while clients write ---------------------------------------------------------------------

def test_bgsave_is_a_point_in_time_snapshot_while_clients_write(start_server, tmp_path, monkeypatch):
    srv = start_in(start_server, tmp_path, *slow_save(monkeypatch, 40))
    with srv.connect() as c:
        pipeline_set(c, ((f"pre:{i}", str(i)) for i in range(20000)))
    stop_writing = threading.Event()
    written = {"n": 0, "error": None}

    def writer():
        # Each step waits for its reply before the next, so at any instant the seq:* keys present are
        # 0..m-1 without a hole, and pa:i and pb:i (one MSET) are both there or both absent.
        try:
            with srv.connect() as w:
                for i in range(10_000_000):
                    if stop_writing.is_set():
                        break
                    assert w.command("SET", f"seq:{i}", i) == b"+OK\r\n"
                    assert w.command("MSET", f"pa:{i}", i, f"pb:{i}", i) == b"+OK\r\n"
                    written["n"] = i + 1
        except Exception as e:  # reported by the main thread
            written["error"] = e

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait_for(lambda: written["n"] >= 200, 10, what="the writer to get going")
        with srv.connect() as c:
            before = written["n"]
            assert c.command("BGSAVE") == b"+Background saving started\r\n"
            after = written["n"]
            info = wait_bgsave_done(c)
            assert info["rdb_last_bgsave_status"] == "ok"
    finally:
        stop_writing.set()
        thread.join(timeout=30)
    assert written["error"] is None, written["error"]
    total = written["n"]
    assert total > after + 100, "the writer should have kept going during the save"
    check_rdb(tmp_path / "dump.rdb")

    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(tmp_path / "dump.rdb", copy / "dump.rdb")
    loaded = start_in(start_server, copy)
    with loaded.connect() as c:
        seq = sorted(int(k.value.split(b":")[1]) for k in parse(c.command("KEYS", "seq:*")).items)
        pa = {k.value.split(b":")[1] for k in parse(c.command("KEYS", "pa:*")).items}
        pb = {k.value.split(b":")[1] for k in parse(c.command("KEYS", "pb:*")).items}
        assert seq == list(range(len(seq))), "a hole in seq:*: not a point-in-time snapshot"
        assert before <= len(seq) <= after + 1 < total
        assert pa == pb
        assert len(pa) in (len(seq), len(seq) - 1)
        assert value(c, "DBSIZE") == 20000 + len(seq) + 2 * len(pa)


# ---- save points, SIGTERM, SHUTDOWN ------------------------------------------------------------------

def test_save_point_triggers_a_background_save(start_server, tmp_path):
    srv = start_in(start_server, tmp_path, "--save", "1 2")
    with srv.connect() as c:
        ok(c, "SET", "one", "1")
        time.sleep(2.1)  # one change is below the save point: nothing may be written (a negative check)
        assert not (tmp_path / "dump.rdb").exists()
        ok(c, "SET", "two", "2")
        wait_for(lambda: info_section(c, "persistence")["rdb_changes_since_last_save"] == "0", 15, interval=0.05,
                 what="the save point's BGSAVE")
        assert wait_bgsave_done(c)["rdb_last_bgsave_status"] == "ok"
    check_rdb(tmp_path / "dump.rdb")


def test_config_set_save_takes_effect(start_server, tmp_path):
    srv = start_in(start_server, tmp_path)
    with srv.connect() as c:
        ok(c, "CONFIG", "SET", "save", "1 1")
        assert parse(c.command("CONFIG", "GET", "save")).items[1].value == b"1 1"
        ok(c, "SET", "k", "v")
        wait_for(lambda: (tmp_path / "dump.rdb").exists(), 15, interval=0.05, what="dump.rdb from save '1 1'")
        wait_bgsave_done(c)
        ok(c, "CONFIG", "SET", "save", "")


def test_sigterm_saves_when_save_points_are_set(start_server, tmp_path):
    srv = start_in(start_server, tmp_path, "--save", "3600 1")
    started_ms = int(time.time() * 1000)
    with srv.connect() as c:
        write_sample(c)
    assert not (tmp_path / "dump.rdb").exists()
    assert stop(srv) == 0
    check_rdb(tmp_path / "dump.rdb")
    again = start_in(start_server, tmp_path)
    with again.connect() as c:
        check_sample(c, started_ms)


@pytest.mark.clone_only  # the fixtures start redis-server with --save "" (its default is the same)
def test_default_save_points_are_redis_defaults_and_sigterm_saves(start_server, tmp_path):
    srv = start_in(start_server, tmp_path)  # no --save: the default applies
    started_ms = int(time.time() * 1000)
    with srv.connect() as c:
        assert c.command("CONFIG", "GET", "save") == resp_array(b"save", b"3600 1 300 100 60 10000")
        write_sample(c)
    assert stop(srv) == 0
    check_rdb(tmp_path / "dump.rdb")
    again = start_in(start_server, tmp_path)
    with again.connect() as c:
        check_sample(c, started_ms)


def test_sigterm_without_save_points_writes_nothing(start_server, tmp_path):
    srv = start_in(start_server, tmp_path, "--save", "")
    with srv.connect() as c:
        ok(c, "SET", "k", "v")
    assert stop(srv) == 0
    assert not (tmp_path / "dump.rdb").exists()


@pytest.mark.parametrize("flags, save_points, expect_file", [
    ((), "", False),
    (("SAVE",), "", True),
    ((), "3600 1", True),
    (("NOSAVE",), "3600 1", False),
    (("NOW", "FORCE"), "3600 1", True),
])
def test_shutdown_command(start_server, tmp_path, flags, save_points, expect_file):
    srv = start_in(start_server, tmp_path, "--save", save_points)
    with srv.connect() as c:
        ok(c, "SET", "k", "v")
        c.send_command("SHUTDOWN", *flags)
        assert c.read_all_until_close(timeout=EXIT_DEADLINE) == b""  # no reply: the connection closes
    assert srv.proc.wait(timeout=EXIT_DEADLINE) == 0
    srv.stopped = True
    assert (tmp_path / "dump.rdb").exists() == expect_file
    if expect_file:
        check_rdb(tmp_path / "dump.rdb")
        again = start_in(start_server, tmp_path)
        with again.connect() as c:
            assert value(c, "GET", "k") == b"v"


@pytest.mark.clone_only
def test_shutdown_refuses_when_the_save_fails(start_server, tmp_path):
    srv = start_in(start_server, tmp_path, "--dbfilename", "blocked.rdb")
    (tmp_path / "blocked.rdb").mkdir()
    (tmp_path / "blocked.rdb" / "inside").mkdir()  # the rename over a non-empty directory fails
    with srv.connect() as c:
        ok(c, "SET", "k", "v")
        assert c.command("SHUTDOWN", "SAVE") == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
        assert c.command("SAVE") == b"-ERR\r\n"
        assert c.command("PING") == b"+PONG\r\n"
        c.send_command("SHUTDOWN", "SAVE", "FORCE")
        c.read_all_until_close(timeout=EXIT_DEADLINE)
    assert srv.proc.wait(timeout=EXIT_DEADLINE) == 0
    srv.stopped = True
    assert temp_files(tmp_path) == []


def test_sigterm_keeps_running_when_the_final_save_fails(start_server, tmp_path):
    # As Redis: losing the data is worse than not exiting; SHUTDOWN NOSAVE still stops it.
    srv = start_in(start_server, tmp_path, "--save", "3600 1", "--dbfilename", "blocked.rdb")
    (tmp_path / "blocked.rdb").mkdir()
    (tmp_path / "blocked.rdb" / "inside").mkdir()  # the rename over a non-empty directory fails
    with srv.connect() as c:
        ok(c, "SET", "k", "v")
    srv.proc.send_signal(signal.SIGTERM)
    with srv.connect() as c:
        wait_for(lambda: "can't exit" in srv.log_text(), 10, what="the failed final save in the log")
        assert c.command("GET", "k") == b"$1\r\nv\r\n"
        assert srv.proc.poll() is None
        c.send_command("SHUTDOWN", "NOSAVE")
        c.read_all_until_close(timeout=EXIT_DEADLINE)
    assert srv.proc.wait(timeout=EXIT_DEADLINE) == 0
    srv.stopped = True
    assert temp_files(tmp_path) == []


# ---- broken files --------------------------------------------------------------------------------

def write_dump(start_server, directory: Path) -> bytes:
    srv = start_in(start_server, directory)
    with srv.connect() as c:
        write_sample(c)
        ok(c, "SAVE")
    assert stop(srv) == 0
    return (directory / "dump.rdb").read_bytes()


def start_expecting_failure(directory: Path) -> tuple[int, str]:
    srv = ServerProcess(binary_under_test(), free_port(), ["--dir", str(directory)])
    try:
        rc = srv.proc.wait(timeout=EXIT_DEADLINE)
        return rc, srv.log_text()
    finally:
        srv.cleanup()


@pytest.mark.parametrize("damage", ["truncated", "cut-in-header", "flipped-byte", "bad-crc", "unknown-opcode", "garbage"])
def test_a_broken_file_stops_the_start(start_server, tmp_path, damage):
    good = write_dump(start_server, tmp_path)
    middle = good.index(b"hello world") + 5
    first_key = good.index(b"\xfa\x08aof-base\xc0\x00") + 12  # the SELECTDB after the aux fields
    bad = {
        "truncated": good[:middle],
        "cut-in-header": good[:7],
        "flipped-byte": good[:middle] + bytes([good[middle] ^ 0x20]) + good[middle + 1:],
        "bad-crc": good[:-8] + bytes(8 - 1) + b"\x01",
        "unknown-opcode": good[:first_key] + b"\x42" + good[first_key + 1:],
        "garbage": b"hello, this is not an RDB file at all\n",
    }[damage]
    (tmp_path / "dump.rdb").write_bytes(bad)
    rc, log = start_expecting_failure(tmp_path)
    assert rc == 1, log[-3000:]
    if not REAL:
        assert str(tmp_path / "dump.rdb") in log, log[-3000:]
        m = re.search(r"at byte offset (\d+)", log)
        assert m, log[-3000:]
        assert int(m.group(1)) <= len(bad)
        if damage in ("flipped-byte", "bad-crc"):
            assert "checksum" in log
            assert int(m.group(1)) == len(bad) - 8
        if damage == "unknown-opcode":
            assert "unknown opcode or value type 66" in log
        assert "Ready to accept connections" not in log
    assert (tmp_path / "dump.rdb").read_bytes() == bad  # never rewritten


@pytest.mark.clone_only
def test_other_value_types_are_refused_with_their_name(start_server, tmp_path):
    redis = start_in(start_server, tmp_path, binary=REFERENCE_REDIS)
    with redis.connect() as c:
        ok(c, "SET", "s", "v")
        assert c.command("XADD", "st", "1-1", "f", "v") == b"$3\r\n1-1\r\n"
        ok(c, "SAVE")
    assert stop(redis) == 0
    rc, log = start_expecting_failure(tmp_path)
    assert rc == 1
    assert re.search(r"at byte offset \d+: value type 19 \(stream-listpacks-2\) of key 'st' is not supported", log), \
        log[-3000:]


# ---- a save killed half way -----------------------------------------------------------------------

def test_kill_9_during_bgsave_leaves_the_previous_dump_intact(start_server, tmp_path, monkeypatch):
    extra = slow_save(monkeypatch, 2000)
    srv = start_in(start_server, tmp_path, *extra)
    with srv.connect() as c:
        pipeline_set(c, ((f"old:{i}", str(i)) for i in range(3000)))
        ok(c, "SAVE")
        previous = (tmp_path / "dump.rdb").read_bytes()
        pipeline_set(c, ((f"new:{i}", str(i)) for i in range(3000)))

        # The child killed: the parent notices, reports the failure and removes the temp file.
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        temp = wait_for(lambda: temp_files(tmp_path), 15, what="the child's temp file")[0]
        child = int(temp.stem.split("-")[1])
        os.kill(child, signal.SIGKILL)
        info = wait_bgsave_done(c)
        assert info["rdb_last_bgsave_status"] == "err"
        wait_for(lambda: temp_files(tmp_path) == [], 10, what="the temp file to be removed")
        assert (tmp_path / "dump.rdb").read_bytes() == previous

        # The whole server killed in the middle of a save (its child too, as when a machine goes down).
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        temp = wait_for(lambda: temp_files(tmp_path), 15, what="the child's temp file")[0]
        child = int(temp.stem.split("-")[1])
        os.kill(srv.proc.pid, signal.SIGKILL)
        os.kill(child, signal.SIGKILL)
    assert srv.terminate_and_wait(timeout=EXIT_DEADLINE) == -signal.SIGKILL
    wait_for(lambda: process_gone(child), 10, what="the child to die")
    assert (tmp_path / "dump.rdb").read_bytes() == previous
    check_rdb(tmp_path / "dump.rdb")

    again = start_in(start_server, tmp_path)
    with again.connect() as c:
        assert value(c, "DBSIZE") == 3000
        assert value(c, "GET", "old:2999") == b"2999"
        assert value(c, "EXISTS", "new:0") == 0


LOADING = b"-LOADING Redis is loading the dataset in memory\r\n"


def ping_reply(srv: ServerProcess) -> bytes | None:
    """PING's reply on a new connection; None while the server does not accept connections yet."""
    try:
        with srv.connect(timeout=2) as c:
            return c.command("PING")
    except OSError:
        return None


def start_slow_load(start_server, launcher, tmp_path, monkeypatch, binary, *extra) -> tuple[ServerProcess, bytes]:
    """Writes a dump of 2000 keys, then starts a server on it whose load takes 2 ms per key (Redis's
    key-load-delay, or redis-clone's test hook), so at least 4 s, and returns once PING answers -LOADING.
    Returns the server and the file's bytes."""
    srv = start_in(start_server, tmp_path, "--save", "", binary=binary)
    with srv.connect() as c:
        pipeline_set(c, ((f"k{i}", str(i)) for i in range(2000)))
        ok(c, "SAVE")
    assert stop(srv) == 0
    dump = (tmp_path / "dump.rdb").read_bytes()
    real = binary is not None or REAL
    if not real:
        monkeypatch.setenv("REDIS_CLONE_KEY_LOAD_DELAY_US", "2000")
    # Redis serves clients between pieces of the file: every 1 KB instead of every 2 MB here.
    delay = ["--key-load-delay", "2000", "--loading-process-events-interval-bytes", "1024"] if real else []
    srv = launcher.track(ServerProcess(binary or binary_under_test(), free_port(),
                                       ["--dir", str(tmp_path), *delay, *extra]))
    wait_for(lambda: ping_reply(srv) == LOADING, SAVE_DEADLINE, interval=0.02,
             what="-LOADING from PING while the file loads")
    return srv, dump


@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_clients_get_loading_while_the_dataset_loads(start_server, launcher, tmp_path, monkeypatch, binary):
    """As Redis: the server listens before it loads the file; meanwhile commands without the "loading" flag
    get -LOADING, and INFO persistence shows the progress."""
    started = int(time.time())
    srv, dump = start_slow_load(start_server, launcher, tmp_path, monkeypatch, binary, "--save", "")
    with srv.connect() as c:
        for command in (("GET", "k1"), ("SET", "x", "1"), ("DBSIZE",), ("KEYS", "*"), ("FLUSHALL",)):
            assert c.command(*command) == LOADING, command
        ok(c, "SELECT", "1")  # commands with the "loading" flag run
        assert c.command("ECHO", "hi") == b"$2\r\nhi\r\n"
        assert c.command("TIME").startswith(b"*2\r\n")
        info = info_section(c, "persistence")
        assert info["loading"] == "1"
        assert int(info["loading_total_bytes"]) == len(dump)
        assert 0 <= int(info["loading_loaded_bytes"]) <= len(dump)
        assert started - 1 <= int(info["loading_start_time"]) <= int(time.time()) + 1
        assert 0 <= float(info["loading_loaded_perc"]) <= 100
        wait_for(lambda: c.command("PING") == b"+PONG\r\n", SAVE_DEADLINE, interval=0.05, what="the load to end")
        info = info_section(c, "persistence")
        assert info["loading"] == "0" and "loading_total_bytes" not in info
        assert value(c, "DBSIZE") == 0  # database 1
        ok(c, "SELECT", "0")
        assert value(c, "DBSIZE") == 2000
        assert value(c, "EXISTS", "x") == 0  # the refused SET did nothing


@pytest.mark.parametrize("how", ["SIGTERM", "SHUTDOWN"])
@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_a_stop_during_the_load_exits_at_once_without_saving(start_server, launcher, tmp_path, monkeypatch,
                                                             binary, how):
    """As Redis: a stop asked for while the file loads ends the process without waiting for the load, and
    saves nothing (with save points set, a save would write the half-loaded dataset over the file)."""
    srv, dump = start_slow_load(start_server, launcher, tmp_path, monkeypatch, binary, "--save", "1 1")
    if how == "SIGTERM":
        srv.proc.send_signal(signal.SIGTERM)
    else:
        with srv.connect() as c:
            c.send_command("SHUTDOWN", "SAVE")  # even when asked to save
            assert c.read_all_until_close(timeout=SAVE_DEADLINE) == b""
    assert srv.proc.wait(timeout=SAVE_DEADLINE) == 0  # (the deadline is the test's, not a timing claim)
    assert srv.terminate_and_wait() == 0  # already gone: only marks it stopped
    assert "Done loading RDB" not in srv.log_text()  # it did not wait for the load to end
    assert (tmp_path / "dump.rdb").read_bytes() == dump
    assert temp_files(tmp_path) == []


@pytest.mark.clone_only
def test_startup_log_reports_keys_and_time(start_server, tmp_path):
    write_dump(start_server, tmp_path)
    srv = start_in(start_server, tmp_path)
    log = srv.log_text()
    assert re.search(r"Done loading RDB, keys loaded: %d, keys expired: \d+\." % (len(SAMPLE) + 4), log), log[-2000:]
    assert re.search(r"DB loaded from disk: \d+\.\d+ seconds", log), log[-2000:]


# ---- FLUSHALL ----------------------------------------------------------------------------------------

# Each command and how many changes Redis 7.0 adds to rdb_changes_since_last_save for it (server.dirty):
# keys written or deleted, not commands. Save points ("60 10000") count these. Each line runs on one
# connection, in order, from an empty dataset.
DIRTY_PER_COMMAND = [
    ("MSET a 1 b 2 c 3", 3), ("SET a 1", 1), ("SET a 1 NX", 0), ("SETNX a 2", 0), ("SETNX z 2", 1),
    ("DEL a b nosuch", 2), ("DEL nosuch", 0), ("DEL k k k", 0), ("INCR n", 1), ("INCRBY n 5", 1),
    ("APPEND s xy", 1), ("SETRANGE s 0 q", 1), ("GETSET s v", 1), ("GETDEL s", 1), ("GETDEL s", 0),
    ("EXPIRE z 100", 1), ("PERSIST z", 1), ("PERSIST z", 0), ("EXPIRE z 0", 1), ("EXPIRE nosuch 10", 0),
    ("SET t 1", 1), ("RENAME t t2", 1), ("MSETNX p 1 q 2", 2), ("MSETNX p 1 r 2", 0), ("COPY c c2", 1),
    ("MOVE c2 1", 1), ("SWAPDB 0 1", 1), ("SWAPDB 0 1", 1), ("SWAPDB 0 0", 1), ("FLUSHDB", 5), ("FLUSHDB", 0),
    ("MSET a 1 b 2", 2), ("FLUSHALL", 3), ("FLUSHALL", 0), ("GETEX q PX 100", 0), ("INCRBYFLOAT f 1.5", 1),
    ("DECR f2", 1), ("PSETEX x 100 v", 1), ("SETEX x 100 v", 1), ("UNLINK x", 1), ("LCS f f2", 0),
    ('APPEND s1 ""', 1), ("APPEND s1 x", 1), ("SETRANGE s2 3 ab", 1), ("SETRANGE s2 0 zz", 1),
    ('SETRANGE s2 0 ""', 0), ('SETRANGE s3 0 ""', 0), ("SET a 1 XX", 0), ("SET a 1", 1), ("SET a 2 GET", 1),
    ("SET a 3 NX GET", 0), ("INCR s1", 0), ("COPY a a2", 1), ("COPY a a2", 0), ("COPY a a2 REPLACE", 1),
    ("RENAMENX a a2", 0), ("RENAMENX a a3", 1), ("RENAME a3 a3", 0), ("EXPIRE a2 100 NX", 1),
    ("EXPIRE a2 100 NX", 0), ("EXPIRE a2 50 GT", 0), ("EXPIRE a2 200 GT", 1), ("PEXPIREAT a2 1", 1),
    ("MSET m 1 m 2 m 3", 3), ("GETSET newkey 1", 1), ("SETEX se 100 v", 1), ("SET se v KEEPTTL", 1),
    ("GETEX se", 0), ("GETEX se PERSIST", 1), ("GETEX se EX 100", 1), ("MOVE se 3", 1), ("MOVE se 3", 0),
    ("SELECT 3", 0), ("FLUSHDB", 1), ("SELECT 0", 0), ("DECRBY m 2", 1), ("MSETNX x1 1 x1 2", 2),
    ("FLUSHALL ASYNC", 8),
]


@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_changes_since_last_save_count_keys_as_redis(start_server, tmp_path, binary):
    srv = start_in(start_server, tmp_path, "--save", "", binary=binary)
    got = []
    with srv.connect() as c:
        changes = int(info_section(c, "persistence")["rdb_changes_since_last_save"])
        for line, _ in DIRTY_PER_COMMAND:
            c.command(*shlex.split(line))
            now = int(info_section(c, "persistence")["rdb_changes_since_last_save"])
            got.append((line, now - changes))
            changes = now
    assert got == DIRTY_PER_COMMAND


def test_flushall_with_save_points_saves_the_empty_dataset(start_server, tmp_path):
    srv = start_in(start_server, tmp_path, "--save", "3600 1")
    with srv.connect() as c:
        pipeline_set(c, ((f"k{i}", str(i)) for i in range(100)))
        ok(c, "SELECT", 3)
        ok(c, "SET", "in-db3", "x")
        before = info_section(c, "persistence")
        assert int(before["rdb_changes_since_last_save"]) > 0
        assert not (tmp_path / "dump.rdb").exists()
        started = int(time.time())
        ok(c, "FLUSHALL")
        assert (tmp_path / "dump.rdb").exists()
        after = info_section(c, "persistence")
        assert after["rdb_changes_since_last_save"] == "0"
        assert after["rdb_saves"] == before["rdb_saves"]  # as Redis, FLUSHALL's save is not counted
        assert started <= value(c, "LASTSAVE") <= int(time.time()) + 1
        assert temp_files(tmp_path) == []
    assert "[info] 0 keys read" in check_rdb(tmp_path / "dump.rdb")
    # SIGKILL: no save on the way out, so what the restart finds is FLUSHALL's file.
    assert stop(srv, signal.SIGKILL) == -signal.SIGKILL
    again = start_in(start_server, tmp_path)
    with again.connect() as c:
        assert value(c, "DBSIZE") == 0
        ok(c, "SELECT", 3)
        assert value(c, "DBSIZE") == 0


def test_flushall_without_save_points_writes_no_file(start_server, tmp_path):
    srv = start_in(start_server, tmp_path, "--save", "")
    with srv.connect() as c:
        pipeline_set(c, ((f"k{i}", str(i)) for i in range(100)))
        ok(c, "FLUSHALL")
        ok(c, "FLUSHALL", "ASYNC")
        assert info_section(c, "persistence")["rdb_changes_since_last_save"] != "0"
    assert stop(srv) == 0
    assert not (tmp_path / "dump.rdb").exists()


@pytest.mark.parametrize("save_points", ["3600 1", ""])
def test_flushall_stops_a_running_bgsave(start_server, tmp_path, monkeypatch, save_points):
    srv = start_in(start_server, tmp_path, "--save", save_points, *slow_save(monkeypatch, 2000))
    with srv.connect() as c:
        pipeline_set(c, ((f"k{i}", str(i)) for i in range(3000)))
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        wait_for(lambda: temp_files(tmp_path), 15, what="the child's temp file")
        ok(c, "FLUSHALL")
        info = wait_bgsave_done(c)
        # Stopped on purpose: not a failed save (which would refuse writes with save points).
        assert info["rdb_last_bgsave_status"] == "ok"
        ok(c, "SET", "after", "flush")
        wait_for(lambda: temp_files(tmp_path) == [], 10, what="the killed child's temp file to be removed")
        assert (tmp_path / "dump.rdb").exists() == bool(save_points)
    if save_points:
        assert stop(srv, signal.SIGKILL) == -signal.SIGKILL
        again = start_in(start_server, tmp_path)
        with again.connect() as c:
            assert value(c, "DBSIZE") == 0
