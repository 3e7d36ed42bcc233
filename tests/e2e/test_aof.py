"""The append-only file end to end (Redis 7's multi-part layout): write, restart, same data; files accepted
by redis-check-aof; directories exchanged with Debian's redis-server 7.0 both ways; a truncated tail and a
corrupt file; BGREWRITEAOF while clients write; crashes (SIGKILL) with appendfsync always and everysec, and
during a rewrite.
"""

from __future__ import annotations

import random
import resource
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import REFERENCE_REDIS, ServerProcess, binary_under_test, free_port, is_real_redis, server_argv
from resp import RespConnection, encode_command, info_section, parse, snapshot, value, wait_aof_on, wait_for

CHECK_AOF = shutil.which("redis-check-aof") or "/usr/bin/redis-check-aof"
REAL = is_real_redis(binary_under_test())
DEADLINE = 60.0


def base_seq(directory: Path) -> int:
    text = (directory / "appendonlydir" / "appendonly.aof.manifest").read_text()
    return max(int(line.split()[3]) for line in text.splitlines() if line.endswith("type b"))


def wait_rewrite_done(directory: Path, old_seq: int, conn: RespConnection):
    """Until the manifest names a newer base, the old files are gone and INFO no longer shows the rewrite
    in progress. (The files change a moment before the server has reaped its child: a BGREWRITEAOF sent
    as soon as the manifest changes may still find the last one in progress.)"""
    def done():
        if base_seq(directory) <= old_seq:
            return False
        names = [p.name for p in (directory / "appendonlydir").iterdir()]
        if any(n.startswith("temp-") or f".{old_seq}.base." in n for n in names):
            return False
        return info_section(conn, "persistence")["aof_rewrite_in_progress"] == "0"
    wait_for(done, DEADLINE, interval=0.02, what="AOF rewrite done")


def start_aof(start_server, directory: Path, *extra, binary: str | None = None) -> ServerProcess:
    return start_server(["--dir", str(directory), "--appendonly", "yes", *extra], binary=binary)


def check_aof(directory: Path):
    manifest = directory / "appendonlydir" / "appendonly.aof.manifest"
    r = subprocess.run([CHECK_AOF, str(manifest)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "valid" in r.stdout, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout


def write_sample(conn: RespConnection):
    """A bit of everything the log must carry: plain sets, TTLs, counters, several databases, deletes."""
    assert conn.command("SET", "plain", "v") == b"+OK\r\n"
    assert conn.command("SET", "ttl", "t", "EX", "1000") == b"+OK\r\n"
    assert conn.command("SETEX", "setex", "1000", "s") == b"+OK\r\n"
    assert conn.command("SET", "gone", "x", "PX", "1") == b"+OK\r\n"
    for _ in range(5):
        conn.command("INCR", "counter")
    conn.command("INCRBYFLOAT", "float", "1.25")
    conn.command("APPEND", "plain", "++")
    conn.command("SETRANGE", "range", "3", "abc")
    conn.command("MSET", "m1", "1", "m2", "2")
    conn.command("DEL", "m2")
    conn.command("RENAME", "m1", "renamed")
    conn.command("EXPIRE", "counter", "5000")
    conn.command("SET", "persisted", "p", "EX", "100")
    conn.command("PERSIST", "persisted")
    assert conn.command("SELECT", "5") == b"+OK\r\n"
    conn.command("SET", "db5", "five")
    conn.command("SET", "doomed", "d")
    conn.command("FLUSHDB")
    conn.command("SET", "db5", "five-again")
    assert conn.command("SELECT", "0") == b"+OK\r\n"
    time.sleep(0.05)  # "gone" expires


DBS = (0, 5)  # the databases write_sample writes to


EXPECTED = {
    (0, b"plain"): (b"v++", False), (0, b"ttl"): (b"t", True), (0, b"setex"): (b"s", True),
    (0, b"counter"): (b"5", True), (0, b"float"): (b"1.25", False), (0, b"range"): (b"\x00\x00\x00abc", False),
    (0, b"renamed"): (b"1", False), (0, b"persisted"): (b"p", False), (5, b"db5"): (b"five-again", False),
}


def test_restart_keeps_the_data_and_check_aof_accepts(start_server, tmp_path):
    srv = start_aof(start_server, tmp_path)
    with srv.connect() as c:
        write_sample(c)
        assert snapshot(c, DBS) == EXPECTED
    assert srv.terminate_and_wait() == 0
    check_aof(tmp_path)
    manifest = (tmp_path / "appendonlydir" / "appendonly.aof.manifest").read_text()
    assert "type b" in manifest and "type i" in manifest
    srv = start_aof(start_server, tmp_path)
    with srv.connect() as c:
        assert snapshot(c, DBS) == EXPECTED


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_starts_from_our_directory_and_we_from_its(start_server, tmp_path, preamble):
    ours = tmp_path / "ours"
    theirs = tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    for directory, first, second in ((ours, None, REFERENCE_REDIS), (theirs, REFERENCE_REDIS, None)):
        srv = start_aof(start_server, directory, "--aof-use-rdb-preamble", preamble, binary=first)
        with srv.connect() as c:
            write_sample(c)
            old = base_seq(directory)
            assert c.command("BGREWRITEAOF").startswith(b"+")
            wait_rewrite_done(directory, old, c)
            c.command("SET", "after-rewrite", "yes")
        assert srv.terminate_and_wait() == 0
        check_aof(directory)
        srv = start_aof(start_server, directory, "--aof-use-rdb-preamble", preamble, binary=second)
        with srv.connect() as c:
            expected = dict(EXPECTED)
            expected[(0, b"after-rewrite")] = (b"yes", False)
            assert snapshot(c, DBS) == expected, f"{first or 'clone'} -> {second or 'clone'}"
        assert srv.terminate_and_wait() == 0


def incr_file(directory: Path) -> Path:
    return sorted((directory / "appendonlydir").glob("*.incr.aof"))[-1]


def test_truncated_tail_is_dropped_and_the_file_cut(start_server, tmp_path):
    srv = start_aof(start_server, tmp_path, "--appendfsync", "always")
    with srv.connect() as c:
        for i in range(10):
            c.command("SET", f"k{i}", str(i))
    assert srv.terminate_and_wait() == 0
    incr = incr_file(tmp_path)
    whole = incr.stat().st_size
    with open(incr, "ab") as f:
        f.write(encode_command("SET", "half", "written")[:-7])
    srv = start_aof(start_server, tmp_path)
    with srv.connect() as c:
        assert value(c, "DBSIZE") == 10
        assert value(c, "GET", "k9") == b"9"
    assert incr.stat().st_size == whole
    check_aof(tmp_path)


def test_corruption_stops_the_start(tmp_path):
    port = free_port()
    srv = ServerProcess(binary_under_test(), port, ["--dir", str(tmp_path), "--appendonly", "yes"])
    srv.wait_ready()
    with srv.connect() as c:
        for i in range(10):
            c.command("SET", f"k{i}", str(i))
    assert srv.terminate_and_wait() == 0
    srv.cleanup()
    incr = incr_file(tmp_path)
    data = bytearray(incr.read_bytes())
    data[30] = ord("!")
    incr.write_bytes(bytes(data))
    srv = ServerProcess(binary_under_test(), free_port(), ["--dir", str(tmp_path), "--appendonly", "yes"])
    try:
        assert srv.proc.wait(timeout=DEADLINE) == 1
        assert "appendonly.aof.1.incr.aof" in srv.log_text()
    finally:
        srv.cleanup()


def test_bgrewriteaof_while_clients_write(start_server, tmp_path):
    srv = start_aof(start_server, tmp_path)
    stop = threading.Event()
    counts = {}

    def writer(n: int):
        with srv.connect() as c:
            i = 0
            while not stop.is_set():
                assert c.command("INCR", f"w{n}") == f":{i + 1}\r\n".encode()
                i += 1
            counts[n] = i

    with srv.connect() as c:
        for start in range(0, 50000, 1000):
            c.send(b"".join(encode_command("SET", f"bulk{i}", "x" * 20) for i in range(start, start + 1000)))
            for _ in range(1000):
                c.read_reply()
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        wait_rewrite_done(tmp_path, 1, c)
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
    files = sorted(p.name for p in (tmp_path / "appendonlydir").iterdir())
    assert files == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"], files
    assert srv.terminate_and_wait() == 0
    check_aof(tmp_path)
    srv = start_aof(start_server, tmp_path)
    with srv.connect() as c:
        assert value(c, "DBSIZE") == 50000 + 4
        for n, count in counts.items():
            assert value(c, "GET", f"w{n}") == str(count).encode()


def numbered_writer(srv: ServerProcess, acknowledged: list, stop: threading.Event):
    try:
        with srv.connect() as c:
            i = 0
            while not stop.is_set():
                if c.command("SET", f"n{i}", str(i)) != b"+OK\r\n":
                    return
                acknowledged.append(i)
                i += 1
    except Exception:
        pass  # the server died under us


def crash_and_count(start_server, tmp_path, fsync: str, rewrite: bool = False):
    srv = start_aof(start_server, tmp_path, "--appendfsync", fsync)
    if rewrite:
        with srv.connect() as c:
            for start in range(0, 200000, 2000):  # MSET: one fsync per 2000 keys
                pairs = [x for i in range(start, start + 2000) for x in (f"bulk{i}", "y" * 50)]
                assert c.command("MSET", *pairs) == b"+OK\r\n"
    acknowledged: list = []
    stop = threading.Event()
    threads = [threading.Thread(target=numbered_writer, args=(srv, acknowledged, stop))]
    threads[0].start()
    time.sleep(random.uniform(0.2, 0.6))
    if rewrite:
        with srv.connect() as c:
            assert c.command("BGREWRITEAOF").startswith(b"+Background")
        time.sleep(random.uniform(0.0, 0.15))
    srv.terminate_and_wait(timeout=DEADLINE, sig=signal.SIGKILL)
    stop.set()
    threads[0].join()
    if rewrite:
        manifest = (tmp_path / "appendonlydir" / "appendonly.aof.manifest").read_text()
        print(f"killed {'during' if manifest.count('type i') > 1 else 'after'} the rewrite")
    srv = start_aof(start_server, tmp_path, "--appendfsync", fsync)
    with srv.connect() as c:
        missing = [i for i in acknowledged if value(c, "GET", f"n{i}") != str(i).encode()]
        if rewrite:
            assert value(c, "DBSIZE") >= 200000
    return len(acknowledged), missing


@pytest.mark.clone_only
def test_sigkill_with_fsync_always_loses_no_acknowledged_write(start_server, tmp_path):
    acked, missing = crash_and_count(start_server, tmp_path, "always")
    print(f"appendfsync always: {acked} acknowledged writes before SIGKILL, {len(missing)} missing")
    assert acked > 0 and missing == []


@pytest.mark.clone_only
def test_sigkill_with_fsync_everysec_reports_the_loss(start_server, tmp_path):
    acked, missing = crash_and_count(start_server, tmp_path, "everysec")
    # SIGKILL is not a power cut: a reply is sent only once its entry is written (as Redis), and the kernel
    # keeps what was written, so nothing acknowledged is lost; a power cut could lose up to a second.
    print(f"appendfsync everysec: {acked} acknowledged writes before SIGKILL, {len(missing)} missing")
    assert acked > 0 and missing == []


@pytest.mark.clone_only
def test_sigkill_during_bgrewriteaof_keeps_acknowledged_writes(start_server, tmp_path):
    acked, missing = crash_and_count(start_server, tmp_path, "always", rewrite=True)
    print(f"SIGKILL during BGREWRITEAOF: {acked} acknowledged writes, {len(missing)} missing")
    assert acked > 0 and missing == []
    check_aof(tmp_path)


def pipelined_writer(srv: ServerProcess, writer: int, acknowledged: list, stop: threading.Event):
    """Batches of 16 SETs sent at once; each reply read counts as one acknowledged write."""
    try:
        with srv.connect() as c:
            i = 0
            while not stop.is_set():
                c.send(b"".join(encode_command("SET", f"p{writer}:{j}", str(j)) for j in range(i, i + 16)))
                for j in range(i, i + 16):
                    if c.read_reply() != b"+OK\r\n":
                        return
                    acknowledged.append((writer, j))
                i += 16
    except Exception:
        pass  # the server died under us


def test_sigkill_with_fsync_always_keeps_every_acknowledged_pipelined_write(start_server, tmp_path):
    # A pipeline's entries share one write and one fsync, made before any of its replies leaves.
    srv = start_aof(start_server, tmp_path, "--appendfsync", "always")
    acknowledged: list = []
    stop = threading.Event()
    threads = [threading.Thread(target=pipelined_writer, args=(srv, n, acknowledged, stop)) for n in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acknowledged) >= 2000, DEADLINE, what="2000 acknowledged pipelined writes")
    time.sleep(random.uniform(0.0, 0.3))
    srv.terminate_and_wait(timeout=DEADLINE, sig=signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    srv = start_aof(start_server, tmp_path, "--appendfsync", "always")
    with srv.connect() as c:
        missing = [(n, j) for n, j in acknowledged if value(c, "GET", f"p{n}:{j}") != str(j).encode()]
    print(f"pipelined appendfsync always: {len(acknowledged)} acknowledged writes before SIGKILL, "
          f"{len(missing)} missing")
    assert missing == []


# ---- CONFIG SET appendonly at run time (Redis's startAppendOnly / stopAppendOnly) ----

def manifest_text(directory: Path) -> str:
    return (directory / "appendonlydir" / "appendonly.aof.manifest").read_text()


def config_get(conn: RespConnection, name: str) -> bytes:
    items = parse(conn.command("CONFIG", "GET", name)).items
    assert len(items) == 2, items
    return items[1].value


def set_keys(conn: RespConnection, prefix: str, count: int):
    for start in range(0, count, 500):
        pairs = [x for i in range(start, min(count, start + 500)) for x in (f"{prefix}{i}", f"{prefix}-v{i}")]
        assert conn.command("MSET", *pairs) == b"+OK\r\n"


def missing_keys(conn: RespConnection, prefix: str, count: int) -> list:
    return [i for i in range(count) if value(conn, "GET", f"{prefix}{i}") != f"{prefix}-v{i}".encode()]


def test_config_set_appendonly_yes_at_run_time(launcher, start_server, tmp_path):
    conf = tmp_path / "redis.conf"
    conf.write_text(f'dir "{tmp_path}"\nsave ""\nappendonly no\n')
    binary = binary_under_test()
    srv = launcher.start(lambda port, tmpdir: server_argv(binary, port, conf=str(conf), tmpdir=tmpdir,
                                                          real_redis=REAL) + ["--dir", str(tmp_path)])
    with srv.connect() as c:
        write_sample(c)
        set_keys(c, "before", 20000)
        assert info_section(c, "persistence")["aof_enabled"] == "0"
        assert not (tmp_path / "appendonlydir").exists()
        assert c.command("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
        assert info_section(c, "persistence")["aof_enabled"] == "1"
        set_keys(c, "during", 2000)  # logged while the base is being written, or after
        wait_aof_on(c)
        assert config_get(c, "appendonly") == b"yes"
        names = sorted(p.name for p in (tmp_path / "appendonlydir").iterdir())
        assert not any(n.startswith("temp-") for n in names), names
        seq = base_seq(tmp_path)
        # Setting the value it already has does nothing (no new rewrite, same files).
        assert c.command("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
        assert info_section(c, "persistence")["aof_rewrite_in_progress"] == "0"
        assert base_seq(tmp_path) == seq
        set_keys(c, "after", 2000)
        expected = snapshot(c, DBS)
        assert c.command("CONFIG", "REWRITE") == b"+OK\r\n"
    assert any(line.split() == ["appendonly", "yes"] for line in conf.read_text().splitlines())
    srv.terminate_and_wait(timeout=DEADLINE, sig=signal.SIGKILL)  # no shutdown save, no final AOF flush
    manifest = manifest_text(tmp_path)
    assert "type b" in manifest and "type i" in manifest and "temp-" not in manifest
    check_aof(tmp_path)
    srv = start_aof(start_server, tmp_path, "--save", "")
    with srv.connect() as c:
        assert snapshot(c, DBS) == expected
        for prefix, count in (("before", 20000), ("during", 2000), ("after", 2000)):
            assert missing_keys(c, prefix, count) == [], prefix


def test_config_set_appendonly_no_stops_logging_and_yes_starts_again(start_server, tmp_path):
    srv = start_aof(start_server, tmp_path, "--save", "")
    with srv.connect() as c:
        set_keys(c, "kept", 1000)
        assert c.command("CONFIG", "SET", "appendonly", "no") == b"+OK\r\n"
        assert info_section(c, "persistence")["aof_enabled"] == "0"
        assert config_get(c, "appendonly") == b"no"
        assert c.command("CONFIG", "SET", "appendonly", "no") == b"+OK\r\n"  # already off: nothing
        set_keys(c, "unlogged", 1000)
        assert value(c, "DBSIZE") == 2000
    srv.terminate_and_wait(timeout=DEADLINE, sig=signal.SIGKILL)
    check_aof(tmp_path)  # the files stay, complete up to the switch
    srv = start_aof(start_server, tmp_path, "--save", "")
    with srv.connect() as c:
        assert missing_keys(c, "kept", 1000) == []
        assert value(c, "EXISTS", *[f"unlogged{i}" for i in range(1000)]) == 0
        assert value(c, "DBSIZE") == 1000
        # Off and on again in one process: the new base replaces the files of the earlier manifest.
        old_seq = base_seq(tmp_path)
        assert c.command("CONFIG", "SET", "appendonly", "no") == b"+OK\r\n"
        set_keys(c, "while-off", 500)
        assert c.command("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
        wait_aof_on(c)
        assert base_seq(tmp_path) > old_seq
        names = [p.name for p in (tmp_path / "appendonlydir").iterdir()]
        assert not any(n.startswith("temp-") or f".{old_seq}.base." in n for n in names), names
        set_keys(c, "on-again", 500)
    srv.terminate_and_wait(timeout=DEADLINE, sig=signal.SIGKILL)
    check_aof(tmp_path)
    srv = start_aof(start_server, tmp_path, "--save", "")
    with srv.connect() as c:
        for prefix, count in (("kept", 1000), ("while-off", 500), ("on-again", 500)):
            assert missing_keys(c, prefix, count) == [], prefix
        assert value(c, "DBSIZE") == 2000


def start_with_slow_rewrite(start_server, tmp_path, monkeypatch, binary):
    """AOF off, no save points, and a rewrite child that takes 3 ms per key (Redis's rdb-key-save-delay,
    or redis-clone's test hook)."""
    if binary is None and not REAL:
        monkeypatch.setenv("REDIS_CLONE_RDB_KEY_SAVE_DELAY_US", "3000")
        delay = []
    else:
        delay = ["--rdb-key-save-delay", "3000"]
    return start_server(["--dir", str(tmp_path), "--save", "", "--appendonly", "no", *delay], binary=binary)


@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_no_shutdown_while_the_first_base_is_written(start_server, tmp_path, monkeypatch, binary):
    """As Redis: after CONFIG SET appendonly yes, the writes since the switch are only in a file no manifest
    names until the first base is written, so SHUTDOWN and SIGTERM refuse to stop the server until then."""
    srv = start_with_slow_rewrite(start_server, tmp_path, monkeypatch, binary)
    with srv.connect() as c:
        set_keys(c, "before", 1000)  # 3 s of base to write
        assert c.command("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
        set_keys(c, "during", 500)
        assert c.command("SHUTDOWN") == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
        srv.proc.send_signal(signal.SIGTERM)
        # Logged only while the child is at work: once for SHUTDOWN, once for SIGTERM.
        wait_for(lambda: srv.log_text().count("Writing initial AOF, can't exit.") == 2, DEADLINE, interval=0.02,
                 what="the SIGTERM refused while the first base is written")
        assert c.command("PING") == b"+PONG\r\n"
        wait_aof_on(c)
        set_keys(c, "after", 500)
    assert srv.terminate_and_wait(timeout=DEADLINE) == 0
    check_aof(tmp_path)
    srv = start_aof(start_server, tmp_path, "--save", "", binary=binary)
    with srv.connect() as c:
        for prefix, count in (("before", 1000), ("during", 500), ("after", 500)):
            assert missing_keys(c, prefix, count) == [], prefix


@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_shutdown_force_exits_while_the_first_base_is_written(start_server, tmp_path, monkeypatch, binary):
    srv = start_with_slow_rewrite(start_server, tmp_path, monkeypatch, binary)
    with srv.connect() as c:
        set_keys(c, "before", 1000)
        assert c.command("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
        c.send_command("SHUTDOWN", "FORCE")
        assert c.read_all_until_close(timeout=DEADLINE) == b""  # no reply: the server exits
    assert srv.terminate_and_wait(timeout=DEADLINE) == 0
    assert "Writing initial AOF. Exit anyway." in srv.log_text()


@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_config_set_aof_use_rdb_preamble_applies_to_the_next_rewrite(start_server, tmp_path, binary):
    srv = start_aof(start_server, tmp_path, "--save", "", binary=binary)
    with srv.connect() as c:
        set_keys(c, "k", 100)
        for preamble, suffix, magic in (("no", ".base.aof", b"*"), ("yes", ".base.rdb", b"REDIS")):
            assert c.command("CONFIG", "SET", "aof-use-rdb-preamble", preamble) == b"+OK\r\n"
            old_seq = base_seq(tmp_path)
            assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
            wait_rewrite_done(tmp_path, old_seq, c)
            base = [line.split()[1] for line in manifest_text(tmp_path).splitlines() if line.endswith("type b")]
            assert len(base) == 1 and base[0].endswith(suffix), (preamble, base)
            assert (tmp_path / "appendonlydir" / base[0]).read_bytes().startswith(magic), preamble
        set_keys(c, "after", 10)
    assert srv.terminate_and_wait(timeout=DEADLINE) == 0
    check_aof(tmp_path)
    srv = start_aof(start_server, tmp_path, "--save", "", binary=binary)
    with srv.connect() as c:
        assert missing_keys(c, "k", 100) == [] and missing_keys(c, "after", 10) == []


# INFO persistence fields Redis 7.0 has that redis-clone leaves out: a background child's live progress
# (its copy-on-write so far and the keys it has written), which would need the child to report as it goes.
CHILD_PROGRESS_FIELDS = {"current_cow_peak", "current_cow_size", "current_cow_size_age", "current_fork_perc",
                         "current_save_keys_processed", "current_save_keys_total"}


def persistence_field_names(srv: ServerProcess) -> list[str]:
    with srv.connect() as c:
        text = parse(c.command("INFO", "persistence")).value.decode()
    return [line.split(":", 1)[0] for line in text.split("\r\n") if line and not line.startswith("#")]


@pytest.mark.parametrize("appendonly", ["no", "yes"])
def test_info_persistence_has_redis_fields_in_redis_order(start_server, tmp_path, appendonly):
    redis = start_server(["--dir", str(tmp_path / "redis"), "--appendonly", appendonly], binary=REFERENCE_REDIS) \
        if (tmp_path / "redis").mkdir() is None else None
    clone = start_server(["--dir", str(tmp_path), "--save", "", "--appendonly", appendonly])
    expected = [name for name in persistence_field_names(redis) if name not in CHILD_PROGRESS_FIELDS]
    assert persistence_field_names(clone) == expected


@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_info_counts_rewrites_and_failures(start_server, tmp_path, binary):
    srv = start_aof(start_server, tmp_path, "--save", "", binary=binary)
    with srv.connect() as c:
        # 1 MB of random values (LZF cannot shrink them): a base far larger than the server's log.
        rng = random.Random(7)
        for start in range(0, 1000, 100):
            assert c.command("MSET", *[x for i in range(start, start + 100) for x in (f"k{i}", rng.randbytes(1000))]) \
                == b"+OK\r\n"
        before = int(info_section(c, "persistence")["aof_rewrites"])
        for _ in range(2):
            old_seq = base_seq(tmp_path)
            assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
            wait_rewrite_done(tmp_path, old_seq, c)
        info = info_section(c, "persistence")
        assert int(info["aof_rewrites"]) == before + 2
        assert info["aof_rewrites_consecutive_failures"] == "0" and info["aof_last_bgrewrite_status"] == "ok"
        assert int(info["aof_last_cow_size"]) >= 0
        assert info["module_fork_in_progress"] == "0" and info["module_fork_last_cow_size"] == "0"
        # A child that cannot write its base: files may grow to 256 KB, room for the server's log, its
        # manifest and new incremental file, not for a 1 MB base (a read-only directory would not stop root).
        _, hard = resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE, (256 * 1024, hard))
        assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        wait_for(lambda: info_section(c, "persistence")["aof_last_bgrewrite_status"] == "err", DEADLINE,
                 interval=0.02, what="the failed rewrite")
        wait_for(lambda: info_section(c, "persistence")["aof_rewrites_consecutive_failures"] == "1", DEADLINE,
                 interval=0.02, what="the failure counted")
        assert int(info_section(c, "persistence")["aof_rewrites"]) == before + 3
        resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
        old_seq = base_seq(tmp_path)
        assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        wait_rewrite_done(tmp_path, old_seq, c)
        wait_for(lambda: info_section(c, "persistence")["aof_rewrites_consecutive_failures"] == "0", DEADLINE,
                 interval=0.02, what="the count reset by a success")
