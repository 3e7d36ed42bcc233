"""Publish/subscribe, checked on both servers with the same steps: confirmations and messages byte for byte in
RESP2 and RESP3, pattern delivery and receiver counts, the RESP2 subscribed-mode rules, RESET, PUBSUB
introspection, CLIENT LIST and INFO fields, cleanup on disconnect, the idle timeout exemption, and the
output buffer limit that disconnects a subscriber that never reads while the others keep receiving.
redis-py's PubSub object is driven the same way on both servers and must see the same messages."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

from resp import RespConnection, encode_command, parse, value

DEADLINE = 10.0


@pytest.fixture(params=["clone", "reference"])
def target(request):
    return request.getfixturevalue("clone_module_server" if request.param == "clone" else "reference_server")


def push(protocol: int, *parts) -> bytes:
    """A confirmation or message frame as the server must send it: parts are bytes (bulk), int or None."""
    out = [b"%s%d\r\n" % (b"*" if protocol == 2 else b">", len(parts))]
    for part in parts:
        if part is None:
            out.append(b"$-1\r\n" if protocol == 2 else b"_\r\n")
        elif isinstance(part, int):
            out.append(b":%d\r\n" % part)
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def read_replies(conn: RespConnection, count: int) -> list[bytes]:
    return [conn.read_reply() for _ in range(count)]


def wait_until(condition, what: str, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def numsub(conn: RespConnection, channel: str) -> int:
    return int(parse(conn.command("PUBSUB", "NUMSUB", channel)).items[1].value)


def connect(target, protocol: int) -> RespConnection:
    conn = target.connect()
    if protocol == 3:
        assert not conn.call("HELLO", "3").is_error
    return conn


@pytest.mark.parametrize("protocol", [2, 3])
def test_confirmations_byte_for_byte(target, protocol):
    with connect(target, protocol) as sub:
        sub.send_command("SUBSCRIBE", "conf-a", "conf-b", "conf-a")
        assert read_replies(sub, 3) == [push(protocol, b"subscribe", b"conf-a", 1),
                                        push(protocol, b"subscribe", b"conf-b", 2),
                                        push(protocol, b"subscribe", b"conf-a", 2)]
        # Channels and patterns share one count; shard channels have their own.
        assert sub.command("PSUBSCRIBE", "conf-*") == push(protocol, b"psubscribe", b"conf-*", 3)
        assert sub.command("SSUBSCRIBE", "conf-s") == push(protocol, b"ssubscribe", b"conf-s", 1)
        assert sub.command("UNSUBSCRIBE", "never") == push(protocol, b"unsubscribe", b"never", 3)
        assert sub.command("PUNSUBSCRIBE") == push(protocol, b"punsubscribe", b"conf-*", 2)
        assert sub.command("PUNSUBSCRIBE") == push(protocol, b"punsubscribe", None, 2)
        assert sub.command("SUNSUBSCRIBE", "conf-s") == push(protocol, b"sunsubscribe", b"conf-s", 0)
        assert sub.command("UNSUBSCRIBE", "conf-b") == push(protocol, b"unsubscribe", b"conf-b", 1)
        assert sub.command("UNSUBSCRIBE") == push(protocol, b"unsubscribe", b"conf-a", 0)
        # Unsubscribing from everything while subscribed to nothing still answers, with a null channel.
        assert sub.command("UNSUBSCRIBE") == push(protocol, b"unsubscribe", None, 0)
        assert sub.command("SUNSUBSCRIBE") == push(protocol, b"sunsubscribe", None, 0)
        # Out of subscribed mode: any command runs again.
        assert sub.command("PING") == b"+PONG\r\n"


def test_resp2_subscribed_mode_rules(target):
    with target.connect() as sub:
        sub.command("SUBSCRIBE", "rules")
        assert sub.command("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        assert sub.command("PING", "hi") == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
        allowed = b" only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        assert sub.command("GET", "k") == b"-ERR Can't execute 'get':" + allowed
        assert sub.command("CONFIG", "GET", "x") == b"-ERR Can't execute 'config|get':" + allowed
        assert sub.command("PUBLISH", "rules", "x") == b"-ERR Can't execute 'publish':" + allowed
        # Unknown commands and wrong arities are refused before the subscribed-mode rule.
        assert sub.command("NOSUCH").startswith(b"-ERR unknown command 'NOSUCH'")
        assert sub.command("GET") == b"-ERR wrong number of arguments for 'get' command\r\n"
        assert sub.command("QUIT") == b"+OK\r\n"
        assert sub.is_closed_by_peer()


def test_resp3_subscriber_runs_any_command_and_gets_its_own_message_first(target):
    with connect(target, 3) as sub:
        sub.command("SUBSCRIBE", "own")
        assert sub.command("PING") == b"+PONG\r\n"
        assert sub.command("GET", "own-missing-key") == b"_\r\n"
        # Its own message comes before the PUBLISH reply, as both go to one output in Redis.
        sub.send_command("PUBLISH", "own", "hello")
        assert read_replies(sub, 2) == [push(3, b"message", b"own", b"hello"), b":1\r\n"]


@pytest.mark.parametrize("protocol", [2, 3])
def test_delivery_with_patterns_and_receiver_counts(target, protocol):
    with connect(target, protocol) as sub, connect(target, protocol) as other, target.connect() as pub:
        sub.command("SUBSCRIBE", "news.sport")
        sub.command("PSUBSCRIBE", "news.*")
        other.command("PSUBSCRIBE", "news.s[p]ort")
        # One delivery per subscription: the channel, then each matching pattern.
        assert pub.command("PUBLISH", "news.sport", "goal") == b":3\r\n"
        assert read_replies(sub, 2) == [push(protocol, b"message", b"news.sport", b"goal"),
                                        push(protocol, b"pmessage", b"news.*", b"news.sport", b"goal")]
        assert other.read_reply() == push(protocol, b"pmessage", b"news.s[p]ort", b"news.sport", b"goal")
        assert pub.command("PUBLISH", "news.weather", "rain") == b":1\r\n"
        assert sub.read_reply() == push(protocol, b"pmessage", b"news.*", b"news.weather", b"rain")
        assert pub.command("PUBLISH", "nobody-listens", "x") == b":0\r\n"
        # Binary payloads pass unchanged.
        payload = bytes(range(256)) + b"\r\n"
        assert pub.command("PUBLISH", "news.sport", payload) == b":3\r\n"
        assert sub.read_reply() == push(protocol, b"message", b"news.sport", payload)


def test_shard_channels_ignore_patterns(target):
    with target.connect() as sub, target.connect() as pub:
        sub.command("PSUBSCRIBE", "*")
        with target.connect() as shard:
            shard.command("SSUBSCRIBE", "orders")
            assert pub.command("SPUBLISH", "orders", "o1") == b":1\r\n"
            assert shard.read_reply() == push(2, b"smessage", b"orders", b"o1")
            # A plain PUBLISH to the same name reaches the pattern only.
            assert pub.command("PUBLISH", "orders", "o2") == b":1\r\n"
            assert sub.read_reply() == push(2, b"pmessage", b"*", b"orders", b"o2")


def test_introspection_counts(target):
    with target.connect() as a, target.connect() as b, target.connect() as admin:
        a.send_command("SUBSCRIBE", "intro-1", "intro-2")
        read_replies(a, 2)
        b.command("SUBSCRIBE", "intro-1")
        a.command("PSUBSCRIBE", "intro-*")
        b.command("PSUBSCRIBE", "intro-*")
        b.command("SSUBSCRIBE", "intro-s")
        assert admin.command("PUBSUB", "NUMSUB", "intro-1", "intro-2", "intro-3") == (
            b"*6\r\n$7\r\nintro-1\r\n:2\r\n$7\r\nintro-2\r\n:1\r\n$7\r\nintro-3\r\n:0\r\n")
        assert admin.command("PUBSUB", "NUMPAT") == b":1\r\n"
        assert sorted(item.value for item in admin.call("PUBSUB", "CHANNELS").items) == [b"intro-1", b"intro-2"]
        assert [item.value for item in admin.call("PUBSUB", "CHANNELS", "*-2").items] == [b"intro-2"]
        assert admin.command("PUBSUB", "SHARDCHANNELS") == b"*1\r\n$7\r\nintro-s\r\n"
        assert admin.command("PUBSUB", "SHARDNUMSUB", "intro-s") == b"*2\r\n$7\r\nintro-s\r\n:1\r\n"
        info = value(admin, "INFO", "stats").decode()
        assert "pubsub_channels:2\r\n" in info
        assert "pubsub_patterns:1\r\n" in info
        assert "pubsubshard_channels:1\r\n" in info
        listing = value(admin, "CLIENT", "LIST").decode().splitlines()
        by_sub = sorted((f["sub"], f["psub"], f["ssub"], f["flags"])
                        for f in (dict(x.split("=", 1) for x in line.split(" ") if "=" in x) for line in listing))
        assert by_sub == [("0", "0", "0", "N"), ("1", "1", "1", "P"), ("2", "1", "0", "P")]


def test_disconnect_and_reset_drop_subscriptions(target):
    with target.connect() as admin:
        gone = target.connect()
        gone.command("SUBSCRIBE", "cleanup")
        gone.command("PSUBSCRIBE", "cleanup-*")
        with target.connect() as resetter:
            resetter.command("SELECT", "3")
            resetter.command("SUBSCRIBE", "cleanup")
            assert numsub(admin, "cleanup") == 2
            # RESET leaves subscribed mode at once (no confirmations), back to db 0.
            assert resetter.command("RESET") == b"+RESET\r\n"
            assert numsub(admin, "cleanup") == 1
            assert resetter.command("CLIENT", "INFO").split(b" db=")[1].startswith(b"0 ")
            assert resetter.command("PING") == b"+PONG\r\n"
        gone.close()
        wait_until(lambda: numsub(admin, "cleanup") == 0, "the closed subscriber's channel to go")
        wait_until(lambda: admin.command("PUBSUB", "NUMPAT") == b":0\r\n", "its pattern to go")
        assert admin.command("PUBLISH", "cleanup", "x") == b":0\r\n"


def test_idle_timeout_spares_subscribers(start_server, reference_server):
    # Both servers: a plain idle client is closed by `timeout`, a subscriber that says nothing is not.
    for srv in (start_server(), reference_server):
        with srv.connect() as admin:
            assert admin.command("CONFIG", "SET", "timeout", "1") == b"+OK\r\n"
        try:
            with srv.connect() as idle, srv.connect() as sub:
                sub.command("SUBSCRIBE", "idle")
                assert idle.is_closed_by_peer(timeout=DEADLINE)
                with srv.connect() as publisher:
                    assert publisher.command("PUBLISH", "idle", "still here") == b":1\r\n"
                assert sub.read_reply() == push(2, b"message", b"idle", b"still here")
        finally:
            with srv.connect() as admin:
                admin.command("CONFIG", "SET", "timeout", "0")


def test_config_output_buffer_limit(target):
    with target.connect() as conn:
        default = b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        assert parse(conn.command("CONFIG", "GET", "client-output-buffer-limit")).items[1].value == default
        try:
            assert conn.command("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 2kb 3") == b"+OK\r\n"
            assert parse(conn.command("CONFIG", "GET", "client-output-buffer-limit")).items[1].value == (
                b"normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2048 3")
            prefix = b"-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
            for bad, why in [("pubsub 1 2", b"Wrong number of arguments in buffer limit configuration."),
                             ("master 1 2 3", b"Invalid client class specified in buffer limit configuration."),
                             ("pubsub x 2 3", b"Error in hard, soft or soft_seconds setting in buffer limit "
                                              b"configuration.")]:
                assert conn.command("CONFIG", "SET", "client-output-buffer-limit", bad) == prefix + why + b"\r\n"
        finally:
            conn.command("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")


def test_slow_subscriber_is_disconnected_at_the_hard_limit(target):
    """A subscriber that never reads is dropped once its pending output passes the hard limit; a subscriber that
    reads keeps getting every message, and the publisher is never held up."""
    message = b"x" * 16384
    with target.connect() as admin:
        assert admin.command("CONFIG", "SET", "client-output-buffer-limit", "pubsub 256kb 0 0") == b"+OK\r\n"
        try:
            slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.connect((target.host, target.port))
            slow.sendall(encode_command("SUBSCRIBE", "flood"))
            received = []
            with target.connect() as fast:
                assert fast.command("SUBSCRIBE", "flood") == push(2, b"subscribe", b"flood", 1)
                wait_until(lambda: numsub(admin, "flood") == 2, "both subscribers")
                expected = push(2, b"message", b"flood", message)

                def drain():
                    while True:  # until the connection closes at the end of the test
                        try:
                            reply = fast.read_reply(timeout=DEADLINE)
                        except Exception:
                            return
                        received.append(reply == expected)

                published = [0]
                reader = threading.Thread(target=drain, daemon=True)
                reader.start()
                deadline = time.monotonic() + 30
                # Far more than the kernel's socket buffers and the limit can hold; stops once the slow one is gone.
                while time.monotonic() < deadline and published[0] < 4000:
                    # The reading subscriber is kept within a few messages (far below the limit), so that only
                    # the one that never reads can reach it, however slowly this test's reader thread runs.
                    wait_until(lambda: len(received) >= published[0] - 4, "the reading subscriber to keep up")
                    receivers = int(admin.command("PUBLISH", "flood", message)[1:-2])
                    published[0] += 1
                    if receivers == 1:
                        break
                assert numsub(admin, "flood") == 1, "the subscriber that never reads was not disconnected"
                assert admin.command("PUBLISH", "flood", message) == b":1\r\n"
                published[0] += 1
                wait_until(lambda: len(received) >= published[0], "every message at the subscriber that reads")
                assert len(received) == published[0] and all(received)
            slow.close()
        finally:
            admin.command("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")


def run_redis_py_session(srv) -> list:
    client = redis.Redis(host=srv.host, port=srv.port, decode_responses=True)
    seen = []
    pubsub = client.pubsub()
    try:
        pubsub.subscribe("py-chan")
        pubsub.psubscribe("py-*")
        for _ in range(2):
            seen.append(pubsub.get_message(timeout=DEADLINE))
        assert client.publish("py-chan", "one") == 2
        assert client.publish("py-other", "two") == 1
        for _ in range(3):
            seen.append(pubsub.get_message(timeout=DEADLINE))
        assert client.pubsub_numsub("py-chan") == [("py-chan", 1)]
        assert client.pubsub_numpat() == 1
        pubsub.unsubscribe("py-chan")
        pubsub.punsubscribe()
        for _ in range(2):
            seen.append(pubsub.get_message(timeout=DEADLINE))
        assert client.publish("py-chan", "three") == 0
    finally:
        pubsub.close()
        client.close()
    return seen


def test_redis_py_pubsub_matches_redis(clone_module_server, reference_server):
    ours = run_redis_py_session(clone_module_server)
    assert None not in ours
    assert ours == run_redis_py_session(reference_server)


def test_client_reply_off_keeps_pushes(target):
    """CLIENT REPLY OFF silences replies but not confirmations and messages (they are pushes); SKIP silences one."""
    with connect(target, 3) as sub, target.connect() as pub:
        sub.send_command("CLIENT", "REPLY", "OFF")
        sub.send_command("SUBSCRIBE", "quiet")
        assert sub.read_reply() == push(3, b"subscribe", b"quiet", 1)
        sub.send_command("GET", "quiet-key")  # no reply
        assert pub.command("PUBLISH", "quiet", "m") == b":1\r\n"
        assert sub.read_reply() == push(3, b"message", b"quiet", b"m")
        assert sub.command("CLIENT", "REPLY", "ON") == b"+OK\r\n"
        sub.send_command("CLIENT", "REPLY", "SKIP")
        sub.send_command("ECHO", "skipped")
        assert sub.command("ECHO", "shown") == b"$5\r\nshown\r\n"
        assert sub.command("CLIENT", "REPLY", "MAYBE") == b"-ERR syntax error\r\n"


NOTIFY_SCRIPT = [
    ("SET", "kn:s", "1"), ("SET", "kn:s", "2", "EX", "100"), ("SET", "kn:s", "3", "KEEPTTL"), ("SETNX", "kn:s", "x"),
    ("SETEX", "kn:e", "100", "v"), ("PSETEX", "kn:e", "100000", "v"), ("GETSET", "kn:s", "4"), ("INCR", "kn:n"),
    ("INCRBY", "kn:n", "5"), ("DECR", "kn:n"), ("INCRBYFLOAT", "kn:n", "1.5"), ("APPEND", "kn:a", "x"),
    ("APPEND", "kn:a", "y"), ("SETRANGE", "kn:r", "2", "ab"), ("SETRANGE", "kn:r", "0", ""), ("MSET", "kn:m1", "1", "kn:m2", "2"),
    ("MSETNX", "kn:m1", "1"), ("GETEX", "kn:s", "EX", "50"), ("GETEX", "kn:s", "PERSIST"), ("GETDEL", "kn:m2"),
    ("EXPIRE", "kn:m1", "100"), ("PERSIST", "kn:m1"), ("PEXPIREAT", "kn:m1", "1"), ("RENAME", "kn:s", "kn:t"),
    ("COPY", "kn:t", "kn:c"), ("MOVE", "kn:c", "3"), ("DEL", "kn:t", "kn:missing", "kn:a"), ("UNLINK", "kn:n"),
    ("HSET", "kn:h", "f", "1", "g", "2"), ("HSETNX", "kn:h", "f", "x"), ("HSETNX", "kn:h", "z", "x"),
    ("HINCRBY", "kn:h", "f", "2"), ("HINCRBYFLOAT", "kn:h", "f", "0.5"), ("HDEL", "kn:h", "f", "none"),
    ("HDEL", "kn:h", "g", "z"), ("SADD", "kn:x", "a", "b", "c"), ("SADD", "kn:x", "a"), ("SREM", "kn:x", "a"),
    ("SMOVE", "kn:x", "kn:y", "b"), ("SMOVE", "kn:x", "kn:y", "c"), ("SPOP", "kn:y"), ("SADD", "kn:z", "1", "2", "3"),
    ("SPOP", "kn:z", "1"), ("SPOP", "kn:z", "5"), ("SADD", "kn:p", "1", "2"), ("SADD", "kn:q", "2", "3"),
    ("SINTERSTORE", "kn:i", "kn:p", "kn:q"), ("SUNIONSTORE", "kn:u", "kn:p", "kn:q"), ("SDIFFSTORE", "kn:i", "kn:p", "kn:p"),
    ("SET", "kn:short", "v", "PX", "1"),
]


def keyspace_events_of(srv) -> list:
    """Every keyspace notification NOTIFY_SCRIPT causes (and the expiry of a short-lived key), in order."""
    with srv.connect() as admin, srv.connect() as sub:
        admin.command("FLUSHALL")
        admin.command("SELECT", "3")
        admin.command("FLUSHDB")
        admin.command("SELECT", "0")
        assert admin.command("CONFIG", "SET", "notify-keyspace-events", "KEA") == b"+OK\r\n"
        try:
            sub.command("PSUBSCRIBE", "__key*__:*")
            sub.command("SUBSCRIBE", "kn-end")
            for command in NOTIFY_SCRIPT:
                assert not parse(admin.command(*command)).is_error, command
            # The short-lived key expires when read after its time.
            wait_until(lambda: admin.command("EXISTS", "kn:short") == b":0\r\n", "kn:short to expire")
            admin.command("PUBLISH", "kn-end", "end")
            events = []
            while True:
                message = parse(sub.read_reply())
                items = [item.value for item in message.items]
                if items[0] == b"message":
                    return events
                events.append(tuple(items[2:]))
        finally:
            admin.command("CONFIG", "SET", "notify-keyspace-events", "")


def test_keyspace_notifications_match_redis(clone_module_server, reference_server):
    ours = keyspace_events_of(clone_module_server)
    assert (b"__keyevent@0__:expired", b"kn:short") in ours
    assert ours == keyspace_events_of(reference_server)


def test_notify_keyspace_events_config_as_redis(target):
    with target.connect() as conn:
        try:
            for given, shown in [("", b""), ("KEA", b"AKE"), ("Kg$", b"g$K"), ("Eg$lshzxetd", b"AE"), ("Elshzxetd", b"lshzxetdE"),
                                 ("Kn", b"nK"), ("mK", b"Km"), ("A", b"A"), ("EKx", b"xKE")]:
                assert conn.command("CONFIG", "SET", "notify-keyspace-events", given) == b"+OK\r\n"
                assert parse(conn.command("CONFIG", "GET", "notify-keyspace-events")).items[1].value == shown
            assert conn.command("CONFIG", "SET", "notify-keyspace-events", "Kq") == (
                b"-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class "
                b"character. Use 'Ag$lshzxeKEtmdn'.\r\n")
            # Classes without K or E publish nothing.
            conn.command("CONFIG", "SET", "notify-keyspace-events", "A")
            with target.connect() as sub:
                sub.command("PSUBSCRIBE", "*")
                conn.command("SET", "quiet-key", "v")
                assert conn.command("PUBLISH", "after", "x") == b":1\r\n"
                assert sub.read_reply() == push(2, b"pmessage", b"*", b"after", b"x")
        finally:
            conn.command("CONFIG", "SET", "notify-keyspace-events", "")
