"""Latency isolation: while one client runs a slow command over many keys (KEYS, FLUSHDB, MGET, DEL of a
large value), other clients' PING, GET and SET keep completing with correct replies.

These tests check correctness and progress, never milliseconds: each probe client must finish a number of
round trips *while the slow command is still running* (the slow command's reply has not arrived yet), and
every reply must be right. On a server that runs one command at a time (real Redis) the probes cannot
progress during the slow command, so these tests are redis-clone's own (clone_only).
"""

import threading
import time

import pytest

from resp import RespConnection, encode_command

pytestmark = pytest.mark.clone_only

KEYS = 300_000           # enough that KEYS * and FLUSHDB take a while
PROBE_TARGET = 20        # round trips each probe must complete during the slow command
DEADLINE = 60.0          # seconds for any one phase


def load_keys(srv, db, count, prefix):
    """Pipelined SETs in batches; every reply checked."""
    with srv.connect(timeout=DEADLINE) as conn:
        assert conn.command("SELECT", str(db)) == b"+OK\r\n"
        batch = 10_000
        for start in range(0, count, batch):
            end = min(count, start + batch)
            conn.send(b"".join(encode_command("SET", f"{prefix}{i}", f"v{i}") for i in range(start, end)))
            for _ in range(start, end):
                assert conn.read_reply() == b"+OK\r\n"
        assert conn.command("DBSIZE") == b":%d\r\n" % count


class Probe(threading.Thread):
    """Runs PING / SET / GET round trips in a loop and counts those completed while `busy` is set."""

    def __init__(self, srv, kind, busy, stop):
        super().__init__(daemon=True)
        self.srv, self.kind, self.busy, self.stop = srv, kind, busy, stop
        self.during = 0
        self.total = 0
        self.error = None

    def run(self):
        try:
            with self.srv.connect(timeout=DEADLINE) as conn:
                deadline = time.monotonic() + DEADLINE
                i = 0
                while not self.stop.is_set() and time.monotonic() < deadline:
                    i += 1
                    if self.kind == "ping":
                        assert conn.command("PING") == b"+PONG\r\n"
                    elif self.kind == "set":
                        assert conn.command("SET", f"probe:{i}", f"value:{i}") == b"+OK\r\n"
                    else:
                        conn.command("SET", "probe:get", f"value:{i}")
                        assert conn.command("GET", "probe:get") == b"$%d\r\nvalue:%d\r\n" % (len(f"value:{i}"), i)
                    self.total += 1
                    if self.busy.is_set():
                        self.during += 1
        except BaseException as e:  # reported by the test thread
            self.error = e


def run_slow_command_with_probes(srv, db, args, check_reply):
    busy, stop = threading.Event(), threading.Event()
    probes = [Probe(srv, kind, busy, stop) for kind in ("ping", "set", "get")]
    for p in probes:
        p.start()
    # the probes are running before the slow command starts
    deadline = time.monotonic() + DEADLINE
    while any(p.total == 0 for p in probes) and time.monotonic() < deadline:
        time.sleep(0.001)
    with srv.connect(timeout=DEADLINE) as slow:
        assert slow.command("SELECT", str(db)) == b"+OK\r\n"
        busy.set()
        slow.send_command(*args)
        # Wait until every probe has made progress while the reply is still outstanding, or the reply came.
        while time.monotonic() < deadline:
            if all(p.during >= PROBE_TARGET for p in probes):
                break
            if any(p.error for p in probes) or not all(p.is_alive() for p in probes):
                break
            time.sleep(0.001)
        progressed = [p.during for p in probes]
        reply = slow.read_reply()
        busy.clear()
    stop.set()
    for p in probes:
        p.join(DEADLINE)
        assert p.error is None, f"{p.kind} probe failed: {p.error!r}"
    check_reply(reply)
    return progressed


def test_probes_progress_during_keys_star(server):
    load_keys(server, 0, KEYS, "k:")
    progressed = run_slow_command_with_probes(
        server, 0, ("KEYS", "k:*"),
        lambda reply: reply.startswith(b"*%d\r\n" % KEYS) or pytest.fail(f"KEYS reply starts {reply[:40]!r}"))
    assert all(n >= PROBE_TARGET for n in progressed), f"probes during KEYS: {progressed}"


def test_probes_progress_during_flushdb_of_another_db(server):
    load_keys(server, 1, KEYS, "f:")
    progressed = run_slow_command_with_probes(
        server, 1, ("FLUSHDB",), lambda reply: reply == b"+OK\r\n" or pytest.fail(repr(reply)))
    with server.connect() as conn:
        assert conn.command("SELECT", "1") == b"+OK\r\n"
        assert conn.command("DBSIZE") == b":0\r\n"
    # FLUSHDB detaches the tables at once and frees them after: progress is likely but the detach itself
    # is quick, so only correctness is required here; the count is reported for the record.
    print(f"probe round trips during FLUSHDB: {progressed}")


def test_probes_progress_during_del_of_a_large_value(server):
    value = b"x" * (64 * 1024 * 1024)
    with server.connect(timeout=DEADLINE) as conn:
        assert conn.command("SET", "big", value) == b"+OK\r\n"
    run_slow_command_with_probes(server, 0, ("DEL", "big"), lambda reply: reply == b":1\r\n" or pytest.fail(repr(reply)))
    with server.connect() as conn:
        assert conn.command("EXISTS", "big") == b":0\r\n"


def test_a_slow_reader_of_a_large_keys_reply_ties_up_only_its_own_thread(server):
    load_keys(server, 0, 100_000, "slowread:")
    with server.connect(timeout=DEADLINE) as slow:
        slow.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 64 * 1024)
        slow.send_command("KEYS", "slowread:*")  # the reply is far larger than the socket buffers: the server blocks in send
        with server.connect() as other:
            for i in range(200):
                assert other.command("SET", f"other:{i}", "v") == b"+OK\r\n"
                assert other.command("GET", f"other:{i}") == b"$1\r\nv\r\n"
        reply = slow.read_reply()
        assert reply.startswith(b"*100000\r\n")
