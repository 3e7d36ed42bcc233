"""Disk errors end to end, each case run against the binary under test and Debian's redis-server 7.0 (the
reference for every reply): a background save that fails refuses writes and PING with MISCONF until a
save succeeds (stop-writes-on-bgsave-error); an AOF that cannot be written does the same until a write
succeeds, keeping every acknowledged write; with appendfsync always the server exits instead.

The disk is made to fail without mounts: the test lowers the server's RLIMIT_FSIZE (soft limit only, so
that it can raise it back without privileges) with prlimit, so that writes past that size fail with EFBIG,
or are cut short at it. Both servers ignore SIGXFSZ (redis-clone itself; Redis because it is started
with the signal ignored, which Python's subprocess would otherwise reset), so the limit gives an error
rather than killing the process.
"""

from __future__ import annotations

import resource
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import REFERENCE_REDIS, ServerProcess, binary_under_test, free_port, is_real_redis, stop_process
from resp import RespConnection, encode_command, info_section, parse, wait_bgsave_done, wait_for

DEADLINE = 30.0
CHECK_AOF = "/usr/bin/redis-check-aof"

MISCONF_RDB = (b"-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
               b"Commands that may modify the data set are disabled, because this instance is configured to report "
               b"errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check "
               b"the Redis logs for details about the RDB error.\r\n")
MISCONF_AOF_EFBIG = b"-MISCONF Errors writing to the AOF file: File too large\r\n"
MISCONF_AOF_SHORT = b"-MISCONF Errors writing to the AOF file: No space left on device\r\n"
ALWAYS_EXIT_LOG = "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."

SERVERS = ["under-test", "reference"]


# ---- servers whose disk can be made to fail ------------------------------------------------------------

def disk_server_argv(binary: str, port: int, directory: Path, extra) -> list[str]:
    if not is_real_redis(binary):
        return [binary, "--listenAddr", f"127.0.0.1:{port}", "--dir", str(directory), *extra]
    # Redis does not ignore SIGXFSZ itself; an ignored signal stays ignored across exec.
    redis = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory), *extra]
    return ["sh", "-c", "trap '' XFSZ; exec \"$0\" \"$@\"", *redis]


@pytest.fixture
def start_disk_server():
    """start_disk_server(kind, directory, *extra) -> ServerProcess; each is stopped at teardown (SIGTERM,
    clean exit required) unless the test already stopped it."""
    started = []

    def _start(kind: str, directory: Path, *extra) -> ServerProcess:
        binary = binary_under_test() if kind == "under-test" else REFERENCE_REDIS
        for attempt in range(3):
            port = free_port()
            srv = ServerProcess(binary, port, argv=disk_server_argv(binary, port, directory, extra))
            try:
                srv.wait_ready()
                started.append(srv)
                return srv
            except RuntimeError as e:
                srv.cleanup()
                if "already in use" not in str(e) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    yield _start
    errors = []
    for srv in started:
        try:
            stop_process(srv, f"server {srv.argv}")
        except BaseException as e:  # report every server
            errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


def limit_file_size(srv: ServerProcess, size: int):
    """From now on the server's writes past `size` bytes of any file fail (EFBIG) or are cut short."""
    _, hard = resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE, (size, hard))


def lift_file_size_limit(srv: ServerProcess):
    _, hard = resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(srv.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))


# ---- small helpers ----------------------------------------------------------------------------------

def set_many(conn: RespConnection, count: int, prefix: str = "k", size: int = 100):
    conn.send(b"".join(encode_command("SET", f"{prefix}{i}", "x" * size) for i in range(count)))
    for _ in range(count):
        assert conn.read_reply() == b"+OK\r\n"


def failed_bgsave(conn: RespConnection, srv: ServerProcess):
    """A BGSAVE whose child cannot write the file."""
    limit_file_size(srv, 1024)  # the child inherits the limit at fork
    assert conn.command("BGSAVE") == b"+Background saving started\r\n"
    assert wait_bgsave_done(conn, DEADLINE)["rdb_last_bgsave_status"] == "err"


def assert_writes_refused(conn: RespConnection, error: bytes):
    assert conn.command("SET", "new", "1") == error
    assert conn.command("PING") == error
    assert conn.command("DEL", "k0") == error
    assert conn.command("INCR", "counter") == error
    assert conn.command("FLUSHALL") == error
    # Reads, and the commands that can fix things, still work.
    assert conn.command("GET", "k0") == b"$100\r\n" + b"x" * 100 + b"\r\n"
    assert conn.command("ECHO", "hi") == b"$2\r\nhi\r\n"
    assert conn.command("EXISTS", "new") == b":0\r\n"
    assert conn.command("CONFIG", "GET", "maxmemory").startswith(b"*2\r\n")


def assert_writes_accepted(conn: RespConnection):
    assert conn.command("SET", "new", "1") == b"+OK\r\n"
    assert conn.command("PING") == b"+PONG\r\n"


# ---- stop-writes-on-bgsave-error ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", SERVERS)
@pytest.mark.parametrize("recover_with", ["BGSAVE", "SAVE"])
def test_failed_bgsave_refuses_writes_until_a_save_succeeds(start_disk_server, tmp_path, kind, recover_with):
    srv = start_disk_server(kind, tmp_path, "--save", "3600 1")
    with srv.connect() as c:
        set_many(c, 200)
        failed_bgsave(c, srv)
        assert_writes_refused(c, MISCONF_RDB)
        assert sorted(tmp_path.glob("temp-*.rdb")) == []
        # A SAVE that fails too changes nothing (Redis 7.0 records only a successful one).
        assert c.command("SAVE") == b"-ERR\r\n"
        assert c.command("SET", "new", "1") == MISCONF_RDB
        lift_file_size_limit(srv)
        if recover_with == "BGSAVE":
            assert c.command("BGSAVE") == b"+Background saving started\r\n"
            assert wait_bgsave_done(c, DEADLINE)["rdb_last_bgsave_status"] == "ok"
        else:
            assert c.command("SAVE") == b"+OK\r\n"
            assert info_section(c, "persistence")["rdb_last_bgsave_status"] == "ok"
        assert_writes_accepted(c)
    assert (tmp_path / "dump.rdb").exists()


@pytest.mark.parametrize("kind", SERVERS)
def test_stop_writes_on_bgsave_error_no_accepts_writes(start_disk_server, tmp_path, kind):
    srv = start_disk_server(kind, tmp_path, "--save", "3600 1")
    with srv.connect() as c:
        assert parse(c.command("CONFIG", "GET", "stop-writes-on-bgsave-error")).items[1].value == b"yes"
        assert c.command("CONFIG", "SET", "stop-writes-on-bgsave-error", "maybe") == (
            b"-ERR CONFIG SET failed (possibly related to argument 'stop-writes-on-bgsave-error') - "
            b"argument must be 'yes' or 'no'\r\n")
        set_many(c, 200)
        failed_bgsave(c, srv)
        assert c.command("SET", "new", "1") == MISCONF_RDB
        assert c.command("CONFIG", "SET", "stop-writes-on-bgsave-error", "no") == b"+OK\r\n"
        assert parse(c.command("CONFIG", "GET", "stop-writes-on-bgsave-error")).items[1].value == b"no"
        assert_writes_accepted(c)
        assert c.command("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes") == b"+OK\r\n"
        assert c.command("PING") == MISCONF_RDB
        # Without save points a failed background save refuses nothing either.
        assert c.command("CONFIG", "SET", "save", "") == b"+OK\r\n"
        assert_writes_accepted(c)
        assert info_section(c, "persistence")["rdb_last_bgsave_status"] == "err"
        lift_file_size_limit(srv)


@pytest.mark.parametrize("kind", SERVERS)
def test_stop_writes_on_bgsave_error_no_from_the_command_line(start_disk_server, tmp_path, kind):
    srv = start_disk_server(kind, tmp_path, "--save", "3600 1", "--stop-writes-on-bgsave-error", "no")
    with srv.connect() as c:
        set_many(c, 200)
        failed_bgsave(c, srv)
        assert_writes_accepted(c)
        lift_file_size_limit(srv)


@pytest.mark.parametrize("kind", SERVERS)
def test_authentication_is_checked_before_the_disk(start_disk_server, tmp_path, kind):
    srv = start_disk_server(kind, tmp_path, "--save", "3600 1")
    with srv.connect() as c:
        assert c.command("CONFIG", "SET", "requirepass", "secret") == b"+OK\r\n"
        set_many(c, 200)
        failed_bgsave(c, srv)
        with srv.connect() as stranger:
            assert stranger.command("SET", "a", "1") == b"-NOAUTH Authentication required.\r\n"
            assert stranger.command("PING") == b"-NOAUTH Authentication required.\r\n"
            # Unknown commands and wrong arity are reported before the disk, too.
            assert stranger.command("SET", "a").startswith(b"-ERR wrong number of arguments")
        assert c.command("SET", "a", "1") == MISCONF_RDB
        assert c.command("SET", "a").startswith(b"-ERR wrong number of arguments")
        lift_file_size_limit(srv)
        assert c.command("SAVE") == b"+OK\r\n"
        assert c.command("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"


# ---- AOF write errors --------------------------------------------------------------------------------

def incr_file(directory: Path) -> Path:
    return sorted((directory / "appendonlydir").glob("*.incr.aof"))[-1]


def check_aof(directory: Path):
    manifest = directory / "appendonlydir" / "appendonly.aof.manifest"
    r = subprocess.run([CHECK_AOF, str(manifest)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "valid" in r.stdout, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])


def start_aof(start_disk_server, kind, directory: Path, fsync: str) -> ServerProcess:
    return start_disk_server(kind, directory, "--appendonly", "yes", "--appendfsync", fsync)


def restart_and_check(start_disk_server, kind, srv: ServerProcess, directory: Path, expected: dict):
    """Stop, start again from the AOF, every key as expected. redis-clone is killed (SIGKILL: every
    acknowledged entry must already be in the kernel); Redis is stopped with SIGTERM, because with everysec
    it may postpone a write while a background fsync runs and still send the reply."""
    if srv.real_redis:
        assert srv.terminate_and_wait(timeout=DEADLINE) == 0
    else:
        assert srv.terminate_and_wait(timeout=DEADLINE, sig=signal.SIGKILL) == -signal.SIGKILL
    check_aof(directory)
    again = start_aof(start_disk_server, kind, directory, "everysec")
    with again.connect() as c:
        for key, value in expected.items():
            assert c.command("GET", key) == b"$%d\r\n%s\r\n" % (len(value), value), key


@pytest.mark.parametrize("kind", SERVERS)
@pytest.mark.parametrize("failure", ["efbig", "short-write"])
def test_aof_write_error_refuses_writes_then_recovers(start_disk_server, tmp_path, kind, failure):
    srv = start_aof(start_disk_server, kind, tmp_path, "everysec")
    with srv.connect() as c:
        set_many(c, 10)
        incr = incr_file(tmp_path)
        size = incr.stat().st_size
        # EFBIG at once, or a write cut short 10 bytes in (which Redis reports as a full disk).
        limit_file_size(srv, size if failure == "efbig" else size + 10)
        error = MISCONF_AOF_EFBIG if failure == "efbig" else MISCONF_AOF_SHORT
        # The write that fails is acknowledged, as Redis does: it stays buffered for the next try...
        assert c.command("SET", "acknowledged", "during the error") == b"+OK\r\n"
        # ...and once the write has been tried, writes are refused. redis-clone tries it before the reply;
        # Redis with everysec postpones it (up to 2 s) while its background fsync runs, so wait for the try.
        if not srv.real_redis:
            assert info_section(c, "persistence")["aof_last_write_status"] == "err"
        wait_for(lambda: info_section(c, "persistence")["aof_last_write_status"] == "err", DEADLINE,
                 interval=0.02, what="aof_last_write_status:err after the failing write")
        assert_writes_refused(c, error)
        assert incr.stat().st_size == size  # no partial command left in the file
        with srv.connect() as other:
            assert other.command("SET", "other", "1") == error
        lift_file_size_limit(srv)
        wait_for(lambda: info_section(c, "persistence")["aof_last_write_status"] == "ok", DEADLINE, interval=0.02,
                 what="aof_last_write_status:ok after the limit is lifted")
        assert_writes_accepted(c)
        assert c.command("SET", "after", "recovery") == b"+OK\r\n"
    if kind == "under-test" and not is_real_redis(binary_under_test()):
        log = srv.log_text()
        assert "AOF write error looks solved" in log, log[-3000:]
    expected = {f"k{i}": b"x" * 100 for i in range(10)}
    expected.update({"acknowledged": b"during the error", "new": b"1", "after": b"recovery"})
    restart_and_check(start_disk_server, kind, srv, tmp_path, expected)


@pytest.mark.parametrize("kind", SERVERS)
def test_aof_write_error_with_fsync_always_exits(start_disk_server, tmp_path, kind):
    srv = start_aof(start_disk_server, kind, tmp_path, "always")
    with srv.connect() as c:
        # The AOF grows past the log's size, so that the limit leaves the log writable for the exit message.
        set_many(c, 100, size=1000)
        limit_file_size(srv, incr_file(tmp_path).stat().st_size)
        c.send_command("SET", "never", "acknowledged")
        assert c.read_all_until_close(timeout=DEADLINE) == b""  # no reply: the write is not on disk
    assert srv.terminate_and_wait(timeout=DEADLINE) == 1
    assert ALWAYS_EXIT_LOG in srv.log_text(), srv.log_text()[-3000:]
    check_aof(tmp_path)
    again = start_aof(start_disk_server, kind, tmp_path, "always")
    with again.connect() as c:
        assert c.command("DBSIZE") == b":100\r\n"
        assert c.command("EXISTS", "never") == b":0\r\n"
