"""INFO stats against Debian's redis-server 7.0.

keyspace_hits and keyspace_misses: each command below, run in order on one connection from an empty
dataset, must move the two counters as Redis's do. Read commands
count each key they look up (GET, MGET, EXISTS, TTL, OBJECT, LCS, ...), and so do GETEX, GETDEL, GETSET,
SET ... GET and COPY's source; write lookups (INCR, APPEND, SETNX, RENAME, ...) and MEMORY USAGE do not.

total_forks and latest_fork_usec: BGSAVE and BGREWRITEAOF each fork once, and the fork is timed."""

from __future__ import annotations

import shlex

import pytest

from conftest import REFERENCE_REDIS, binary_under_test
from resp import info_section, wait_bgsave_done, wait_for

# (command, keyspace_hits added, keyspace_misses added), as Redis 7.0 counts them.
HITS_AND_MISSES = [
    ("SET a 1", 0, 0),
    ("GET a", 1, 0),
    ("GET nosuch", 0, 1),
    ("MGET a nosuch a", 2, 1),
    ("STRLEN a", 1, 0),
    ("STRLEN nosuch", 0, 1),
    ("GETRANGE a 0 -1", 1, 0),
    ("GETRANGE nosuch 0 -1", 0, 1),
    ("SUBSTR a 0 1", 1, 0),
    ("EXISTS a nosuch a", 2, 1),
    ("TYPE a", 1, 0),
    ("TYPE nosuch", 0, 1),
    ("TTL a", 1, 0),
    ("PTTL nosuch", 0, 1),
    ("EXPIRETIME a", 1, 0),
    ("PEXPIRETIME nosuch", 0, 1),
    ("OBJECT ENCODING a", 1, 0),
    ("OBJECT ENCODING nosuch", 0, 1),
    ("OBJECT REFCOUNT a", 1, 0),
    ("OBJECT IDLETIME a", 1, 0),
    ("MEMORY USAGE a", 0, 0),
    ("MEMORY USAGE nosuch", 0, 0),
    ("LCS a a", 2, 0),
    ("LCS a nosuch", 1, 1),
    ("GETEX a", 1, 0),
    ("GETEX nosuch", 0, 1),
    ("GETEX a PERSIST", 1, 0),
    ("GETDEL nosuch", 0, 1),
    ("SET b 2", 0, 0),
    ("GETDEL b", 1, 0),
    ("SET a 2 GET", 1, 0),
    ("SET c 2 GET", 0, 1),
    ("GETSET a 3", 1, 0),
    ("GETSET d 3", 0, 1),
    ("COPY a a2", 1, 0),
    ("COPY nosuch a3", 0, 1),
    ("TOUCH a nosuch", 1, 1),
    ("INCR n", 0, 0),
    ("APPEND a x", 0, 0),
    ("SETRANGE a 0 y", 0, 0),
    ("SETNX a 1", 0, 0),
    ("SET a 1 NX", 0, 0),
    ("SET a 1 XX", 0, 0),
    ("MSETNX z 1", 0, 0),
    ("RENAME a2 a4", 0, 0),
    ("MOVE a4 1", 0, 0),
    ("EXPIRE a 100", 0, 0),
    ("PERSIST a", 0, 0),
    ("DEL a", 0, 0),
    ("KEYS *", 0, 0),
    ("RANDOMKEY", 0, 0),
    ("DBSIZE", 0, 0),
    ("SCAN 0", 0, 0),
    ("INCRBYFLOAT f 1", 0, 0),
    ("DECR n", 0, 0),
]


@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_keyspace_hits_and_misses_count_as_redis(start_server, binary):
    srv = start_server(["--save", ""], binary=binary or binary_under_test())
    got = []
    with srv.connect() as c:
        def counters():
            stats = info_section(c, "stats")
            return int(stats["keyspace_hits"]), int(stats["keyspace_misses"])

        hits, misses = counters()
        for line, _, _ in HITS_AND_MISSES:
            c.command(*shlex.split(line))
            now_hits, now_misses = counters()
            got.append((line, now_hits - hits, now_misses - misses))
            hits, misses = now_hits, now_misses
    assert got == HITS_AND_MISSES


@pytest.mark.parametrize("binary", [REFERENCE_REDIS, None], ids=["redis-server", "under-test"])
def test_forks_are_counted_and_timed(start_server, tmp_path, binary):
    srv = start_server(["--dir", str(tmp_path), "--save", "", "--appendonly", "yes"],
                       binary=binary or binary_under_test())
    with srv.connect() as c:
        assert c.command("SET", "k", "v") == b"+OK\r\n"
        before = int(info_section(c, "stats")["total_forks"])
        assert c.command("BGSAVE") == b"+Background saving started\r\n"
        wait_bgsave_done(c, 60.0)
        assert int(info_section(c, "stats")["total_forks"]) == before + 1
        assert int(info_section(c, "stats")["latest_fork_usec"]) > 0
        assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        wait_for(lambda: info_section(c, "persistence")["aof_rewrite_in_progress"] == "0", 60.0, interval=0.02,
                 what="the rewrite to end")
        assert int(info_section(c, "stats")["total_forks"]) == before + 2
