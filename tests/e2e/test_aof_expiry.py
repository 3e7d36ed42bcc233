"""Expired keys and the append-only file: a key that lazy or active expiry removes must be removed from the
log too (Redis logs DEL, or UNLINK with lazyfree-lazy-expire yes), or the replay, whose clock stands still
while it loads, brings the old key back and applies the later writes to it: INCR on an expired counter
gives 1, but the replayed INCR adds 1 to the old value and keeps its past deadline, so the key is gone
after the restart.

Each test runs against the binary under test and Debian's redis-server 7.0, each in its own directory with
--appendonly yes --appendfsync always --save '': writes after lazy expiry, after active expiry, and
clients writing to keys with short times to live until SIGKILL (with and without a BGREWRITEAOF), checked
against a model of every acknowledged reply. The last test has redis-server replay our log.
"""

from __future__ import annotations

import random
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REFERENCE_REDIS, ServerProcess, binary_under_test, is_real_redis
from resp import RespConnection, RespError, info_section, parse, snapshot, value, wait_aof_on, wait_for

DEADLINE = 20.0
OK = b"+OK\r\n"
NOT_INTEGER = b"-ERR value is not an integer or out of range\r\n"
REWRITE_STARTED = b"+Background append only file rewriting started\r\n"
SERVERS = pytest.mark.parametrize("binary", [None, REFERENCE_REDIS], ids=["under-test", "redis-server"])


def start_logged(start_server, directory: Path, binary: str | None, *extra) -> ServerProcess:
    """A server on `directory` that logs every write, fsynced before its reply. Redis 7.0 refuses DEBUG
    unless enable-debug-command allows it."""
    debug = ["--enable-debug-command", "local"] if is_real_redis(binary or binary_under_test()) else []
    return start_server(["--dir", str(directory), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                         *debug, *extra], binary=binary)


def expired_keys(conn: RespConnection) -> int:
    return int(info_section(conn, "stats")["expired_keys"])


def wait_rewrite_finished(conn: RespConnection):
    assert wait_aof_on(conn, DEADLINE)["aof_last_bgrewrite_status"] == "ok"


# ---- writes to keys that expired ---------------------------------------------------------------------

def set_expiring(conn: RespConnection, prefix: str):
    """Four keys that live 100 ms (a counter, a text, a text to overwrite in part, one for SET NX)."""
    for name, old in (("c", "10"), ("a", "x"), ("r", "hello"), ("n", "old")):
        assert conn.command("SET", prefix + name, old, "PX", "100") == OK


def write_after_expiry(conn: RespConnection, prefix: str) -> dict:
    """Writes to the keys of set_expiring once they are gone; returns what they hold now (for snapshot)."""
    assert conn.command("INCR", prefix + "c") == b":1\r\n"
    assert conn.command("APPEND", prefix + "a", "y") == b":1\r\n"
    assert conn.command("SETRANGE", prefix + "r", "1", "i") == b":2\r\n"
    assert conn.command("SET", prefix + "n", "new", "NX") == OK
    return {(0, (prefix + name).encode()): (new, False)
            for name, new in (("c", b"1"), ("a", b"y"), ("r", b"\x00i"), ("n", b"new"))}


def expire_lazily(conn: RespConnection, prefix: str):
    """set_expiring with the active expiry pass off, then wait until the keys have run out, touching only
    a key set after them ("clock"): once it has expired, so have they, and nothing has removed them yet."""
    assert conn.command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == OK
    set_expiring(conn, prefix)
    assert conn.command("SET", prefix + "clock", "-", "PX", "100") == OK
    wait_for(lambda: value(conn, "EXISTS", prefix + "clock") == 0, DEADLINE, what="the clock key expired")


def expire_actively(conn: RespConnection, prefixes: list[str]):
    """set_expiring for each prefix, then wait, reading only DBSIZE, until the active pass has removed them."""
    before = value(conn, "DBSIZE")
    for prefix in prefixes:
        set_expiring(conn, prefix)
    wait_for(lambda: value(conn, "DBSIZE") == before, DEADLINE, interval=0.02, what="the active expiry pass")


@SERVERS
def test_writes_after_lazy_expiry_survive_a_restart(start_server, tmp_path, binary):
    srv = start_logged(start_server, tmp_path, binary)
    with srv.connect() as c:
        expire_lazily(c, "")
        assert expired_keys(c) == 1  # the clock: the four keys are still there, expired
        expected = write_after_expiry(c, "")
        assert expired_keys(c) == 5  # each write found its key expired
        assert snapshot(c) == expected
    assert srv.terminate_and_wait() == 0
    srv = start_logged(start_server, tmp_path, binary)
    with srv.connect() as c:
        assert snapshot(c) == expected


@SERVERS
def test_writes_after_active_expiry_survive_a_restart(start_server, tmp_path, binary):
    srv = start_logged(start_server, tmp_path, binary)
    prefixes = [f"g{i}:" for i in range(10)]
    with srv.connect() as c:
        assert c.command("SET", "kept", "v") == OK
        expire_actively(c, prefixes)
        assert expired_keys(c) == 4 * len(prefixes)
        expected = {(0, b"kept"): (b"v", False)}
        for prefix in prefixes:
            expected.update(write_after_expiry(c, prefix))
        assert expired_keys(c) == 4 * len(prefixes)  # removed before the writes: nothing left to expire
        assert snapshot(c) == expected
    assert srv.terminate_and_wait() == 0
    srv = start_logged(start_server, tmp_path, binary)
    with srv.connect() as c:
        assert snapshot(c) == expected


# ---- a model of each key, from the replies -------------------------------------------------------------

MARGIN = 0.05  # seconds of slack around a deadline (millisecond clocks, GET and PTTL not at the same instant)


@dataclass(frozen=True)
class KeyState:
    """What a key holds: its value (None: no key) and, with a time to live, the window (wall-clock seconds)
    its deadline lies in, as the server computed it at some moment between the request and the reply."""

    value: bytes | None = None
    deadline: tuple[float, float] | None = None


def redis_int(text: bytes) -> int | None:
    """The integer INCR reads from a value, as Redis's string2ll: no '+', no leading zero, 64 bits."""
    if not re.fullmatch(rb"-?[1-9][0-9]*|0", text):
        return None
    n = int(text)
    return n if -(2**63) <= n < 2**63 else None


def apply_command(cmd: tuple, current: KeyState, sent: float, replied: float) -> tuple[bytes, KeyState]:
    """The reply to `cmd` and the key afterwards, on a key holding `current` (which has not expired)."""
    name, _key, *args = cmd
    if name == "SET":
        ttl = int(args[2]) / 1000 if len(args) > 1 else None
        return OK, KeyState(args[0].encode(), None if ttl is None else (sent + ttl, replied + ttl))
    old = current.value or b""
    if name == "INCR":
        n = redis_int(old) if current.value is not None else 0
        if n is None or n == 2**63 - 1:
            return NOT_INTEGER, current
        return b":%d\r\n" % (n + 1), KeyState(b"%d" % (n + 1), current.deadline)
    if name == "APPEND":
        new = old + args[0].encode()
    else:  # SETRANGE key offset piece
        offset, piece = int(args[0]), args[1].encode()
        padded = old.ljust(offset, b"\0")
        new = padded[:offset] + piece + padded[offset + len(piece):]
    return b":%d\r\n" % len(new), KeyState(new, current.deadline)


def outcomes(cmd: tuple, state: KeyState, sent: float, replied: float) -> dict[str, tuple[bytes, KeyState]]:
    """Every (reply, key afterwards) possible: on the key as it is ("live"), and on no key ("gone"), which
    is what a key with a deadline holds once that has passed."""
    out = {}
    if state.value is not None:
        out["live"] = apply_command(cmd, state, sent, replied)
    if state.value is None or state.deadline is not None:
        out["gone"] = apply_command(cmd, KeyState(), sent, replied)
    return out


def consistent(state: KeyState, got: bytes | None, pttl: int, before: float, after: float) -> bool:
    """Whether GET and PTTL, read between `before` and `after`, agree with `state` (a key whose deadline
    may have passed in between is allowed either way)."""
    if state.value is None:
        return got is None
    if state.deadline is None:
        return got == state.value and pttl == -1
    lo, hi = state.deadline
    if before > hi + MARGIN:
        return got is None
    if after < lo - MARGIN:
        return got == state.value and pttl > 0
    return got in (None, state.value)


KEYS_PER_WRITER = 12
MAX_COMMANDS = 3000  # per writer


class Writer:
    """One connection writing to keys of its own, so that each key's acknowledged writes come in the order
    they were made; it keeps each key's state from the replies (which tell whether the key had expired)."""

    def __init__(self, srv: ServerProcess, index: int, seed: int):
        self.srv = srv
        self.rng = random.Random(seed)
        self.model = {f"w{index}:{j}": KeyState() for j in range(KEYS_PER_WRITER)}
        self.pending = None  # (key, command, sent): no reply yet
        self.acknowledged = 0
        self.revived = 0  # acknowledged INCR/APPEND/SETRANGE that found their key expired
        self.error = None

    def next_command(self, key: str) -> tuple:
        rng, r = self.rng, self.rng.random()
        number = str(rng.randint(100, 999))
        if r < 0.35:
            return ("SET", key, number, "PX", str(rng.choice([1, 2, 5, 10, 20, 50, 100])))
        if r < 0.45:
            return ("SET", key, number, "PX", "600000")
        if r < 0.55:
            return ("SET", key, number)
        if r < 0.75:
            return ("INCR", key)
        if r < 0.9:
            return ("APPEND", key, rng.choice(["7", "42", "x", "yz"]))
        return ("SETRANGE", key, "1", rng.choice(["Z", "5"]))

    def record(self, reply: bytes, replied: float):
        key, cmd, sent = self.pending
        possible = outcomes(cmd, self.model[key], sent, replied)
        matching = {label: state for label, (expected, state) in possible.items() if expected == reply}
        if len(set(matching.values())) != 1:
            raise AssertionError(f"{cmd} on {self.model[key]}: reply {reply!r}, the model allows {possible}")
        if cmd[0] != "SET" and list(matching) == ["gone"] and self.model[key].value is not None:
            self.revived += 1
        self.model[key] = next(iter(matching.values()))
        self.pending = None
        self.acknowledged += 1

    def run(self, stop: threading.Event):
        try:
            with self.srv.connect() as c:
                for _ in range(MAX_COMMANDS):
                    if stop.is_set():
                        return
                    key = self.rng.choice(list(self.model))
                    self.pending = (key, self.next_command(key), time.time())
                    reply = c.command(*self.pending[1])
                    self.record(reply, time.time())
        except (OSError, RespError):
            pass  # the server was killed under us: the command in flight may or may not have run
        except Exception as e:  # reported by the test
            self.error = e

    def acceptable(self, killed_at: float) -> dict[str, list[KeyState]]:
        """Each key's possible states after the crash: the acknowledged one, and for the key of the command
        in flight, also each state that command could have left."""
        allowed = {key: [state] for key, state in self.model.items()}
        if self.pending:
            key, cmd, sent = self.pending
            allowed[key] += [state for _, state in outcomes(cmd, self.model[key], sent, killed_at).values()]
        return allowed


def wait_revived(writers: list[Writer], threads: list[threading.Thread], count: int):
    """Until the writers have had `count` writes to expired keys acknowledged (or have stopped)."""
    wait_for(lambda: sum(w.revived for w in writers) >= count or not any(t.is_alive() for t in threads), DEADLINE,
             what=f"{count} writes to expired keys acknowledged")
    assert [w.error for w in writers if w.error] == []
    assert sum(w.revived for w in writers) >= count, f"the writers stopped after {MAX_COMMANDS} commands each"


def check_model(conn: RespConnection, writers: list[Writer], killed_at: float, other_keys: set) -> list[str]:
    """Every writer key that disagrees with what was acknowledged, and every key no one wrote."""
    problems = [f"writer {i}: {w.error!r}" for i, w in enumerate(writers) if w.error]
    expected_keys = set()
    for w in writers:
        for key, states in w.acceptable(killed_at).items():
            expected_keys.add(key.encode())
            before = time.time()
            got, pttl = value(conn, "GET", key), value(conn, "PTTL", key)
            if not any(consistent(state, got, pttl, before, time.time()) for state in states):
                problems.append(f"{key}: {got!r} (PTTL {pttl}), acknowledged {states}")
    stray = {item.value for item in parse(conn.command("KEYS", "*")).items} - expected_keys - other_keys
    return problems + [f"unexpected key {key!r}" for key in sorted(stray)]


# ---- SIGKILL under load ----------------------------------------------------------------------------------

WRITERS = 4
SEED = 20240607
PRELOAD = 5000  # keys without a time to live, for the rewrite to write out


def preload(conn: RespConnection):
    for start in range(0, PRELOAD, 1000):
        assert conn.command("MSET", *[x for i in range(start, start + 1000) for x in (f"bulk{i}", str(i))]) == OK


def crash_under_load(start_server, directory: Path, binary: str | None, rewrite: str | None = None,
                     slow_rewrite=()) -> tuple[list[Writer], float]:
    """Writers at work until SIGKILL; with `rewrite` ("during" or "after"), a BGREWRITEAOF in the middle, and
    the kill either while it may still run or once it has finished and more writes were acknowledged."""
    srv = start_logged(start_server, directory, binary, *slow_rewrite)
    if rewrite:
        with srv.connect() as c:
            preload(c)
    writers = [Writer(srv, n, SEED + n) for n in range(WRITERS)]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,)) for w in writers]
    for t in threads:
        t.start()
    try:
        wait_revived(writers, threads, 40)
        if rewrite:
            with srv.connect() as c:
                assert c.command("BGREWRITEAOF") == REWRITE_STARTED
                if rewrite == "after":
                    wait_rewrite_finished(c)
            wait_revived(writers, threads, 80 if rewrite == "after" else 50)
        srv.terminate_and_wait(timeout=DEADLINE, sig=signal.SIGKILL)
        killed_at = time.time()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=DEADLINE)
    if rewrite:
        manifest = (directory / "appendonlydir" / "appendonly.aof.manifest").read_text()
        print(f"killed {'during' if manifest.count('type i') > 1 else 'after'} the rewrite")
    print(f"{sum(w.acknowledged for w in writers)} writes acknowledged, "
          f"{sum(w.revived for w in writers)} of them to expired keys")
    return writers, killed_at


@SERVERS
def test_sigkill_keeps_writes_to_expired_keys(start_server, tmp_path, binary):
    writers, killed_at = crash_under_load(start_server, tmp_path, binary)
    srv = start_logged(start_server, tmp_path, binary)
    with srv.connect() as c:
        assert check_model(c, writers, killed_at, set()) == []


@SERVERS
@pytest.mark.parametrize("rewrite", ["during", "after"])
def test_sigkill_around_bgrewriteaof_keeps_writes_to_expired_keys(start_server, tmp_path, monkeypatch, binary,
                                                                  rewrite):
    slow = ()
    if rewrite == "during":  # 200 us per key: a rewrite of about a second
        if is_real_redis(binary or binary_under_test()):
            slow = ("--rdb-key-save-delay", "200")
        else:
            monkeypatch.setenv("REDIS_CLONE_RDB_KEY_SAVE_DELAY_US", "200")
    writers, killed_at = crash_under_load(start_server, tmp_path, binary, rewrite, slow)
    monkeypatch.delenv("REDIS_CLONE_RDB_KEY_SAVE_DELAY_US", raising=False)
    srv = start_logged(start_server, tmp_path, binary)
    with srv.connect() as c:
        bulk = [f"bulk{i}" for i in range(PRELOAD)]
        assert [item.value for item in parse(c.command("MGET", *bulk)).items] == \
            [str(i).encode() for i in range(PRELOAD)]
        assert check_model(c, writers, killed_at, {key.encode() for key in bulk}) == []


# ---- redis-server replays our log ------------------------------------------------------------------------

@pytest.mark.clone_only
def test_redis_replays_our_log_after_expiries(start_server, tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    srv = start_logged(start_server, ours, None, "--aof-use-rdb-preamble", "no")
    with srv.connect() as c:
        assert c.command("SET", "kept", "v") == OK
        assert c.command("SET", "long", "l", "PX", "600000") == OK
        assert c.command("BGREWRITEAOF") == REWRITE_STARTED  # a base of commands, then the rest
        wait_rewrite_finished(c)
        expected = {(0, b"kept"): (b"v", False), (0, b"long"): (b"l", True)}
        expire_lazily(c, "lazy:")
        expected.update(write_after_expiry(c, "lazy:"))
        assert c.command("DEBUG", "SET-ACTIVE-EXPIRE", "1") == OK
        expire_actively(c, ["active:"])
        expected.update(write_after_expiry(c, "active:"))
        assert c.command("SET", "left", "to expire", "PX", "50") == OK  # nothing writes to it again
        wait_for(lambda: value(c, "DBSIZE") == len(expected), DEADLINE, interval=0.02, what="the left key expired")
        ours_before_stop = snapshot(c)
        assert ours_before_stop == expected
    assert srv.terminate_and_wait() == 0
    manifest = (ours / "appendonlydir" / "appendonly.aof.manifest").read_text()
    assert ".base.aof" in manifest, manifest
    shutil.copytree(ours / "appendonlydir", theirs / "appendonlydir")
    redis = start_server(["--dir", str(theirs), "--appendonly", "yes"], binary=REFERENCE_REDIS)
    with redis.connect() as c:
        assert snapshot(c) == ours_before_stop
