"""Hashes and sets through persistence, exchanged with Debian's redis-server 7.0 both ways: RDB files
(SAVE and BGSAVE) checked by redis-check-rdb, AOF directories with and without the RDB preamble checked by
redis-check-aof, and after each load the same contents, TTLs and OBJECT ENCODING as redis-server shows for
the same file. Also DEBUG OBJECT's serializedlength and MEMORY USAGE side by side with redis-server.

Every test also passes against redis-server itself (REDIS_CLONE_BIN=/usr/bin/redis-server).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REFERENCE_REDIS, binary_under_test, is_real_redis
from resp import RespConnection, encode_command, info_section, parse, value, wait_bgsave_done, wait_for

CHECK_RDB = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"
CHECK_AOF = shutil.which("redis-check-aof") or "/usr/bin/redis-check-aof"
DEADLINE = 60.0
DBS = (0, 5)
ITEMS_PER_COMMAND = 64  # Redis's AOF_REWRITE_ITEMS_PER_CMD
# Small limits for one side of an exchange (the pre-7.0 names, which both servers take as aliases).
SMALL_LIMITS = ("--hash-max-ziplist-entries", "4", "--hash-max-ziplist-value", "8", "--set-max-intset-entries", "4")


# ---- the dataset ------------------------------------------------------------------------------------

def pipelined(conn: RespConnection, commands):
    """Sends the commands in batches of 200, failing on any error reply."""
    commands = list(commands)
    for start in range(0, len(commands), 200):
        batch = commands[start:start + 200]
        conn.send(b"".join(encode_command(*c) for c in batch))
        for c in batch:
            reply = conn.read_reply()
            assert not reply.startswith(b"-"), (c[:3], reply)


def hset_in_chunks(key, fields: dict):
    items = list(fields.items())
    for start in range(0, len(items), 100):
        yield ["HSET", key, *[x for pair in items[start:start + 100] for x in pair]]


def sadd_in_chunks(key, members):
    members = list(members)
    for start in range(0, len(members), 100):
        yield ["SADD", key, *members[start:start + 100]]


def write_dataset(conn: RespConnection):
    """Hashes and sets of every encoding, small and big, with and without a TTL, in two databases."""
    commands = [
        ["HSET", "h:listpack", "name", "redis", "age", "15", "neg", "-7", "empty", "", "lead0", "007", b"\x00\xff", b"\r\n"],
        ["HSET", "h:long-value", "f", "x" * 100, "n", "1"],
        ["HSET", "h:ttl", "a", "1"], ["PEXPIRE", "h:ttl", "3600000"],
        ["HSET", "h:table-ttl", "a", "y" * 70], ["PEXPIRE", "h:table-ttl", "3600000"],
        ["HSET", "h:five", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"],
        ["HSET", "h:words", "alpha", "beta-gamma"],
        ["SADD", "s:intset", "1", "2", "-3", "100000", "9223372036854775807", "-9223372036854775808"],
        ["SADD", "s:words", "a", "b", "", b"\x00\xff"],
        ["SADD", "s:mixed", "1", "01", "x"],
        ["SADD", "s:ttl", "5"], ["PEXPIRE", "s:ttl", "3600000"],
        ["SADD", "s:table-ttl", "w"], ["PEXPIRE", "s:table-ttl", "3600000"],
        ["SADD", "s:five", "1", "2", "3", "4", "5"],
        ["SET", "string", "v"],
    ]
    commands += hset_in_chunks("h:600", {f"f{i}": str(i) for i in range(600)})
    commands += hset_in_chunks("h:big", {f"field:{i}": (f"value-{i}" if i % 3 else str(i)) for i in range(20000)})
    commands += sadd_in_chunks("s:600", (str(i * 3) for i in range(600)))
    commands += sadd_in_chunks("s:big", (f"member:{i}" for i in range(20000)))
    commands += [["PEXPIRE", "h:big", "3600000"]]
    pipelined(conn, commands)
    assert conn.command("SELECT", "5") == b"+OK\r\n"
    pipelined(conn, [["HSET", "h5", "k", "v"], ["SADD", "s5", "7", "8"], ["SADD", "s5w", "seven"]])
    assert conn.command("SELECT", "0") == b"+OK\r\n"


def pairs(items) -> dict:
    return {items[i].value: items[i + 1].value for i in range(0, len(items), 2)}


def dataset(conn: RespConnection) -> dict:
    """{(db, key): (type, encoding, contents, has a TTL)} for every key of DBS."""
    seen = {}
    for db in DBS:
        assert conn.command("SELECT", str(db)) == b"+OK\r\n"
        for item in parse(conn.command("KEYS", "*")).items:
            key = item.value
            kind = value(conn, "TYPE", key)
            if kind == b"hash":
                contents = pairs(parse(conn.command("HGETALL", key)).items)
            elif kind == b"set":
                contents = frozenset(m.value for m in parse(conn.command("SMEMBERS", key)).items)
            else:
                contents = value(conn, "GET", key)
            seen[(db, key)] = (kind, value(conn, "OBJECT", "ENCODING", key), contents, value(conn, "PTTL", key) > 0)
    conn.command("SELECT", "0")
    return seen


def encodings(snapshot: dict) -> dict:
    return {key: entry[1] for key, entry in snapshot.items()}


# ---- servers and files ------------------------------------------------------------------------------

def start_in(start_server, directory: Path, *extra, binary: str | None = None):
    return start_server(["--dir", str(directory), *extra], binary=binary)


def check_rdb(path: Path):
    r = subprocess.run([CHECK_RDB, str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "RDB looks OK" in r.stdout, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])


def check_aof(directory: Path):
    manifest = directory / "appendonlydir" / "appendonly.aof.manifest"
    r = subprocess.run([CHECK_AOF, str(manifest)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "valid" in r.stdout, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])


def saved_by(start_server, directory: Path, how: str, *limits, binary=None) -> dict:
    """Writes the dataset into a server started in `directory`, saves it with SAVE or BGSAVE, stops it and
    returns what it held."""
    srv = start_in(start_server, directory, *limits, binary=binary)
    with srv.connect() as c:
        write_dataset(c)
        before = dataset(c)
        if how == "SAVE":
            assert c.command("SAVE") == b"+OK\r\n"
        else:
            assert c.command("BGSAVE") == b"+Background saving started\r\n"
            assert wait_bgsave_done(c)["rdb_last_bgsave_status"] == "ok"
    assert srv.terminate_and_wait() == 0
    return before


def loaded_by(start_server, directory: Path, *limits, binary=None, extra=()) -> dict:
    srv = start_in(start_server, directory, *limits, *extra, binary=binary)
    with srv.connect() as c:
        after = dataset(c)
    assert srv.terminate_and_wait() == 0
    return after


# ---- RDB --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["SAVE", "BGSAVE"])
def test_redis_loads_our_rdb_with_the_same_contents_and_encodings(start_server, tmp_path, how):
    before = saved_by(start_server, tmp_path, how)
    assert encodings(before)[(0, b"h:listpack")] == b"listpack"
    assert encodings(before)[(0, b"h:600")] == b"hashtable"
    assert encodings(before)[(0, b"s:intset")] == b"intset"
    assert encodings(before)[(0, b"s:words")] == b"hashtable"
    check_rdb(tmp_path / "dump.rdb")
    assert loaded_by(start_server, tmp_path, binary=REFERENCE_REDIS) == before
    assert loaded_by(start_server, tmp_path) == before


# (limits of the server that saves, limits of the server that loads)
LIMIT_PAIRS = {
    "defaults": ((), ()),
    "small-saver": (SMALL_LIMITS, ()),    # plain HASH/SET records that the loader makes compact again
    "small-loader": ((), SMALL_LIMITS),   # listpacks and intsets over the loader's limits: converted
}


@pytest.mark.parametrize("limits", LIMIT_PAIRS.values(), ids=LIMIT_PAIRS.keys())
def test_we_load_redis_rdb_as_redis_does(start_server, tmp_path, limits):
    saver_limits, loader_limits = limits
    before = saved_by(start_server, tmp_path, "SAVE", *saver_limits, binary=REFERENCE_REDIS)
    reference = loaded_by(start_server, tmp_path, *loader_limits, binary=REFERENCE_REDIS)
    ours = loaded_by(start_server, tmp_path, *loader_limits)
    assert ours == reference
    # The contents never change, only the encodings may.
    assert {k: (v[0], v[2], v[3]) for k, v in ours.items()} == {k: (v[0], v[2], v[3]) for k, v in before.items()}
    if limits[1]:
        assert encodings(ours)[(0, b"h:five")] == b"hashtable"
        assert encodings(ours)[(0, b"s:five")] == b"hashtable"
        assert encodings(ours)[(0, b"h:words")] == b"listpack"  # a listpack is converted by its count only
    if limits[0]:
        assert encodings(ours)[(0, b"h:five")] == b"listpack"
        assert encodings(ours)[(0, b"s:five")] == b"intset"


def test_our_rdb_under_small_limits_loads_in_redis_as_redis_would(start_server, tmp_path):
    """Files we write with plain HASH/SET records (tables) reload compact where Redis reloads them so."""
    saved_by(start_server, tmp_path, "SAVE", *SMALL_LIMITS)
    check_rdb(tmp_path / "dump.rdb")
    assert loaded_by(start_server, tmp_path) == loaded_by(start_server, tmp_path, binary=REFERENCE_REDIS)


# ---- AOF --------------------------------------------------------------------------------------------

def aof_directory_by(start_server, directory: Path, preamble: str, binary=None) -> dict:
    """The dataset written with the AOF on, then rewritten (BGREWRITEAOF), and a few writes after it."""
    srv = start_in(start_server, directory, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble, binary=binary)
    with srv.connect() as c:
        write_dataset(c)
        manifest = directory / "appendonlydir" / "appendonly.aof.manifest"
        old = manifest.read_text()
        assert c.command("BGREWRITEAOF").startswith(b"+")
        wait_for(lambda: manifest.read_text() != old and info_section(c, "persistence")["aof_rewrite_in_progress"]
                 == "0", DEADLINE, interval=0.02, what="AOF rewrite done")
        pipelined(c, [["HSET", "h:after", "f", "v"], ["SADD", "s:after", "1"], ["HSET", "h:listpack", "name", "x"]])
        before = dataset(c)
    assert srv.terminate_and_wait() == 0
    check_aof(directory)
    return before


def base_commands(directory: Path) -> list:
    """The commands of the AOF base file (one without the RDB preamble), as lists of bytes."""
    manifest = (directory / "appendonlydir" / "appendonly.aof.manifest").read_text()
    name = next(line.split()[1] for line in manifest.splitlines() if line.endswith("type b"))
    raw = (directory / "appendonlydir" / name).read_bytes()
    commands, pos = [], 0
    while pos < len(raw):  # *<n>, then n times $<size> and the bytes
        end = raw.index(b"\r\n", pos)
        count, pos, argv = int(raw[pos + 1:end]), end + 2, []
        for _ in range(count):
            end = raw.index(b"\r\n", pos)
            size = int(raw[pos + 1:end])
            argv.append(raw[end + 2:end + 2 + size])
            pos = end + 4 + size
        commands.append(argv)
    return commands


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_replays_our_aof_directory(start_server, tmp_path, preamble):
    before = aof_directory_by(start_server, tmp_path, preamble)
    if preamble == "no":
        commands = base_commands(tmp_path)
        for c in commands:
            if c[0] in (b"HSET", b"HMSET"):
                assert 1 <= (len(c) - 2) // 2 <= ITEMS_PER_COMMAND and len(c) % 2 == 0
            if c[0] == b"SADD":
                assert 1 <= len(c) - 2 <= ITEMS_PER_COMMAND
        assert sum(1 for c in commands if c[:2] in ([b"HSET", b"h:big"], [b"HMSET", b"h:big"])) == 20000 // 64 + 1
        assert [b"h:big", b"h:table-ttl", b"h:ttl", b"s:table-ttl", b"s:ttl"] == sorted(
            c[1] for c in commands if c[0] == b"PEXPIREAT")
    assert loaded_by(start_server, tmp_path, binary=REFERENCE_REDIS, extra=("--appendonly", "yes")) == before
    assert loaded_by(start_server, tmp_path, extra=("--appendonly", "yes")) == before


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_we_replay_redis_aof_directory(start_server, tmp_path, preamble):
    before = aof_directory_by(start_server, tmp_path, preamble, binary=REFERENCE_REDIS)
    assert loaded_by(start_server, tmp_path, extra=("--appendonly", "yes")) == before


# ---- introspection ----------------------------------------------------------------------------------

def test_debug_object_serializedlength_and_memory_usage_beside_redis(start_server, tmp_path):
    (tmp_path / "redis").mkdir()
    (tmp_path / "ours").mkdir()
    # Our serializedlength leaves LZF out; Redis's counts it unless rdbcompression is off.
    redis = start_in(start_server, tmp_path / "redis", "--enable-debug-command", "yes", "--rdbcompression", "no",
                     binary=REFERENCE_REDIS)
    ours = start_in(start_server, tmp_path / "ours", "--rdbcompression", "no",
                    *(("--enable-debug-command", "yes") if is_real_redis(binary_under_test()) else ()))
    keys = ["h:listpack", "h:five", "h:long-value", "h:600", "h:big", "s:intset", "s:words", "s:mixed", "s:five",
            "s:600", "s:big"]
    found = {}
    for srv in (redis, ours):
        with srv.connect() as c:
            write_dataset(c)
            found[srv] = {}
            for key in keys:
                debug = value(c, "DEBUG", "OBJECT", key).decode()
                length = int(debug.split("serializedlength:")[1].split()[0])
                found[srv][key] = (length, value(c, "MEMORY", "USAGE", key))
    for key in keys:
        (their_length, their_memory), (our_length, our_memory) = found[redis][key], found[ours][key]
        assert our_length == their_length, key
        # Not the same allocator: within a factor of two of Redis's figure for either encoding.
        assert their_memory / 2 <= our_memory <= their_memory * 2, (key, our_memory, their_memory)
