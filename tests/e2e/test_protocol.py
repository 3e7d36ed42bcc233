"""Wire-protocol tests over raw sockets: protocol errors, inline commands, split frames, pipelining,
HELLO / RESP3, QUIT. Every expected byte string is what Redis 7.0 sends."""

from __future__ import annotations

import re
import socket
import threading

import pytest

from resp import ConnectionClosed, RespConnection, encode_command, parse

CANARY_KEY = b"canary"
CANARY_VALUE = b"still-here"


def _assert_connection_closed(conn: RespConnection, what: str):
    assert conn.is_closed_by_peer(timeout=5.0), f"server did not close the connection after {what}"


def _check_others_unaffected(server, other: RespConnection):
    """A client connected before the bad one still works, and the canary key is intact."""
    assert other.command("PING") == b"+PONG\r\n"
    assert other.command("GET", CANARY_KEY) == b"$%d\r\n%s\r\n" % (len(CANARY_VALUE), CANARY_VALUE)
    with server.connect() as fresh:
        assert fresh.command("GET", CANARY_KEY) == b"$%d\r\n%s\r\n" % (len(CANARY_VALUE), CANARY_VALUE)


PROTOCOL_ERRORS = [
    ("multibulk-not-a-number", b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("multibulk-over-int-max", b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("multibulk-trailing-junk", b"*1x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("bulk-not-a-number", b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk-negative", b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk-empty-length", b"*1\r\n$\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk-over-512mb", b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk-huge", b"*2\r\n$3\r\nGET\r\n$99999999999999999999\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("expected-dollar", b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    ("expected-dollar-second-arg", b"*2\r\n$3\r\nGET\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    ("unbalanced-double-quote", b'SET a "b\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ("unbalanced-single-quote", b"SET a 'b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ("quote-not-followed-by-space", b'ECHO "a"b\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ("too-big-inline", b"A" * (70 * 1024), b"-ERR Protocol error: too big inline request\r\n"),
    ("too-big-mbulk-count", b"*" + b"1" * (70 * 1024), b"-ERR Protocol error: too big mbulk count string\r\n"),
    ("too-big-bulk-count", b"*1\r\n$" + b"1" * (70 * 1024), b"-ERR Protocol error: too big bulk count string\r\n"),
]


@pytest.mark.parametrize("payload,expected", [(p, e) for _, p, e in PROTOCOL_ERRORS],
                         ids=[i for i, _, _ in PROTOCOL_ERRORS])
def test_protocol_error_reply_then_close(server, payload, expected):
    with server.connect() as other, server.connect() as bad:
        assert other.command("SET", CANARY_KEY, CANARY_VALUE) == b"+OK\r\n"
        bad.send(payload)
        assert bad.read_reply() == expected
        _assert_connection_closed(bad, f"the protocol error {expected!r}")
        _check_others_unaffected(server, other)


def test_protocol_error_after_valid_commands_in_same_write(server):
    """Commands before the bad frame are answered, then the error, then the connection is closed."""
    with server.connect() as other, server.connect() as bad:
        assert other.command("SET", CANARY_KEY, CANARY_VALUE) == b"+OK\r\n"
        bad.send(b"PING\r\n" + encode_command("SET", "before", "1") + b"*1\r\n$abc\r\n" + encode_command("SET", "after", "1"))
        assert bad.read_reply() == b"+PONG\r\n"
        assert bad.read_reply() == b"+OK\r\n"
        assert bad.read_reply() == b"-ERR Protocol error: invalid bulk length\r\n"
        _assert_connection_closed(bad, "the protocol error")
        assert other.command("GET", "before") == b"$1\r\n1\r\n"
        assert other.command("EXISTS", "after") == b":0\r\n", "a command after the protocol error was executed"
        _check_others_unaffected(server, other)


def test_big_inline_with_newline_is_not_an_error_below_limit(server):
    """An inline request just under 64 KB is fine (it is an unknown command, not a protocol error)."""
    with server.connect() as c:
        c.send(b"ECHO " + b"x" * 60000 + b"\r\n")
        assert c.read_reply() == b"$60000\r\n" + b"x" * 60000 + b"\r\n"
        assert c.command("PING") == b"+PONG\r\n"


def test_multibulk_zero_and_negative_count_are_ignored(server):
    with server.connect() as c:
        c.send(b"*0\r\n*-1\r\n*-5\r\nPING\r\n")
        assert c.read_reply() == b"+PONG\r\n"


# --- inline commands ------------------------------------------------------------------------------
def test_inline_commands(server):
    with server.connect() as c:
        c.send(b"PING\r\n")
        assert c.read_reply() == b"+PONG\r\n"
        c.send(b'SET a "hello world"\r\n')
        assert c.read_reply() == b"+OK\r\n"
        assert c.command("GET", "a") == b"$11\r\nhello world\r\n"
        c.send(b"GET a\r\n")
        assert c.read_reply() == b"$11\r\nhello world\r\n"
        c.send(b"ECHO 'x y'\r\n")
        assert c.read_reply() == b"$3\r\nx y\r\n"
        c.send(b"ping\n")  # a bare LF also ends an inline command
        assert c.read_reply() == b"+PONG\r\n"
        c.send(b"  ECHO    \t spaced\t  \r\n")
        assert c.read_reply() == b"$6\r\nspaced\r\n"
        c.send(b'ECHO "\\x41\\x00\\n\\t\\"q\\\\"\r\n')
        assert c.read_reply() == b'$7\r\nA\x00\n\t"q\\\r\n'
        c.send(b"ECHO 'it\\'s'\r\n")
        assert c.read_reply() == b"$4\r\nit's\r\n"
        c.send(b'ECHO ""\r\n')
        assert c.read_reply() == b"$0\r\n\r\n"
        c.send(b'SET "k 1" "" \r\n')
        assert c.read_reply() == b"+OK\r\n"
        assert c.command("EXISTS", "k 1") == b":1\r\n"


def test_inline_empty_lines_are_ignored(server):
    with server.connect() as c:
        c.send(b"\r\n\r\n\n   \r\nPING\r\n")
        assert c.read_reply() == b"+PONG\r\n"
        assert c.command("ECHO", "after") == b"$5\r\nafter\r\n"


def test_inline_errors_are_replied_like_multibulk(server):
    with server.connect() as c:
        c.send(b"foo a b\r\n")
        assert c.read_reply() == b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
        c.send(b"GET\r\n")
        assert c.read_reply() == b"-ERR wrong number of arguments for 'get' command\r\n"
        assert c.command("PING") == b"+PONG\r\n"


def test_inline_and_multibulk_mixed_in_one_write(server):
    with server.connect() as c:
        c.send(b"SET a 1\r\n" + encode_command("GET", "a") + b"GET a\r\n" + encode_command("PING"))
        assert [c.read_reply() for _ in range(4)] == [b"+OK\r\n", b"$1\r\n1\r\n", b"$1\r\n1\r\n", b"+PONG\r\n"]


# --- frames split across writes ------------------------------------------------------------------
def _no_reply_within(conn: RespConnection, seconds: float) -> bool:
    """True when nothing arrives within `seconds` (the server must not answer a partial frame)."""
    conn.sock.settimeout(seconds)
    try:
        conn.sock.recv(1, socket.MSG_PEEK)
    except socket.timeout:
        return True
    return False  # a byte arrived, or the connection was closed


def test_every_two_way_split_of_a_frame(server):
    frame = encode_command("SET", "split\r\nkey", "va\r\nlue")
    with server.connect() as c:
        for i in range(1, len(frame)):
            c.send(frame[:i])
            assert _no_reply_within(c, 0.01), f"server replied to a partial frame {frame[:i]!r}"
            c.send(frame[i:])
            assert c.read_reply() == b"+OK\r\n", f"split at {i}"
        assert c.command("GET", "split\r\nkey") == b"$7\r\nva\r\nlue\r\n"


def test_byte_by_byte(server):
    payload = (encode_command(b"SET", b"k", b"v\x00\r\n\xff") + b"PING\r\n" + encode_command(b"GET", b"k")
               + b'ECHO "a b"\r\n' + encode_command(b"DEL", b"k") + encode_command(b"PING", b"done"))
    expected = [b"+OK\r\n", b"+PONG\r\n", b"$5\r\nv\x00\r\n\xff\r\n", b"$3\r\na b\r\n", b":1\r\n",
                b"$4\r\ndone\r\n"]
    with server.connect() as c:  # TCP_NODELAY is set: every byte goes out in its own segment
        for i in range(len(payload)):
            c.send(payload[i : i + 1])
        assert [c.read_reply() for _ in expected] == expected


def test_split_inside_large_bulk(server):
    value = bytes(range(256)) * 400  # 100 KB
    frame = encode_command(b"SET", b"big", value)
    with server.connect() as c:
        for start in range(0, len(frame), 7777):
            c.send(frame[start : start + 7777])
        assert c.read_reply() == b"+OK\r\n"
        assert c.command(b"GET", b"big") == b"$%d\r\n%s\r\n" % (len(value), value)


# --- pipelining ----------------------------------------------------------------------------------
def test_pipeline_10000_commands_in_one_write(server):
    n = 10_000
    cmds = []
    expected = []
    for i in range(n):
        if i % 2 == 0:
            cmds.append(encode_command("SET", f"p:{i // 2}", f"value-{i}"))
            expected.append(b"+OK\r\n")
        else:
            v = f"value-{i - 1}".encode()
            cmds.append(encode_command("GET", f"p:{i // 2}"))
            expected.append(b"$%d\r\n%s\r\n" % (len(v), v))
    payload = b"".join(cmds)
    with server.connect(timeout=30) as c:
        # one write; a thread sends while we read so neither side can block on full socket buffers
        errors = []

        def writer():
            try:
                c.sock.sendall(payload)
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        got = [c.read_reply() for _ in range(n)]
        t.join(timeout=30)
        assert not t.is_alive() and not errors, errors
        for i, (g, e) in enumerate(zip(got, expected)):
            assert g == e, f"reply {i} out of order or wrong: {g!r} != {e!r}"
        assert c.command("DBSIZE") == b":%d\r\n" % (n // 2)


def test_pipeline_with_errors_keeps_order(server):
    with server.connect() as c:
        c.send(encode_command("SET", "a", "1") + encode_command("foo") + encode_command("GET")
               + encode_command("GET", "a") + encode_command("SET", "a", "2", "NX", "XX") + encode_command("GET", "a"))
        got = [c.read_reply() for _ in range(6)]
        assert got == [b"+OK\r\n", b"-ERR unknown command 'foo', with args beginning with: \r\n",
                       b"-ERR wrong number of arguments for 'get' command\r\n", b"$1\r\n1\r\n",
                       b"-ERR syntax error\r\n", b"$1\r\n1\r\n"]


# --- HELLO / RESP3 -------------------------------------------------------------------------------
def _hello_fields(reply):
    return [(k.value, v) for k, v in reply.pairs()]


def test_hello3_reply_is_a_map(server):
    with server.connect() as c:
        raw = c.command("HELLO", "3")
        reply = parse(raw)
        assert reply.kind == b"%", raw
        fields = _hello_fields(reply)
        assert [k for k, _ in fields] == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"], raw
        d = dict(fields)
        assert d[b"server"].kind == b"$" and d[b"server"].value, raw
        assert d[b"version"].kind == b"$" and re.fullmatch(rb"\d+\.\d+\.\d+", d[b"version"].value), raw
        assert d[b"proto"].raw == b":3\r\n"
        assert d[b"id"].kind == b":" and int(d[b"id"].value) > 0
        assert d[b"mode"].raw == b"$10\r\nstandalone\r\n"
        assert d[b"role"].raw == b"$6\r\nmaster\r\n"
        assert d[b"modules"].raw == b"*0\r\n"
        # RESP3 replies from now on
        assert c.command("GET", "missing") == b"_\r\n"
        assert c.command("SET", "k", "v") == b"+OK\r\n"
        assert c.command("GET", "k") == b"$1\r\nv\r\n"
        assert c.command("EXISTS", "k") == b":1\r\n"
        assert c.command("CLIENT", "GETNAME") == b"_\r\n"
        assert c.command("SET", "k", "v", "NX") == b"_\r\n"


def test_hello2_reply_is_a_flat_array(server):
    with server.connect() as c:
        raw = c.command("HELLO", "2")
        reply = parse(raw)
        assert reply.kind == b"*" and len(reply.items) == 14, raw
        keys = [k.value for k, _ in reply.pairs()]
        assert keys == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
        d = dict(_hello_fields(reply))
        assert d[b"proto"].raw == b":2\r\n"
        assert d[b"modules"].raw == b"*0\r\n"
        assert c.command("GET", "missing") == b"$-1\r\n"


def test_hello_without_version_reports_current_protocol(server):
    with server.connect() as c:
        assert dict(_hello_fields(parse(c.command("HELLO"))))[b"proto"].raw == b":2\r\n"
        c.command("HELLO", "3")
        reply = parse(c.command("HELLO"))
        assert reply.kind == b"%"
        assert dict(_hello_fields(reply))[b"proto"].raw == b":3\r\n"
        c.command("HELLO", "2")
        assert c.command("GET", "missing") == b"$-1\r\n"


def test_hello_ids_are_distinct_per_connection(server):
    with server.connect() as a, server.connect() as b:
        ida = dict(_hello_fields(parse(a.command("HELLO", "3"))))[b"id"].value
        idb = dict(_hello_fields(parse(b.command("HELLO", "3"))))[b"id"].value
        assert ida != idb
        assert int(idb) > int(ida), "client ids must increase with connection order"


def test_hello_unsupported_versions(server):
    with server.connect() as c:
        assert c.command("HELLO", "4") == b"-NOPROTO unsupported protocol version\r\n"
        assert c.command("HELLO", "1") == b"-NOPROTO unsupported protocol version\r\n"
        assert c.command("HELLO", "abc") == b"-ERR Protocol version is not an integer or out of range\r\n"
        assert c.command("GET", "missing") == b"$-1\r\n", "a failed HELLO must not change the protocol"
        c.command("HELLO", "3")
        assert c.command("HELLO", "4") == b"-NOPROTO unsupported protocol version\r\n"
        assert c.command("GET", "missing") == b"_\r\n"


def test_hello_setname(server):
    with server.connect() as c:
        reply = parse(c.command("HELLO", "3", "SETNAME", "conn-a"))
        assert reply.kind == b"%"
        assert c.command("CLIENT", "GETNAME") == b"$6\r\nconn-a\r\n"


def test_resp3_connection_independent_of_resp2_connection(server):
    with server.connect() as r3, server.connect() as r2:
        r3.command("HELLO", "3")
        assert r3.command("GET", "missing") == b"_\r\n"
        assert r2.command("GET", "missing") == b"$-1\r\n"


# --- QUIT ----------------------------------------------------------------------------------------
def test_quit_replies_ok_and_closes(server):
    with server.connect() as c:
        assert c.command("QUIT") == b"+OK\r\n"
        _assert_connection_closed(c, "QUIT")


def test_quit_discards_pipelined_commands_after_it(server):
    with server.connect() as c, server.connect() as other:
        c.send(encode_command("SET", "before", "1") + encode_command("QUIT") + encode_command("SET", "after", "1"))
        assert c.read_reply() == b"+OK\r\n"
        assert c.read_reply() == b"+OK\r\n"
        rest = c.read_all_until_close(timeout=5.0)
        assert rest == b"", f"data after QUIT's reply: {rest!r}"
        assert other.command("EXISTS", "before", "after") == b":1\r\n"


def test_quit_inline_and_resp3(server):
    with server.connect() as c:
        c.command("HELLO", "3")
        c.send(b"QUIT\r\n")
        assert c.read_reply() == b"+OK\r\n"
        _assert_connection_closed(c, "QUIT")


def test_connection_closed_mid_frame_does_not_affect_server(server):
    with server.connect() as other:
        other.command("SET", CANARY_KEY, CANARY_VALUE)
        for partial in (b"*3\r\n$3\r\nSET\r\n$1\r\nx", b"*2\r\n$3\r\nGET", b"SET x", b"*1\r\n$100\r\nabc"):
            c = server.connect()
            c.send(partial)
            c.close()
        _check_others_unaffected(server, other)
        assert other.command("EXISTS", "x") == b":0\r\n"


def test_reply_read_raises_on_close(server):
    """Sanity check of the helper itself: a closed connection is reported, not waited on forever."""
    with server.connect() as c:
        c.send(b"QUIT\r\n")
        assert c.read_reply() == b"+OK\r\n"
        with pytest.raises(ConnectionClosed):
            c.read_reply(timeout=5.0)
