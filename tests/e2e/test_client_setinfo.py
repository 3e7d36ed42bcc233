"""CLIENT SETINFO (a Redis 7.2 command that go-redis v9 and redis-py send on connect).

Redis 7.0 answers it with "unknown subcommand"; redis-clone implements it as Redis 7.2 does, so that
clients which check the reply see success. These replies are therefore checked against Redis 7.2's
texts (t_string-era networking.c of 7.2), not differentially against the 7.0 reference.
"""

import pytest

pytestmark = pytest.mark.clone_only


def run(conn, *args):
    return conn.command(*args)


@pytest.mark.parametrize(
    "args, expected",
    [
        (("CLIENT", "SETINFO", "lib-name", "redis-py"), b"+OK\r\n"),
        (("CLIENT", "SETINFO", "LIB-VER", "6.4.0"), b"+OK\r\n"),
        (("client", "setinfo", "LIB-NAME", "mylib"), b"+OK\r\n"),
        (("CLIENT", "SETINFO", "lib-name", "bad name"),
         b"-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"),
        (("CLIENT", "SETINFO", "lib-ver", "1\n2"),
         b"-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"),
        (("CLIENT", "SETINFO", "foo", "bar"), b"-ERR Unrecognized option 'foo'\r\n"),
        (("CLIENT", "SETINFO", "lib-name"), b"-ERR wrong number of arguments for 'client|setinfo' command\r\n"),
    ],
)
def test_client_setinfo_replies_as_redis_7_2(server, args, expected):
    with server.connect() as conn:
        assert run(conn, *args) == expected


def test_client_setinfo_shows_in_client_info(server):
    with server.connect() as conn:
        assert run(conn, "CLIENT", "SETINFO", "lib-name", "go-redis") == b"+OK\r\n"
        assert run(conn, "CLIENT", "SETINFO", "lib-ver", "9.23.0") == b"+OK\r\n"
        info = run(conn, "CLIENT", "INFO")
        assert b"lib-name=go-redis" in info and b"lib-ver=9.23.0" in info, info
