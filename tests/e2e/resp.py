"""A tiny raw RESP client for the end-to-end tests.

It sends bytes exactly as given and reads back exactly one reply (RESP2 or RESP3) as the raw bytes the
server wrote, so tests can compare replies byte for byte. `parse()` additionally decodes a raw reply into
a small tree (`Reply`) for the few checks that need structure (sorted comparison, HELLO keys).

Every read has a timeout: a server that never answers makes the test fail, it never hangs it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

DEFAULT_TIMEOUT = 10.0


class RespError(Exception):
    """Malformed reply, timeout, or connection closed in the middle of a reply."""


class ConnectionClosed(RespError):
    """The server closed the connection (EOF) before a complete reply arrived."""


def encode_command(*args) -> bytes:
    """Encode a command as a RESP multibulk (what redis-cli and client libraries send)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


@dataclass
class Reply:
    """A decoded reply. `kind` is the RESP type byte (b'+', b'-', b':', b'$', b'*', b'%', ...)."""

    kind: bytes
    raw: bytes
    value: object = None  # bytes for simple/bulk/error/number types, None for nulls
    items: list = field(default_factory=list)  # elements of aggregates (maps: k1, v1, k2, v2, ...)

    @property
    def is_error(self) -> bool:
        return self.kind in (b"-", b"!")

    @property
    def is_aggregate(self) -> bool:
        return self.kind in (b"*", b"%", b"~", b">", b"|")

    def pairs(self):
        """Key/value pairs of a map (RESP3 %) or of a flat RESP2 array of alternating keys and values."""
        it = iter(self.items)
        return list(zip(it, it))


class RespConnection:
    """One TCP connection. `read_reply()` returns exactly one reply's raw bytes."""

    def __init__(self, host: str, port: int, timeout: float = DEFAULT_TIMEOUT, nodelay: bool = True):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.buf = bytearray()
        self.pos = 0

    # --- lifecycle -----------------------------------------------------------------------------
    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- sending -------------------------------------------------------------------------------
    def send(self, data: bytes):
        self.sock.sendall(data)

    def send_command(self, *args):
        self.send(encode_command(*args))

    def command(self, *args) -> bytes:
        """Send one command and return its raw reply."""
        self.send_command(*args)
        return self.read_reply()

    def call(self, *args) -> Reply:
        """Send one command and return its decoded reply."""
        return parse(self.command(*args))

    # --- receiving -----------------------------------------------------------------------------
    def _fill(self, deadline: float):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RespError(f"timed out after {self.timeout}s waiting for a reply; have {bytes(self.buf[self.pos:])[:200]!r}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise RespError(f"timed out after {self.timeout}s waiting for a reply; have {bytes(self.buf[self.pos:])[:200]!r}") from None
        except ConnectionResetError as e:
            raise ConnectionClosed(f"connection reset: {e}; have {bytes(self.buf[self.pos:])[:200]!r}") from None
        if not chunk:
            raise ConnectionClosed(f"connection closed by server; have {bytes(self.buf[self.pos:])[:200]!r}")
        self.buf += chunk

    def _line(self, deadline: float) -> bytes:
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos : i])
                self.pos = i + 2
                return line
            self._fill(deadline)

    def _exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) - self.pos < n:
            self._fill(deadline)
        data = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return data

    def read_reply(self, timeout: float | None = None) -> bytes:
        """Read exactly one complete reply and return its raw bytes."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        if self.pos and (self.pos == len(self.buf) or self.pos > (1 << 16)):  # drop consumed replies
            del self.buf[: self.pos]
            self.pos = 0
        start = self.pos
        self._read_one(deadline)
        raw = bytes(self.buf[start : self.pos])
        return raw

    def _read_one(self, deadline: float):
        line = self._line(deadline)
        if not line:
            raise RespError("empty reply line")
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-", b":", b",", b"#", b"(", b"_"):
            return
        if t in (b"$", b"!", b"="):
            n = _int(rest)
            if n < 0:  # RESP2 null bulk
                return
            self._exact(n, deadline)
            if self._exact(2, deadline) != b"\r\n":
                raise RespError("bulk string not terminated by CRLF")
            return
        if t in (b"*", b"~", b">"):
            n = _int(rest)
            for _ in range(max(n, 0)):
                self._read_one(deadline)
            return
        if t in (b"%", b"|"):
            n = _int(rest)
            for _ in range(2 * n):
                self._read_one(deadline)
            if t == b"|":  # an attribute precedes the actual reply
                self._read_one(deadline)
            return
        raise RespError(f"unknown reply type byte {t!r} in line {line!r}")

    def read_all_until_close(self, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        """Read whatever the server still sends until it closes the connection (deadline bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._fill(deadline)
            except ConnectionClosed:
                break
        data = bytes(self.buf[self.pos :])
        self.pos = len(self.buf)
        return data

    def is_closed_by_peer(self, timeout: float = DEFAULT_TIMEOUT) -> bool:
        """True when the server closes the connection (EOF or reset) within timeout without sending more."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(4096)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if chunk:
            self.buf += chunk
            return False
        return True


def _int(b: bytes) -> int:
    try:
        return int(b)
    except ValueError:
        raise RespError(f"bad length/integer {b!r}") from None


def parse(raw: bytes) -> Reply:
    """Decode one raw reply (as returned by read_reply) into a Reply tree."""
    reply, end = _parse_at(raw, 0)
    if end != len(raw):
        raise RespError(f"trailing bytes after reply: {raw[end:][:100]!r}")
    return reply


def _parse_at(raw: bytes, pos: int):
    i = raw.index(b"\r\n", pos)
    t, rest = raw[pos : pos + 1], raw[pos + 1 : i]
    nxt = i + 2
    if t in (b"+", b"-", b":", b",", b"#", b"("):
        return Reply(t, raw[pos:nxt], rest), nxt
    if t == b"_":
        return Reply(t, raw[pos:nxt], None), nxt
    if t in (b"$", b"!", b"="):
        n = int(rest)
        if n < 0:
            return Reply(t, raw[pos:nxt], None), nxt
        end = nxt + n + 2
        return Reply(t, raw[pos:end], raw[nxt : nxt + n]), end
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(rest)
        count = 2 * n if t in (b"%", b"|") else max(n, 0)
        items = []
        cur = nxt
        for _ in range(count):
            item, cur = _parse_at(raw, cur)
            items.append(item)
        if t == b"|":
            actual, cur = _parse_at(raw, cur)
            return actual, cur
        return Reply(t, raw[pos:cur], None if n < 0 else n, items), cur
    raise RespError(f"unknown reply type byte {t!r}")


def wait_for(predicate, timeout: float, interval: float = 0.01, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value or the deadline passes; returns the value.

    Bounded both in time and in number of polls. Raises AssertionError naming `what` on timeout.
    """
    deadline = time.monotonic() + timeout
    max_polls = int(timeout / interval) + 10
    last = None
    for _ in range(max_polls):
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value {last!r})")


# ---- small client-side helpers shared by the test files ---------------------------------------------

def value(conn: RespConnection, *args):
    """The decoded value of a reply (bytes, int, None), failing on an error reply."""
    reply = parse(conn.command(*args))
    assert not reply.is_error, (args[:3], reply.raw)
    if reply.kind == b":":
        return int(reply.value)
    return reply.value


def info_section(conn: RespConnection, section: str) -> dict:
    """INFO <section> as {field: text}."""
    text = value(conn, "INFO", section).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def wait_bgsave_done(conn: RespConnection, timeout: float = 60.0) -> dict:
    """INFO persistence once no background save runs (rdb_bgsave_in_progress:0)."""
    return wait_for(lambda: (lambda p: p if p["rdb_bgsave_in_progress"] == "0" else None)(
        info_section(conn, "persistence")), timeout, interval=0.02, what="rdb_bgsave_in_progress:0")


def wait_aof_on(conn: RespConnection, timeout: float = 60.0) -> dict:
    """INFO persistence once the AOF is on with no rewrite running or scheduled: the first base, or the
    base of a BGREWRITEAOF, is written."""
    def done():
        info = info_section(conn, "persistence")
        return (info.get("aof_enabled") == "1" and info.get("aof_rewrite_in_progress") == "0"
                and info.get("aof_rewrite_scheduled") == "0" and info)
    return wait_for(done, timeout, interval=0.02, what="aof_enabled:1 and no AOF rewrite running or scheduled")


def snapshot(conn: RespConnection, dbs=(0,)) -> dict:
    """Every key of the databases `dbs`: {(db, key): (value, has a TTL)}; database 0 is selected afterwards."""
    seen = {}
    for db in dbs:
        assert conn.command("SELECT", str(db)) == b"+OK\r\n"
        for key in parse(conn.command("KEYS", "*")).items:
            key = key.value
            seen[(db, key)] = (value(conn, "GET", key), value(conn, "PTTL", key) > 0)
    conn.command("SELECT", "0")
    return seen
