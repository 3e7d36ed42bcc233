"""Lists through persistence, exchanged with Debian's redis-server 7.0 both ways: RDB files (SAVE and
BGSAVE, LIST_QUICKLIST_2 with plain and LZF-compressed nodes) checked by redis-check-rdb, AOF directories
with and without the RDB preamble checked by redis-check-aof, and the list types older Redis versions wrote
(LIST, LIST_ZIPLIST, LIST_QUICKLIST), loaded as redis-server loads them. After each load the same elements,
TTLs and OBJECT ENCODING as redis-server shows for the same file; corrupt list blobs fail the load.

Every test also passes against redis-server itself (REDIS_CLONE_BIN=/usr/bin/redis-server).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from conftest import REFERENCE_REDIS, ServerProcess, binary_under_test, free_port, is_real_redis
from resp import RespConnection, info_section, parse, value, wait_bgsave_done, wait_for
from test_aggregate_persistence import DEADLINE, ITEMS_PER_COMMAND, base_commands, check_aof, check_rdb, pipelined, \
    start_in

# Node options of the saving or loading side: the defaults, LZF-compressed inner nodes, small count-limited
# nodes (the pre-7.0 name of list-max-listpack-size, which both servers take as an alias).
OPTIONS = {
    "defaults": (),
    "compressed": ("--list-compress-depth", "1"),
    "count-5": ("--list-max-ziplist-size", "5", "--list-compress-depth", "2"),
}


def rpush_in_chunks(key, elements):
    elements = list(elements)
    for start in range(0, len(elements), 100):
        yield ["RPUSH", key, *elements[start:start + 100]]


def write_dataset(conn: RespConnection):
    """Lists small and big, of integers, text, binary and long elements, with and without a TTL, in two
    databases."""
    commands = [
        ["RPUSH", "l:small", "a", "1", "-7", "", "007", "9223372036854775807", "-9223372036854775808", b"\x00\xff",
         b"\r\n"],
        ["LPUSH", "l:ttl", "x"], ["PEXPIRE", "l:ttl", "3600000"],
        ["RPUSH", "l:long", "y" * 10000, "short", "z" * 20000],
        ["SET", "string", "v"],
    ]
    commands += rpush_in_chunks("l:big", (f"element:{i % 50}" if i % 3 else str(i) for i in range(20000)))
    commands += rpush_in_chunks("l:repetitive", ("abcabcabc" * 10 for _ in range(3000)))
    commands += [["PEXPIRE", "l:big", "3600000"]]
    pipelined(conn, commands)
    assert conn.command("SELECT", "5") == b"+OK\r\n"
    pipelined(conn, [["RPUSH", "l5", "k", "v"]])
    assert conn.command("SELECT", "0") == b"+OK\r\n"


def dataset(conn: RespConnection) -> dict:
    """{(db, key): (type, encoding, contents, has a TTL)} for every key of databases 0 and 5."""
    seen = {}
    for db in (0, 5):
        assert conn.command("SELECT", str(db)) == b"+OK\r\n"
        for item in parse(conn.command("KEYS", "*")).items:
            key = item.value
            kind = value(conn, "TYPE", key)
            if kind == b"list":
                contents = tuple(e.value for e in parse(conn.command("LRANGE", key, "0", "-1")).items)
            else:
                contents = value(conn, "GET", key)
            seen[(db, key)] = (kind, value(conn, "OBJECT", "ENCODING", key), contents, value(conn, "PTTL", key) > 0)
    conn.command("SELECT", "0")
    return seen


def saved_by(start_server, directory: Path, how: str, *options, binary=None) -> dict:
    srv = start_in(start_server, directory, *options, binary=binary)
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


def loaded_by(start_server, directory: Path, *options, binary=None) -> dict:
    srv = start_in(start_server, directory, *options, binary=binary)
    with srv.connect() as c:
        after = dataset(c)
    assert srv.terminate_and_wait() == 0
    return after


def check_dataset(snapshot: dict):
    assert snapshot[(0, b"l:big")][2][:4] == (b"0", b"element:1", b"element:2", b"3")
    assert len(snapshot[(0, b"l:big")][2]) == 20000
    assert snapshot[(0, b"l:big")][3] and snapshot[(0, b"l:ttl")][3]
    assert {entry[1] for key, entry in snapshot.items() if entry[0] == b"list"} == {b"quicklist"}


# ---- RDB --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
@pytest.mark.parametrize("how", ["SAVE", "BGSAVE"])
def test_redis_loads_our_rdb_with_the_same_lists(start_server, tmp_path, how, options):
    before = saved_by(start_server, tmp_path, how, *options)
    check_dataset(before)
    check_rdb(tmp_path / "dump.rdb")
    assert loaded_by(start_server, tmp_path, binary=REFERENCE_REDIS) == before
    assert loaded_by(start_server, tmp_path) == before


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_we_load_redis_rdb_as_redis_does(start_server, tmp_path, options):
    before = saved_by(start_server, tmp_path, "SAVE", *options, binary=REFERENCE_REDIS)
    ours = loaded_by(start_server, tmp_path, *options)
    assert ours == before
    assert ours == loaded_by(start_server, tmp_path, *options, binary=REFERENCE_REDIS)


def test_compressed_nodes_are_saved_as_their_lzf_blocks(start_server, tmp_path):
    """With rdbcompression off, only nodes the list keeps compressed can make the file smaller than the
    listpacks: both servers must write those blocks as they hold them."""
    sizes = {}
    for name, binary in (("redis", REFERENCE_REDIS), ("ours", None)):
        directory = tmp_path / name
        directory.mkdir()
        srv = start_in(start_server, directory, "--list-compress-depth", "1", "--rdbcompression", "no", binary=binary)
        with srv.connect() as c:
            pipelined(c, list(rpush_in_chunks("l", ("abcabcabc" * 10 for _ in range(3000)))))
            assert c.command("SAVE") == b"+OK\r\n"
        assert srv.terminate_and_wait() == 0
        check_rdb(directory / "dump.rdb")
        sizes[name] = (directory / "dump.rdb").stat().st_size
    assert sizes["ours"] < 3000 * 90 / 4  # the LZF blocks, not the 270 KB of listpacks
    assert abs(sizes["ours"] - sizes["redis"]) < sizes["redis"] / 10


# ---- the list types of older RDB versions -----------------------------------------------------------

def rdb_length(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + struct.pack(">I", n)


def rdb_string(data: bytes) -> bytes:
    return rdb_length(len(data)) + data


def ziplist(elements: list) -> bytes:
    """A ziplist as Redis 2.6 to 6.2 wrote it: integers in the int8/int16/int64 encodings, strings under
    64 bytes with a 6-bit length."""
    entries, previous = [], 0
    for element in elements:
        if isinstance(element, int):
            if -128 <= element <= 127:
                body = b"\xfe" + struct.pack("<b", element)
            elif -32768 <= element <= 32767:
                body = b"\xc0" + struct.pack("<h", element)
            else:
                body = b"\xe0" + struct.pack("<q", element)
        else:
            assert len(element) < 64
            body = bytes([len(element)]) + element
        prevlen = bytes([previous]) if previous < 254 else b"\xfe" + struct.pack("<I", previous)
        entry = prevlen + body
        entries.append(entry)
        previous = len(entry)
    data = b"".join(entries)
    header_size = 10
    tail = header_size + len(data) - (len(entries[-1]) if entries else 0)
    return struct.pack("<IIH", header_size + len(data) + 1, tail, len(entries)) + data + b"\xff"


def legacy_rdb(records: list) -> bytes:
    """A version 6 RDB file of (type, key, value bytes) records, with a zero checksum (not checked)."""
    body = b"REDIS0006" + b"\xfe\x00"
    for kind, key, payload in records:
        body += bytes([kind]) + rdb_string(key) + payload
    return body + b"\xff" + b"\x00" * 8


ELEMENTS = [b"a", 1, -300, 123456789012, b"", b"007", b"x" * 40]
AS_TEXT = tuple(str(e).encode() if isinstance(e, int) else e for e in ELEMENTS)


def test_lists_of_older_rdb_versions_load_as_in_redis(start_server, tmp_path):
    plain = rdb_length(len(ELEMENTS)) + b"".join(rdb_string(t) for t in AS_TEXT)
    quicklist = rdb_length(3) + rdb_string(ziplist(ELEMENTS)) + rdb_string(ziplist([])) + rdb_string(ziplist([b"end"]))
    records = [
        (1, b"list", plain),
        (10, b"list-ziplist", rdb_string(ziplist(ELEMENTS))),
        (14, b"list-quicklist", quicklist),
        (10, b"empty-ziplist", rdb_string(ziplist([]))),
    ]
    found = {}
    for name, binary in (("redis", REFERENCE_REDIS), ("ours", None)):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "dump.rdb").write_bytes(legacy_rdb(records))
        found[name] = loaded_by(start_server, directory, binary=binary)
    assert found["ours"] == found["redis"]
    assert found["ours"][(0, b"list")][2] == AS_TEXT
    assert found["ours"][(0, b"list-ziplist")][2] == AS_TEXT
    assert found["ours"][(0, b"list-quicklist")][2] == AS_TEXT + (b"end",)
    assert (0, b"empty-ziplist") not in found["ours"]


@pytest.mark.clone_only
@pytest.mark.parametrize("damage", ["ziplist-count", "listpack-terminator", "unknown-container"])
def test_corrupt_list_blobs_fail_the_load(start_server, tmp_path, damage):
    if damage == "ziplist-count":
        blob = bytearray(ziplist([b"a", b"b"]))
        blob[8] = 3  # three entries claimed, two present
        record = (10, b"l", rdb_string(bytes(blob)))
    else:
        listpack = b"\x0b\x00\x00\x00\x02\x00\x81a\x02\x81b\x02\xff"
        assert len(listpack) == 13
        listpack = struct.pack("<I", 13) + listpack[4:]
        if damage == "listpack-terminator":
            listpack = listpack[:-1] + b"\xfe"
            record = (18, b"l", rdb_length(1) + rdb_length(2) + rdb_string(listpack))
        else:
            record = (18, b"l", rdb_length(1) + rdb_length(7) + rdb_string(listpack))
    (tmp_path / "dump.rdb").write_bytes(legacy_rdb([record]).replace(b"REDIS0006", b"REDIS0010"))
    srv = ServerProcess(binary_under_test(), free_port(), ["--dir", str(tmp_path)])
    try:
        assert srv.proc.wait(timeout=DEADLINE) == 1
        log = srv.log_text()
    finally:
        srv.cleanup()
    assert "key 'l'" in log and ("integrity" in log or "container" in log), log[-2000:]


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
        pipelined(c, [["RPUSH", "l:after", "1"], ["LPOP", "l:small"], ["LMOVE", "l:big", "l:moved", "LEFT", "RIGHT"],
                      ["LMPOP", "2", "nokey", "l:long", "RIGHT", "COUNT", "2"], ["LINSERT", "l:small", "BEFORE", "1",
                      "new"], ["LSET", "l:small", "0", "set"], ["LTRIM", "l:repetitive", "1", "-2"],
                      ["LREM", "l:big", "-2", "element:7"], ["RPOPLPUSH", "l5x", "nothing"]])
        before = dataset(c)
    assert srv.terminate_and_wait() == 0
    check_aof(directory)
    return before


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_replays_our_aof_directory(start_server, tmp_path, preamble):
    before = aof_directory_by(start_server, tmp_path, preamble)
    if preamble == "no":
        commands = base_commands(tmp_path)
        rpushes = [c for c in commands if c[0] == b"RPUSH"]
        assert all(1 <= len(c) - 2 <= ITEMS_PER_COMMAND for c in rpushes)
        assert sum(1 for c in rpushes if c[1] == b"l:big") == 20000 // 64 + 1
        assert [b"l:big", b"l:ttl"] == sorted(c[1] for c in commands if c[0] == b"PEXPIREAT")
    assert loaded_by(start_server, tmp_path, "--appendonly", "yes", binary=REFERENCE_REDIS) == before
    assert loaded_by(start_server, tmp_path, "--appendonly", "yes") == before


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_we_replay_redis_aof_directory(start_server, tmp_path, preamble):
    before = aof_directory_by(start_server, tmp_path, preamble, binary=REFERENCE_REDIS)
    assert loaded_by(start_server, tmp_path, "--appendonly", "yes") == before


# ---- introspection ----------------------------------------------------------------------------------

def test_debug_object_serializedlength_and_memory_usage_beside_redis(start_server, tmp_path):
    (tmp_path / "redis").mkdir()
    (tmp_path / "ours").mkdir()
    redis = start_in(start_server, tmp_path / "redis", "--enable-debug-command", "yes", "--rdbcompression", "no",
                     binary=REFERENCE_REDIS)
    ours = start_in(start_server, tmp_path / "ours", "--rdbcompression", "no",
                    *(("--enable-debug-command", "yes") if is_real_redis(binary_under_test()) else ()))
    keys = ["l:small", "l:long", "l:big", "l:repetitive"]
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
        # Per element no more than Redis (a different allocator rounds differently: 10% slack).
        assert our_memory <= their_memory * 1.1, (key, our_memory, their_memory)


def test_plain_nodes_cross_both_ways(start_server, tmp_path):
    """Elements past a lowered packed threshold are saved in plain nodes by either server and load in the
    other as the same list."""
    debug = ("--enable-debug-command", "yes")
    elements = [b"small", b"p" * 200, b"1", b"q" * 300, b"", b"tail"]
    for saver, loader in ((REFERENCE_REDIS, None), (None, REFERENCE_REDIS)):
        directory = tmp_path / ("from-redis" if saver else "from-ours")
        directory.mkdir()
        saver_debug = debug if saver or is_real_redis(binary_under_test()) else ()
        srv = start_in(start_server, directory, *saver_debug, "--list-compress-depth", "1", binary=saver)
        with srv.connect() as c:
            assert c.command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100b") == b"+OK\r\n"
            pipelined(c, [["RPUSH", "l", *elements], ["RPUSH", "l", *elements]])
            assert b"ql_nodes:" in value(c, "DEBUG", "OBJECT", "l")
            assert c.command("SAVE") == b"+OK\r\n"
            assert c.command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0") == b"+OK\r\n"
        assert srv.terminate_and_wait() == 0
        check_rdb(directory / "dump.rdb")
        loaded = loaded_by(start_server, directory, binary=loader)
        assert loaded[(0, b"l")][2] == tuple(elements * 2)
