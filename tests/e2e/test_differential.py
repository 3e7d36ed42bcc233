"""Differential tests: every script in corpus/*.txt is run against Debian's redis-server 7.0 and against
the binary under test, over raw sockets, once in RESP2 and once in RESP3, and the replies are compared
byte for byte.

Corpus format (one command per line, redis-cli-like quoting split with shlex):
  # comment                      ignored (also blank lines)
  # requires: CMD1 CMD2          the file needs these commands: the test is skipped when the server under
                                 test answers `-ERR unknown command` (and redis-server does not) to the
                                 first line of the file that uses one of them, i.e. that command is not
                                 implemented yet. Any other unknown command is an ordinary failure, and a
                                 keyspace_* file may use no command outside BASIC_COMMANDS + its header.
  SET k "a b"                    compared byte for byte
  @sort KEYS *                   compare the elements of the (array/set) reply as a sorted list
  @scan SCAN 0 MATCH k*          iterate the cursor to 0 (bounded); compare the sorted set of all elements;
                                 the cursor values themselves are not compared (errors are, byte for byte).
                                 HSCAN/SSCAN/ZSCAN key 0 ... too: their cursor is the argument after the key
  @shape TIME                    compare only the reply type and, for aggregates, element count and types
  \\xHH inside a token           the byte 0xHH (shlex keeps the backslash, we decode it afterwards)

Each script runs on a fresh connection (RESP3: HELLO 3 first; HELLO replies are compared by keys and by
the proto/mode/role/modules values, never by server/version/id) after FLUSHALL on both servers.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from resp import RespError, parse

CORPUS_DIR = Path(__file__).parent / "corpus"
CORPUS_FILES = sorted(CORPUS_DIR.glob("*.txt"))
MODES = ("sort", "scan", "shape")
SCAN_MAX_ITERATIONS = 10_000
KEY_SCANS = {"HSCAN", "SSCAN", "ZSCAN"}  # scans of one key's elements: KEY cursor [options]
MAX_REPORTED = 40
# The first milestone's commands: corpus files may use them without a `# requires:` header.
BASIC_COMMANDS = {"SET", "GET", "DEL", "EXISTS", "PING", "ECHO", "SELECT", "DBSIZE", "FLUSHDB", "FLUSHALL",
                  "CLIENT", "HELLO", "TTL", "PTTL"}
HELLO_VOLATILE_KEYS = {b"server", b"version", b"id"}


@dataclass
class Line:
    lineno: int
    text: str
    mode: str  # "exact", "sort", "scan", "shape"
    args: list

    @property
    def name(self) -> str:
        return self.args[0].decode(errors="replace").upper()


_HEX_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def _token(tok: str) -> bytes:
    return _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), tok.encode())


def load_script(path: Path):
    """Returns (requires: list[str], lines: list[Line]). Raises ValueError on a malformed line."""
    requires: list[str] = []
    lines: list[Line] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        if text.startswith("#"):
            m = re.match(r"#\s*requires:\s*(.*)$", text, re.I)
            if m:
                requires += [c.upper() for c in m.group(1).split()]
            continue
        mode = "exact"
        body = text
        if text.startswith("@"):
            tag, _, body = text[1:].partition(" ")
            if tag not in MODES:
                raise ValueError(f"{path.name}:{lineno}: unknown marker @{tag}")
            mode = tag
        try:
            toks = shlex.split(body, comments=False, posix=True)
        except ValueError as e:
            raise ValueError(f"{path.name}:{lineno}: cannot split {body!r}: {e}") from None
        if not toks:
            raise ValueError(f"{path.name}:{lineno}: empty command")
        lines.append(Line(lineno, text, mode, [_token(t) for t in toks]))
    return requires, lines


def _short(b: bytes, limit: int = 600) -> str:
    return repr(b) if len(b) <= limit else repr(b[:limit]) + f"... ({len(b)} bytes)"


class ScriptConnection:
    """One connection of a script run: executes a Line and returns (raw reply bytes, comparable value)."""

    def __init__(self, srv):
        self.conn = srv.connect(timeout=10.0)

    def close(self):
        self.conn.close()

    def execute(self, line: Line):
        raw = self.conn.command(*line.args)
        if line.mode == "exact":
            return raw, ("raw", raw)
        reply = parse(raw)
        if reply.is_error:
            return raw, ("raw", raw)
        if line.mode == "sort":
            if not reply.is_aggregate:
                return raw, ("raw", raw)
            return raw, ("sorted", reply.kind, sorted(i.raw for i in reply.items))
        if line.mode == "shape":
            return raw, ("shape", reply.kind, len(reply.items), [i.kind for i in reply.items])
        if line.mode == "scan":
            return self._scan(line, reply)
        raise AssertionError(line.mode)

    def _scan(self, line: Line, first):
        """Full SCAN iteration: args[1] is the cursor (args[2] after a key); continue with the returned cursor
        until 0."""
        seen = set()
        reply = first
        raws = [first.raw]
        for _ in range(SCAN_MAX_ITERATIONS):
            if reply.kind != b"*" or len(reply.items) != 2 or not reply.items[1].is_aggregate:
                return first.raw, ("raw", b"".join(raws))
            cursor = reply.items[0].value
            seen.update(i.raw for i in reply.items[1].items)
            if cursor == b"0":
                return first.raw, ("scan", sorted(seen))
            at = 2 if line.name in KEY_SCANS else 1
            args = [*line.args[:at], cursor, *line.args[at + 1:]]
            raw = self.conn.command(*args)
            raws.append(raw)
            reply = parse(raw)
            if reply.is_error:
                return first.raw, ("raw", raw)
        return first.raw, ("scan-unfinished", f"cursor not 0 after {SCAN_MAX_ITERATIONS} calls")


def hello_summary(raw: bytes):
    """Comparable summary of a HELLO reply: its keys, and its values except server/version/id."""
    reply = parse(raw)
    if reply.is_error:
        return ("raw", raw)
    if reply.kind not in (b"%", b"*"):
        return ("not-a-map", raw)
    summary = [reply.kind]
    for k, v in reply.pairs():
        summary.append(k.value)
        summary.append(None if k.value in HELLO_VOLATILE_KEYS else v.raw)
    return ("hello", tuple(summary))


def run_script(path: Path, proto: int, ref_srv, clone_srv):
    requires, lines = load_script(path)
    assert lines, f"{path.name} has no commands"
    ref, clone = ScriptConnection(ref_srv), ScriptConnection(clone_srv)
    mismatches = []
    executed = 0
    try:
        if proto == 3:
            r_raw, c_raw = ref.conn.command("HELLO", "3"), clone.conn.command("HELLO", "3")
            r_sum, c_sum = hello_summary(r_raw), hello_summary(c_raw)
            assert r_sum[0] == "hello", f"reference redis-server rejected HELLO 3: {r_raw!r}"
            if r_sum != c_sum:
                pytest.fail(f"{path.name}: HELLO 3 replies differ (keys / proto / mode / role / modules)\n"
                            f"  redis-server: {_short(r_raw)}\n  redis-clone:  {_short(c_raw)}", pytrace=False)
        for conn, who in ((ref, "redis-server"), (clone, "redis-clone")):
            reply = conn.conn.command("FLUSHALL")
            assert reply == b"+OK\r\n", f"{path.name}: FLUSHALL on {who} replied {reply!r}"

        unchecked_requires = set(requires)
        for line in lines:
            try:
                r_raw, r_cmp = ref.execute(line)
            except (RespError, OSError) as e:
                pytest.fail(f"{path.name}:{line.lineno}: reference redis-server failed on `{line.text}`: {e}",
                            pytrace=False)
            try:
                c_raw, c_cmp = clone.execute(line)
            except (RespError, OSError) as e:
                mismatches.append(f"{path.name}:{line.lineno}: `{line.text}`\n"
                                  f"  redis-server: {_short(r_raw)}\n"
                                  f"  redis-clone:  no reply ({e}); script aborted")
                break
            executed += 1
            if line.name in unchecked_requires:
                unchecked_requires.discard(line.name)
                if c_raw.startswith(b"-ERR unknown command") and not r_raw.startswith(b"-ERR unknown command"):
                    pytest.skip(f"{path.name}: server does not implement {line.name} yet "
                                f"(line {line.lineno}: {c_raw.strip()!r})")
            if line.name == "HELLO" and line.mode == "exact":
                r_cmp, c_cmp = hello_summary(r_raw), hello_summary(c_raw)
            if r_cmp != c_cmp:
                detail = ""
                if line.mode != "exact":
                    detail = f"\n  compared ({line.mode}): redis-server {r_cmp!r}\n                   redis-clone  {c_cmp!r}"
                mismatches.append(f"{path.name}:{line.lineno}: `{line.text}`\n"
                                  f"  redis-server: {_short(r_raw)}\n"
                                  f"  redis-clone:  {_short(c_raw)}{detail}")
    finally:
        ref.close()
        clone.close()
    if mismatches:
        shown = mismatches[:MAX_REPORTED]
        more = f"\n... and {len(mismatches) - len(shown)} more" if len(mismatches) > len(shown) else ""
        pytest.fail(f"{len(mismatches)} of {executed} replies differ in {path.name} (RESP{proto}):\n"
                    + "\n".join(shown) + more, pytrace=False)


@pytest.mark.parametrize("proto", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus(path, proto, reference_server, clone_module_server):
    run_script(path, proto, reference_server, clone_module_server)


def test_corpus_is_well_formed():
    """The corpus itself: present, parseable, headers consistent, enough commands."""
    assert len(CORPUS_FILES) >= 10, f"corpus directory {CORPUS_DIR} looks incomplete: {CORPUS_FILES}"
    total = 0
    for path in CORPUS_FILES:
        requires, lines = load_script(path)
        assert lines, f"{path.name}: no commands"
        names = {ln.name for ln in lines}
        for cmd in requires:
            assert cmd in names, f"{path.name}: requires {cmd} but never uses it"
        if path.name.startswith("keyspace_"):
            assert requires, f"{path.name}: keyspace corpus files need a `# requires:` header"
            extra = names - BASIC_COMMANDS - set(requires)
            assert not extra, f"{path.name}: uses {sorted(extra)} without listing them in `# requires:`"
        total += len(lines)
    assert total >= 500, f"only {total} corpus commands"


def test_harness_detects_differences(reference_server):
    """The comparison must notice a difference: run a script against redis-server twice with one side
    in a different database, where GET replies differ."""
    ref_a, ref_b = ScriptConnection(reference_server), ScriptConnection(reference_server)
    try:
        assert ref_a.conn.command("FLUSHALL") == b"+OK\r\n"
        assert ref_b.conn.command("SELECT", "1") == b"+OK\r\n"
        assert ref_a.conn.command("SET", "k", "v") == b"+OK\r\n"
        line = Line(1, "GET k", "exact", [b"GET", b"k"])
        assert ref_a.execute(line)[1] != ref_b.execute(line)[1]
        sort_line = Line(2, "@sort KEYS *", "sort", [b"KEYS", b"*"])
        assert ref_a.execute(sort_line)[1] == ("sorted", b"*", [b"$1\r\nk\r\n"])
        assert ref_b.execute(sort_line)[1] == ("sorted", b"*", [])
    finally:
        ref_a.close()
        ref_b.close()


def test_load_script_quoting(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text('# requires: SET\nSET "a b" \'c d\' "\\x00\\xff" ""\n@sort KEYS *\n')
    requires, lines = load_script(p)
    assert requires == ["SET"]
    assert lines[0].args == [b"SET", b"a b", b"c d", b"\x00\xff", b""]
    assert lines[1].mode == "sort" and lines[1].args == [b"KEYS", b"*"]
