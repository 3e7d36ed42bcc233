"""One forked child at a time, as Redis's child_type: BGSAVE, BGREWRITEAOF, the automatic rewrite and the
first rewrite of CONFIG SET appendonly yes share one slot. A start that finds the other kind of child at
work is refused or scheduled, with Redis's replies, and the scheduled one starts once the slot is free.
Each test runs the same steps against Debian's redis-server and the binary under test; the children are
slowed (Redis's rdb-key-save-delay, redis-clone's REDIS_CLONE_RDB_KEY_SAVE_DELAY_US) so that they are
still at work when the next command arrives."""

from __future__ import annotations

import pytest

from conftest import REFERENCE_REDIS, binary_under_test, is_real_redis
from resp import RespConnection, info_section, value, wait_bgsave_done, wait_for

DEADLINE = 60.0
KEYS = 300  # at 3 ms a key, each child works for about a second
ANOTHER_CHILD = (b"-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in "
                 b"order to schedule a BGSAVE whenever possible.\r\n")


@pytest.fixture(params=[REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def launch(request, start_server, tmp_path, monkeypatch):
    """launch(appendonly) starts a server on this test's directory: no save points, slow children."""
    binary = request.param
    if binary is None and not is_real_redis(binary_under_test()):
        monkeypatch.setenv("REDIS_CLONE_RDB_KEY_SAVE_DELAY_US", "3000")
        delay = []
    else:
        delay = ["--rdb-key-save-delay", "3000"]
    return lambda appendonly: start_server(["--dir", str(tmp_path), "--save", "", "--appendonly", appendonly,
                                            *delay], binary=binary)


def with_keys(srv):
    with srv.connect() as c:
        for i in range(KEYS):
            assert c.command("SET", f"key:{i}", "v") == b"+OK\r\n"
    return srv


def persistence(c: RespConnection) -> dict:
    return info_section(c, "persistence")


def wait_no_child(c: RespConnection) -> dict:
    def idle():
        info = persistence(c)
        busy = (info["rdb_bgsave_in_progress"], info["aof_rewrite_in_progress"], info["aof_rewrite_scheduled"])
        return busy == ("0", "0", "0") and info
    return wait_for(idle, DEADLINE, interval=0.02, what="no child running or scheduled")


def test_bgsave_while_a_rewrite_runs_is_refused_or_scheduled(launch):
    with with_keys(launch("yes")).connect() as c:
        saves = int(persistence(c)["rdb_saves"])
        assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        assert c.command("BGREWRITEAOF") == b"-ERR Background append only file rewriting already in progress\r\n"
        assert c.command("BGSAVE") == ANOTHER_CHILD
        assert c.command("BGSAVE", "SCHEDULE") == b"+Background saving scheduled\r\n"
        info = persistence(c)
        assert (info["aof_rewrite_in_progress"], info["rdb_bgsave_in_progress"]) == ("1", "0")
        # The scheduled save starts once the rewrite has ended, and succeeds.
        wait_for(lambda: int(persistence(c)["rdb_saves"]) == saves + 1, DEADLINE, interval=0.02,
                 what="the scheduled BGSAVE started")
        info = wait_bgsave_done(c)
        assert info["rdb_last_bgsave_status"] == "ok"
        assert info["aof_last_bgrewrite_status"] == "ok"


def test_bgrewriteaof_while_a_bgsave_runs_is_scheduled(launch):
    with with_keys(launch("yes")).connect() as c:
        rewrites = int(persistence(c)["aof_rewrites"])
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        assert c.command("BGSAVE") == b"-ERR Background save already in progress\r\n"
        assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting scheduled\r\n"
        info = persistence(c)
        assert (info["rdb_bgsave_in_progress"], info["aof_rewrite_scheduled"], info["aof_rewrite_in_progress"]) == \
            ("1", "1", "0")
        info = wait_no_child(c)
        assert int(info["aof_rewrites"]) == rewrites + 1
        assert info["aof_last_bgrewrite_status"] == "ok"
        assert info["rdb_last_bgsave_status"] == "ok"
        assert value(c, "DBSIZE") == KEYS


def test_appendonly_yes_while_a_bgsave_runs_waits_for_it(launch):
    srv = with_keys(launch("no"))
    with srv.connect() as c:
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        assert c.command("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
        info = persistence(c)
        assert (info["aof_enabled"], info["aof_rewrite_scheduled"], info["aof_rewrite_in_progress"]) == ("1", "1", "0")
        assert c.command("SET", "during", "bgsave") == b"+OK\r\n"
        info = wait_no_child(c)
        assert info["aof_last_bgrewrite_status"] == "ok"
        assert c.command("SET", "after", "rewrite") == b"+OK\r\n"
    assert srv.terminate_and_wait(timeout=DEADLINE) == 0
    # The restart loads the AOF: every key, the write made while the first rewrite waited for the BGSAVE too.
    with launch("yes").connect() as c:
        assert value(c, "DBSIZE") == KEYS + 2
        assert value(c, "GET", "during") == b"bgsave"
        assert value(c, "GET", "after") == b"rewrite"
