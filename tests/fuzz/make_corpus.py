#!/usr/bin/env python3
"""Writes the seed corpora and the dictionary of the fuzz targets (the files are committed; rerun this when
commands are added, then review the diff):

    python3 tests/fuzz/make_corpus.py

corpus/dispatcher/  what a client sends: every script of tests/e2e/corpus as a RESP pipeline (also after
                    HELLO 3), one seed per command family with its options, inline commands, protocol errors
corpus/decoder/     request bytes behind the decoder target's split header (byte 0 = number of split points,
                    then 2 bytes each): valid, partial and malformed frames, some with split points
resp.dict           command names, options, RESP tokens and boundary numbers

Seeds stay under 4096 bytes (the -max_len the fuzzers run with). Names are stable so that reruns only
change what really changed; files are removed only if this script wrote them (prefix 'seed-').
"""

from __future__ import annotations

import hashlib
import re
import shlex
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
E2E_CORPUS = HERE.parent / "e2e" / "corpus"
MAX_LEN = 4096

# Every command redis-clone implements or is about to (the e2e corpus's `requires:` list), with options.
COMMANDS = """
GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX INCR DECR INCRBY DECRBY INCRBYFLOAT APPEND
STRLEN GETRANGE SUBSTR SETRANGE LCS DEL UNLINK EXISTS TOUCH TYPE TTL PTTL EXPIRE PEXPIRE EXPIREAT PEXPIREAT
EXPIRETIME PEXPIRETIME PERSIST KEYS SCAN RANDOMKEY RENAME RENAMENX COPY MOVE SWAPDB OBJECT DBSIZE FLUSHDB
FLUSHALL SELECT PING ECHO HELLO AUTH QUIT CLIENT INFO CONFIG COMMAND TIME MEMORY DEBUG FUNCTION LASTSAVE
""".split()
WORDS = """
EX PX EXAT PXAT KEEPTTL PERSIST NX XX GT LT GET LEN IDX MINMATCHLEN WITHMATCHLEN ASYNC SYNC MATCH COUNT TYPE
REPLACE DB ENCODING FREQ IDLETIME REFCOUNT HELP ID SETNAME GETNAME SETINFO LIB-NAME LIB-VER LIST INFO KILL
NO-EVICT NO-TOUCH REPLY ON OFF SKIP RESETSTAT DOCS FILTERBY MODULE ACLCAT PATTERN GETKEYS GETKEYSANDFLAGS
default server clients memory persistence stats replication cpu keyspace everything all string USAGE SAMPLES
PURGE MALLOC-STATS OBJECT SET-ACTIVE-EXPIRE FLUSH DELETE STATS REWRITE ADDR LADDR USER SKIPME MAXAGE
requirepass loglevel maxclients timeout proto-max-bulk-len save hz
""".split()

# One seed per family: the commands with their options, including wrong arities and wrong types.
FAMILY_SEEDS = {
    "strings": """
SET k v
SET k v EX 10
SET k v PX 100 NX
SET k v XX GET
SET k v KEEPTTL
SET k v EXAT 99999999999 GET
SET k v PXAT 1 XX
SET k v EX 0
SET k v EX -1
SET k v EX 9223372036854775807
SET k v EX 10 PX 10
SET k v NX XX
SET k v GET GET
GET k
GET missing
SETNX k v2
SETEX k 10 v
SETEX k 0 v
PSETEX k 100 v
GETSET k v3
GETDEL k
GETEX k
GETEX k EX 10
GETEX k PERSIST
GETEX k PX 1 PERSIST
SET
GET
""",
    "counters": """
SET n 10
INCR n
DECR n
INCRBY n 9223372036854775800
INCRBY n 100
DECRBY n -9223372036854775808
INCRBYFLOAT f 1.5
INCRBYFLOAT f 1e308
INCRBYFLOAT f 1e308
INCRBYFLOAT f inf
INCRBYFLOAT f nan
INCRBYFLOAT f -0.0000000000000000001
INCR text
SET text abc
INCR text
INCRBY n 1.5
INCRBY n " 1"
DECR "  "
""",
    "ranges": """
SET s "Hello World"
APPEND s "!!"
APPEND new abc
STRLEN s
GETRANGE s 0 4
GETRANGE s -5 -1
GETRANGE s 5 1
GETRANGE s 0 -100
GETRANGE s -9223372036854775808 9223372036854775807
SUBSTR s 1 3
SETRANGE s 6 Redis
SETRANGE s 20 x
SETRANGE s -1 x
SETRANGE s 536870912 x
SETRANGE empty 0 ""
SETRANGE empty 100 ""
STRLEN missing
""",
    "multi": """
MSET a 1 b 2 c 3
MGET a b c missing
MSETNX a 1 d 4
MSETNX e 5 f 6
MSET a
MGET
DEL a b c d e f missing
EXISTS a a b
UNLINK a
TOUCH a b
TYPE a
TYPE missing
""",
    "lcs": """
MSET key1 ohmytext key2 mynewtext
LCS key1 key2
LCS key1 key2 LEN
LCS key1 key2 IDX
LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN
LCS key1 key2 IDX MINMATCHLEN -5
LCS key1 key2 LEN IDX
LCS key1 key1 IDX WITHMATCHLEN
LCS key1 missing
LCS key1 key2 MINMATCHLEN
LCS key1 key2 FOO
""",
    "expiry": """
SET k v
EXPIRE k 100
EXPIRE k 100 NX
EXPIRE k 100 XX GT
EXPIRE k 50 LT
PEXPIRE k 100000
EXPIREAT k 99999999999
PEXPIREAT k 1
EXPIRETIME k
PEXPIRETIME k
TTL k
PTTL k
PERSIST k
EXPIRE k 9223372036854775807
EXPIRE k -1
EXPIRE k 10 NX XX
TTL missing
""",
    "keyspace": """
MSET a 1 b 2 c 3 foo bar
KEYS *
KEYS a*
KEYS [a-c]
KEYS \\*
KEYS "*[^a]?"
SCAN 0
SCAN 0 MATCH a* COUNT 100 TYPE string
SCAN 18446744073709551615
SCAN abc
RANDOMKEY
RENAME a z
RENAME missing z
RENAMENX b z
RENAME z z
COPY z y
COPY z y REPLACE
COPY z y DB 3
MOVE y 1
MOVE y 99
SWAPDB 0 1
SWAPDB 0 16
SELECT 1
KEYS *
OBJECT ENCODING foo
OBJECT FREQ foo
OBJECT IDLETIME foo
OBJECT REFCOUNT foo
OBJECT HELP
OBJECT NOPE
DBSIZE
FLUSHDB
FLUSHDB ASYNC
FLUSHALL SYNC
FLUSHALL FOO
""",
    "connection": """
PING
PING hello
PING a b
ECHO "a b"
SELECT 15
SELECT 16
SELECT -1
SELECT 99999999999
AUTH x
AUTH default x
HELLO
HELLO 2
HELLO 4
HELLO 3 SETNAME fuzz
HELLO 3 AUTH default pass
CLIENT ID
CLIENT SETNAME myname
CLIENT SETNAME "bad name"
CLIENT GETNAME
CLIENT SETINFO LIB-NAME redis-py
CLIENT SETINFO LIB-VER 1.0
CLIENT SETINFO FOO x
CLIENT LIST
CLIENT LIST TYPE normal
CLIENT LIST ID 1 2 3
CLIENT INFO
CLIENT NOPE
CLIENT
""",
    "server": """
INFO
INFO server
INFO clients memory keyspace
INFO everything
INFO all
INFO nope
TIME
DBSIZE
CONFIG GET *
CONFIG GET port databases
CONFIG GET max*
CONFIG SET port 1
CONFIG SET nope 1
CONFIG RESETSTAT
CONFIG NOPE
COMMAND COUNT
COMMAND INFO get set client|setname nope
COMMAND DOCS get
COMMAND LIST
COMMAND LIST FILTERBY PATTERN g*
COMMAND LIST FILTERBY ACLCAT string
COMMAND GETKEYS set k v
COMMAND NOPE
NOPE a b
"",
""",
    "admin": """
SET k v
LASTSAVE
MEMORY USAGE k
MEMORY USAGE k SAMPLES 5
MEMORY USAGE missing
MEMORY PURGE
MEMORY MALLOC-STATS
MEMORY HELP
DEBUG HELP
DEBUG OBJECT k
DEBUG OBJECT missing
DEBUG SET-ACTIVE-EXPIRE 0
DEBUG NOPE
FUNCTION LIST
FUNCTION STATS
FUNCTION FLUSH
FUNCTION DELETE lib
FUNCTION KILL
FUNCTION HELP
CONFIG REWRITE
CONFIG SET requirepass secret
PING
AUTH secret
CONFIG SET requirepass ""
CONFIG SET maxclients 100 timeout 10
CONFIG SET proto-max-bulk-len 1mb
SETRANGE k 2000000 x
CONFIG SET hz 5
CONFIG SET save "10 1"
CONFIG GET save
CLIENT KILL ID 999
CLIENT KILL ADDR 1.2.3.4:5
CLIENT KILL SKIPME yes
CLIENT LIST ID 1
""",
}

# Raw byte streams: inline commands, pipelines, protocol errors (each ends the connection).
RAW_SEEDS = {
    "inline-basic": b"PING\r\nSET k v\r\nGET k\r\n\r\n   \r\nECHO x\n",
    "inline-quotes": b"SET \"a b\" 'c\\'d'\r\nGET \"a b\"\r\nSET \"\\x00\\xff\\n\" \"\\t\\\"\"\r\nKEYS *\r\n",
    "inline-unbalanced": b"PING\r\nSET \"a b\r\n",
    "inline-after-quote": b"SET \"a\"b c\r\n",
    "mixed": b"PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
    "empty-multibulk": b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n",
    "error-dollar": b"*1\r\n+PING\r\n",
    "error-bulk-length": b"*2\r\n$3\r\nGET\r\n$-1\r\n",
    "error-bulk-nan": b"*1\r\n$x\r\n",
    "error-bulk-huge": b"*1\r\n$536870913\r\n",
    "error-multibulk": b"*x\r\n",
    "error-multibulk-huge": b"*2147483648\r\n",
    "partial": b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nval",
    "no-crlf-after-bulk": b"*2\r\n$4\r\nECHOxx$1\r\nxyz",
    "binary": b"*3\r\n$3\r\nSET\r\n$4\r\n\x00\r\n\xff\r\n$3\r\n\r\n\x00\r\nGET \"\\x00\\r\\n\\xff\"\r\n",
    "quit": b"SET a 1\r\nQUIT\r\nSET a 2\r\n",
    "resp3-types": b"HELLO 3\r\nSET f 1.5\r\nINCRBYFLOAT f 1\r\nGET missing\r\nCONFIG GET port\r\n"
                   b"CLIENT INFO\r\nCOMMAND INFO get\r\nHELLO 2\r\nGET missing\r\n",
}

# Decoder payloads beyond the dispatcher's seeds: frame boundaries and numbers at their limits.
DECODER_PAYLOADS = {
    "multibulk": b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
    "inline": b"GET k\r\n",
    "inline-lf": b"GET k\n",
    "inline-quoted": b"SET \"a\\x41\\n\" 'b c' \"\"\r\n",
    "pipeline": b"*1\r\n$4\r\nPING\r\nPING\r\n*0\r\n*-1\r\n\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    "cr-only": b"*1\r$4\rPING\r\n",
    "lf-only": b"*1\n$4\nPING\n",
    "big-count": b"*2147483647\r\n$1\r\na\r\n",
    "big-bulk": b"*1\r\n$536870912\r\n",
    "negative-bulk": b"*1\r\n$-5\r\n",
    "plus-sign": b"*+1\r\n$+4\r\nPING\r\n",
    "leading-zero": b"*01\r\n$04\r\nPING\r\n",
    "int64-max": b"*9223372036854775807\r\n",
    "int64-overflow": b"*9223372036854775808\r\n",
    "spaces": b"* 1\r\n$ 4\r\nPING\r\n",
    "not-dollar": b"*2\r\n:1\r\n",
    "unbalanced": b"\"abc\r\n",
    "quote-then-char": b"'a'b\r\n",
    "nul-bytes": b"*1\r\n$3\r\n\x00\x00\x00\r\n\x00\r\n",
    "trailing-garbage": b"*1\r\n$1\r\naXY",
}


def resp(args: list[bytes]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


_HEX = re.compile(rb"\\x([0-9a-fA-F]{2})")


def tokens(line: str) -> list[bytes]:
    """A command line as tests/e2e/corpus writes it (shlex quoting, \\xHH bytes)."""
    return [_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), t.encode()) for t in shlex.split(line, posix=True)]


def script_commands(text: str) -> list[list[bytes]]:
    commands = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            line = line.partition(" ")[2]
        commands.append(tokens(line))
    return commands


def chunks(frames: list[bytes], prefix: bytes = b"") -> list[bytes]:
    """Packs frames into seeds of at most MAX_LEN bytes, each starting with `prefix`."""
    seeds, current = [], prefix
    for frame in frames:
        if len(current) + len(frame) > MAX_LEN and current != prefix:
            seeds.append(current)
            current = prefix
        if len(prefix) + len(frame) <= MAX_LEN:
            current += frame
    if current != prefix:
        seeds.append(current)
    return seeds


def dispatcher_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    for path in sorted(E2E_CORPUS.glob("*.txt")):
        frames = [resp(c) for c in script_commands(path.read_text())]
        for i, seed in enumerate(chunks(frames)):
            seeds[f"e2e-{path.stem}-{i}"] = seed
        for i, seed in enumerate(chunks(frames, resp([b"HELLO", b"3"]))):
            seeds[f"e2e-{path.stem}-resp3-{i}"] = seed
    for family, text in FAMILY_SEEDS.items():
        frames = [resp(c) for c in script_commands(text)]
        for i, seed in enumerate(chunks(frames)):
            seeds[f"family-{family}-{i}"] = seed
        for i, seed in enumerate(chunks(frames, b"HELLO 3\r\n")):
            seeds[f"family-{family}-resp3-{i}"] = seed
    seeds.update({f"raw-{name}": data for name, data in RAW_SEEDS.items()})
    return seeds


def split_header(payload: bytes, points: list[int]) -> bytes:
    return bytes([len(points)]) + b"".join(struct.pack("<H", p) for p in points)


def decoder_seeds(dispatcher: dict[str, bytes]) -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    payloads = dict(DECODER_PAYLOADS)
    payloads.update({f"raw-{name}": data for name, data in RAW_SEEDS.items()})
    for name in ("family-strings-0", "family-keyspace-0", "family-connection-0"):
        payloads[name] = dispatcher[name]
    for name, payload in payloads.items():
        seeds[f"{name}-whole"] = split_header(payload, []) + payload
        # One split in the middle, and byte-by-byte through the first frame (up to 15 points).
        seeds[f"{name}-half"] = split_header(payload, [len(payload) // 2]) + payload
        points = list(range(1, min(len(payload), 16)))
        seeds[f"{name}-bytes"] = split_header(payload, points) + payload
    return seeds


def dictionary() -> str:
    def entry(value: bytes) -> str:
        text = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02x}" for b in value)
        return f'"{text}"'

    lines = ["# libFuzzer dictionary for decoder_fuzz and dispatcher_fuzz (written by make_corpus.py).",
             "# Command names and options (the server matches them in any case)."]
    lines += [entry(w.encode()) for w in COMMANDS + WORDS]
    lines += ["# Subcommand separators and pieces of RESP frames."]
    tokens_ = [b"client|setname", b"\r\n", b"\n", b"*1\r\n", b"*2\r\n", b"*3\r\n", b"*4\r\n", b"*0\r\n", b"*-1\r\n",
               b"$0\r\n\r\n", b"$1\r\n", b"$2\r\n", b"$3\r\n", b"$4\r\n", b"$-1\r\n", b"$", b"*", b"\"", b"'",
               b"\\x00", b"\\\"", b" "]
    lines += [entry(t) for t in tokens_]
    lines += ["# Numbers at the limits that parsers and ranges check."]
    numbers = [b"0", b"-1", b"1", b"15", b"16", b"127", b"128", b"255", b"65535", b"65536", b"2147483647",
               b"2147483648", b"-2147483648", b"4294967295", b"4294967296", b"536870911", b"536870912",
               b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808", b"18446744073709551615",
               b"18446744073709551616", b"1.5", b"-0", b"1e308", b"1e309", b"-1e308", b"inf", b"-inf", b"+inf",
               b"nan", b"0x10", b"1e-320", b"00", b" 1", b"1 "]
    lines += [entry(n) for n in numbers]
    return "\n".join(lines) + "\n"


def write_dir(directory: Path, seeds: dict[str, bytes]):
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("seed-*"):
        stale.unlink()
    for name, data in seeds.items():
        assert len(data) <= MAX_LEN, (name, len(data))
        # The content hash keeps names unique even if two seeds share a name stem.
        digest = hashlib.sha1(data).hexdigest()[:8]
        (directory / f"seed-{name}-{digest}").write_bytes(data)


def main():
    dispatcher = dispatcher_seeds()
    write_dir(HERE / "corpus" / "dispatcher", dispatcher)
    write_dir(HERE / "corpus" / "decoder", decoder_seeds(dispatcher))
    (HERE / "resp.dict").write_text(dictionary())
    print(f"make_corpus: {len(dispatcher)} dispatcher seeds, {len(decoder_seeds(dispatcher))} decoder seeds")


if __name__ == "__main__":
    main()
