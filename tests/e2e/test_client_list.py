"""CLIENT LIST / CLIENT INFO fields that describe what a client is doing: cmd= (the command being run or
last run, as Redis's lastcmd: NULL before the first and after an unknown command or subcommand, the full
"container|sub" name for subcommands), qbuf= (the query buffer, which holds the command being run), resp=.
Checked on both servers with the same steps."""

import pytest

from resp import value


@pytest.fixture(params=["clone", "reference"])
def target(request):
    return request.getfixturevalue("clone_module_server" if request.param == "clone" else "reference_server")


def fields(line: str) -> dict:
    return dict(item.split("=", 1) for item in line.split(" ") if "=" in item)


def client_by_id(listing: bytes, client_id: int) -> dict:
    for line in listing.decode().splitlines():
        entry = fields(line)
        if entry.get("id") == str(client_id):
            return entry
    raise AssertionError(f"client {client_id} not in {listing!r}")


def test_cmd_and_qbuf_as_redis(target):
    with target.connect() as watcher, target.connect() as other:
        other_id = value(other, "CLIENT", "ID")
        own = fields(value(watcher, "CLIENT", "INFO").decode())
        assert own["cmd"] == "client|info"
        # The query buffer holds the command being run: *2 $6 client $4 info.
        assert own["qbuf"] == str(len(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n"))
        assert client_by_id(value(watcher, "CLIENT", "LIST"), other_id)["cmd"] == "client|id"

        assert value(other, "SET", "client-list-key", "v") == b"OK"
        seen = client_by_id(value(watcher, "CLIENT", "LIST"), other_id)
        assert seen["cmd"] == "set"
        assert seen["qbuf"] == "0"  # nothing pending while it waits for its next command

        assert other.call("NO-SUCH-COMMAND").is_error
        assert client_by_id(value(watcher, "CLIENT", "LIST"), other_id)["cmd"] == "NULL"
        assert other.call("GET").is_error  # wrong arity: the command is known
        assert client_by_id(value(watcher, "CLIENT", "LIST"), other_id)["cmd"] == "get"
        assert other.call("CLIENT", "NO-SUCH-SUBCOMMAND").is_error
        assert client_by_id(value(watcher, "CLIENT", "LIST"), other_id)["cmd"] == "NULL"


def test_resp_field_follows_hello(target):
    with target.connect() as watcher, target.connect() as other:
        other_id = value(other, "CLIENT", "ID")
        assert client_by_id(value(watcher, "CLIENT", "LIST"), other_id)["resp"] == "2"
        assert not other.call("HELLO", "3").is_error
        assert client_by_id(value(watcher, "CLIENT", "LIST"), other_id)["resp"] == "3"
