"""Blocking list pops (BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH) as Redis serves them: clients blocked on a key
are served in the order they blocked, by the push itself (before its reply, so before any later command sees
the element); timeouts, CLIENT UNBLOCK, disconnects, type changes, SWAPDB and many idle blocked clients.

Every scenario runs on both servers (the binary under test and Debian's redis-server) with the same steps and
the same expected bytes, unless it checks something only the clone exposes (its AOF, its threads). A client is
known to be blocked when INFO clients counts it (a bounded wait), never after a sleep.
"""

from __future__ import annotations

import os
import time

import pytest

from conftest import start_process, stop_process, binary_under_test
from procstats import threads
from resp import RespConnection, info_section, value, wait_for

WAIT = 10.0


@pytest.fixture(params=["clone", "reference"])
def target(request):
    return request.getfixturevalue("clone_module_server" if request.param == "clone" else "reference_server")


def blocked_clients(conn: RespConnection) -> int:
    return int(info_section(conn, "clients")["blocked_clients"])


def wait_blocked(conn: RespConnection, count: int):
    wait_for(lambda: blocked_clients(conn) == count, WAIT, what=f"{count} blocked clients")


def block(client: RespConnection, observer: RespConnection, already: int, *command):
    """Sends a blocking command and waits until the server counts one more blocked client."""
    client.send_command(*command)
    wait_blocked(observer, already + 1)


def test_waiters_are_served_in_the_order_they_blocked(target):
    with target.connect() as r, target.connect() as a, target.connect() as b, target.connect() as c:
        r.command("DEL", "q")
        block(a, r, 0, "BLPOP", "q", "0")
        block(b, r, 1, "BLPOP", "q", "0")
        block(c, r, 2, "BRPOP", "q", "0")
        assert r.command("RPUSH", "q", "x", "y", "z") == b":3\r\n"
        # The push served every waiter before it replied: nothing is left for a command sent after it.
        assert r.command("LLEN", "q") == b":0\r\n"
        assert r.command("EXISTS", "q") == b":0\r\n"
        assert a.read_reply(WAIT) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
        assert b.read_reply(WAIT) == b"*2\r\n$1\r\nq\r\n$1\r\ny\r\n"
        assert c.read_reply(WAIT) == b"*2\r\n$1\r\nq\r\n$1\r\nz\r\n"
        assert blocked_clients(r) == 0


def test_a_push_of_fewer_elements_serves_the_first_waiters_only(target):
    with target.connect() as r, target.connect() as a, target.connect() as b:
        r.command("DEL", "q")
        block(a, r, 0, "BLPOP", "q", "0")
        block(b, r, 1, "BLPOP", "q", "0")
        assert r.command("LPUSH", "q", "only") == b":1\r\n"
        assert a.read_reply(WAIT) == b"*2\r\n$1\r\nq\r\n$4\r\nonly\r\n"
        assert blocked_clients(r) == 1
        assert r.command("LPUSH", "q", "next") == b":1\r\n"
        assert b.read_reply(WAIT) == b"*2\r\n$1\r\nq\r\n$4\r\nnext\r\n"


def test_a_client_blocked_on_several_keys_is_served_from_the_one_pushed(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "k1", "k2", "k3")
        block(a, r, 0, "BRPOP", "k1", "k2", "k3", "0")
        r.command("RPUSH", "k2", "v1", "v2")
        assert a.read_reply(WAIT) == b"*2\r\n$2\r\nk2\r\n$2\r\nv2\r\n"
        assert r.command("LRANGE", "k2", "0", "-1") == b"*1\r\n$2\r\nv1\r\n"


def test_blmpop_is_served_with_its_count(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "m")
        block(a, r, 0, "BLMPOP", "0", "2", "other", "m", "RIGHT", "COUNT", "2")
        r.command("RPUSH", "m", "a", "b", "c")
        assert a.read_reply(WAIT) == b"*2\r\n$1\r\nm\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
        assert r.command("LRANGE", "m", "0", "-1") == b"*1\r\n$1\r\na\r\n"


def test_blmove_moves_atomically_when_served(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "src", "dst")
        block(a, r, 0, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
        assert r.command("RPUSH", "src", "e1", "e2") == b":2\r\n"
        assert a.read_reply(WAIT) == b"$2\r\ne2\r\n"
        assert r.command("LRANGE", "dst", "0", "-1") == b"*1\r\n$2\r\ne2\r\n"
        assert r.command("LRANGE", "src", "0", "-1") == b"*1\r\n$2\r\ne1\r\n"


def test_brpoplpush_chain_serves_the_next_waiter(target):
    """A served BRPOPLPUSH pushes to its destination, which serves whoever waits there, in the same step."""
    with target.connect() as r, target.connect() as a, target.connect() as b:
        r.command("DEL", "first", "second")
        block(a, r, 0, "BRPOPLPUSH", "first", "second", "0")
        block(b, r, 1, "BLPOP", "second", "0")
        r.command("LPUSH", "first", "token")
        assert a.read_reply(WAIT) == b"$5\r\ntoken\r\n"
        assert b.read_reply(WAIT) == b"*2\r\n$6\r\nsecond\r\n$5\r\ntoken\r\n"
        assert r.command("EXISTS", "first", "second") == b":0\r\n"


def test_blmove_to_a_destination_that_changed_type_answers_wrongtype(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "src", "dst")
        block(a, r, 0, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        r.command("SET", "dst", "string")
        r.command("LPUSH", "src", "v")
        assert a.read_reply(WAIT).startswith(b"-WRONGTYPE ")
        assert r.command("LLEN", "src") == b":1\r\n"  # nothing moved
        assert blocked_clients(r) == 0


def test_timeout_replies_a_null_array(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "nothing")
        started = time.monotonic()
        assert a.command("BLPOP", "nothing", "0.2") == b"*-1\r\n"
        assert time.monotonic() - started >= 0.19
        assert a.command("BLMOVE", "nothing", "x", "LEFT", "LEFT", "0.01") == b"*-1\r\n"
        assert a.command("BLMPOP", "0.01", "1", "nothing", "LEFT") == b"*-1\r\n"
        a.command("HELLO", "3")
        assert a.command("BRPOP", "nothing", "0.01") == b"_\r\n"
        assert blocked_clients(r) == 0


def test_client_unblock_timeout_and_error(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "u")
        a_id = value(a, "CLIENT", "ID")
        assert r.command("CLIENT", "UNBLOCK", str(a_id)) == b":0\r\n"  # not blocked
        block(a, r, 0, "BLPOP", "u", "0")
        line = next(l for l in value(r, "CLIENT", "LIST").decode().splitlines() if f"id={a_id} " in l)
        assert " flags=b " in line
        assert r.command("CLIENT", "UNBLOCK", str(a_id), "TIMEOUT") == b":1\r\n"
        assert a.read_reply(WAIT) == b"*-1\r\n"
        block(a, r, 0, "BLPOP", "u", "0")
        assert r.command("CLIENT", "UNBLOCK", str(a_id), "ERROR") == b":1\r\n"
        assert a.read_reply(WAIT) == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
        assert r.command("CLIENT", "UNBLOCK", str(a_id), "MAYBE") == (
            b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n")
        assert a.command("PING") == b"+PONG\r\n"


def test_commands_sent_while_blocked_run_after_the_wait(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "p")
        a.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\np\r\n$1\r\n0\r\n*2\r\n$4\r\nECHO\r\n$5\r\nafter\r\n")
        wait_blocked(r, 1)
        r.command("RPUSH", "p", "v")
        assert a.read_reply(WAIT) == b"*2\r\n$1\r\np\r\n$1\r\nv\r\n"
        assert a.read_reply(WAIT) == b"$5\r\nafter\r\n"


def test_a_disconnected_waiter_is_forgotten(target):
    with target.connect() as r:
        r.command("DEL", "gone")
        a = target.connect()
        block(a, r, 0, "BLPOP", "gone", "0")
        a.close()
        wait_blocked(r, 0)
        r.command("RPUSH", "gone", "kept")
        assert r.command("LRANGE", "gone", "0", "-1") == b"*1\r\n$4\r\nkept\r\n"


def test_type_change_and_delete_leave_the_client_blocked(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "t")
        block(a, r, 0, "BLPOP", "t", "0")
        r.command("SET", "t", "a string")  # not a list: nothing to serve, the client keeps waiting
        r.command("DEL", "t")
        r.command("SADD", "t", "member")
        r.command("FLUSHDB")
        assert blocked_clients(r) == 1
        r.command("RPUSH", "t", "finally")
        assert a.read_reply(WAIT) == b"*2\r\n$1\r\nt\r\n$7\r\nfinally\r\n"


def test_swapdb_serves_a_client_whose_key_now_exists(target):
    with target.connect() as r, target.connect() as a:
        r.command("FLUSHALL")
        block(a, r, 0, "BLPOP", "s", "0")  # in database 0
        r.command("SELECT", "1")
        r.command("RPUSH", "s", "from-db1")
        assert r.command("SWAPDB", "0", "1") == b"+OK\r\n"
        assert a.read_reply(WAIT) == b"*2\r\n$1\r\ns\r\n$8\r\nfrom-db1\r\n"
        r.command("SELECT", "0")
        assert r.command("EXISTS", "s") == b":0\r\n"


def test_blocked_client_in_another_database_is_not_served(target):
    with target.connect() as r, target.connect() as a:
        r.command("FLUSHALL")
        a.command("SELECT", "2")
        block(a, r, 0, "BLPOP", "d", "0.5")
        r.command("RPUSH", "d", "db0")  # database 0: not a's key
        assert a.read_reply(WAIT) == b"*-1\r\n"
        assert r.command("LLEN", "d") == b":1\r\n"


def test_sorted_set_waiters_are_served_in_order(target):
    with target.connect() as r, target.connect() as a, target.connect() as b, target.connect() as c:
        r.command("DEL", "z", "other")
        block(a, r, 0, "BZPOPMIN", "other", "z", "0")
        block(b, r, 1, "BZPOPMAX", "z", "0")
        block(c, r, 2, "BZMPOP", "0", "1", "z", "MIN", "COUNT", "5")
        assert r.command("ZADD", "z", "1", "one", "2", "two", "3", "three", "4", "four") == b":4\r\n"
        assert a.read_reply(WAIT) == b"*3\r\n$1\r\nz\r\n$3\r\none\r\n$1\r\n1\r\n"
        assert b.read_reply(WAIT) == b"*3\r\n$1\r\nz\r\n$4\r\nfour\r\n$1\r\n4\r\n"
        assert c.read_reply(WAIT) == (b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$3\r\ntwo\r\n$1\r\n2\r\n"
                                      b"*2\r\n$5\r\nthree\r\n$1\r\n3\r\n")
        assert r.command("EXISTS", "z") == b":0\r\n"


def test_list_and_sorted_set_waiters_on_one_key_take_only_their_type(target):
    with target.connect() as r, target.connect() as a, target.connect() as b:
        r.command("DEL", "mixed")
        block(a, r, 0, "BZPOPMIN", "mixed", "0")
        block(b, r, 1, "BLPOP", "mixed", "0")
        r.command("RPUSH", "mixed", "item")  # a list: the BLPOP client gets it, the BZPOPMIN one keeps waiting
        assert b.read_reply(WAIT) == b"*2\r\n$5\r\nmixed\r\n$4\r\nitem\r\n"
        assert blocked_clients(r) == 1
        r.command("ZADD", "mixed", "5", "m")
        assert a.read_reply(WAIT) == b"*3\r\n$5\r\nmixed\r\n$1\r\nm\r\n$1\r\n5\r\n"


def test_sorted_set_pops_in_resp3(target):
    with target.connect() as r, target.connect() as a:
        r.command("DEL", "z3")
        a.command("HELLO", "3")
        block(a, r, 0, "BZPOPMAX", "z3", "0")
        r.command("ZADD", "z3", "1.5", "x")
        assert a.read_reply(WAIT) == b"*3\r\n$2\r\nz3\r\n$1\r\nx\r\n,1.5\r\n"
        assert a.command("BZPOPMIN", "z3", "0.01") == b"_\r\n"


def test_served_pops_are_logged_as_pops(start_server, tmp_path):
    """The AOF gets the push, then what the waiter's pop did (LPOP, LMOVE), in apply order."""
    srv = start_server(["--appendonly", "yes", "--dir", str(tmp_path)])
    with srv.connect() as r, srv.connect() as a, srv.connect() as b:
        block(a, r, 0, "BLPOP", "q", "0")
        block(b, r, 1, "BLMOVE", "q", "d", "RIGHT", "LEFT", "0")
        r.command("RPUSH", "q", "x", "y", "z")
        assert a.read_reply(WAIT) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
        assert b.read_reply(WAIT) == b"$1\r\nz\r\n"
    log = b"".join((tmp_path / "appendonlydir" / name).read_bytes()
                   for name in sorted(os.listdir(tmp_path / "appendonlydir")) if name.endswith(".incr.aof"))
    push = log.index(b"RPUSH")
    pop = log.index(b"LPOP\r\n$1\r\nq")
    move = log.index(b"LMOVE\r\n$1\r\nq\r\n$1\r\nd\r\n$5\r\nRIGHT\r\n$4\r\nLEFT")
    assert push < pop < move


def test_served_sorted_set_pops_are_logged_as_zpops(start_server, tmp_path):
    srv = start_server(["--appendonly", "yes", "--dir", str(tmp_path)])
    with srv.connect() as r, srv.connect() as a, srv.connect() as b:
        block(a, r, 0, "BZPOPMIN", "z", "0")
        block(b, r, 1, "BZMPOP", "0", "1", "z", "MAX", "COUNT", "9")
        r.command("ZADD", "z", "1", "a", "2", "b", "3", "c")
        assert a.read_reply(WAIT).startswith(b"*3\r\n$1\r\nz\r\n$1\r\na")
        assert b.read_reply(WAIT).startswith(b"*2\r\n$1\r\nz\r\n*2\r\n")
    log = b"".join((tmp_path / "appendonlydir" / name).read_bytes()
                   for name in sorted(os.listdir(tmp_path / "appendonlydir")) if name.endswith(".incr.aof"))
    # As Redis: BZPOPMIN as ZPOPMIN key, BZMPOP as ZPOPMAX key <the number popped>.
    add = log.index(b"ZADD")
    popmin = log.index(b"*2\r\n$7\r\nZPOPMIN\r\n$1\r\nz\r\n")
    popmax = log.index(b"*3\r\n$7\r\nZPOPMAX\r\n$1\r\nz\r\n$1\r\n2\r\n")
    assert add < popmin < popmax


def test_many_idle_blocked_clients_cost_no_cpu_and_shutdown_wakes_them(tmp_path):
    """Each blocked client's thread sleeps in poll: a few hundred of them use no CPU while they wait, and
    SHUTDOWN still ends the server promptly."""
    srv = start_process(binary_under_test(), ["--dir", str(tmp_path)], name="server under test")
    clients = []
    try:
        with srv.connect() as r:
            for i in range(300):
                c = srv.connect()
                clients.append(c)
                c.send_command("BLPOP", f"idle:{i}", "0")
            wait_blocked(r, 300)
            assert threads(srv.proc.pid) >= 300
            ticks = lambda: sum(int(x) for x in open(f"/proc/{srv.proc.pid}/stat").read().rsplit(")", 1)[1].split()[11:13])
            before = ticks()
            time.sleep(1.0)  # a measurement window, not a wait for a state
            # Clock ticks are 10 ms: 300 threads polling in a loop would burn far more than 5 ticks a second.
            assert ticks() - before <= 5
            r.send_command("SHUTDOWN", "NOSAVE")
        assert srv.proc.wait(timeout=WAIT) == 0
        srv.stopped = True  # it ended as asked: nothing for the teardown to stop
    finally:
        for c in clients:
            c.close()
        stop_process(srv)
