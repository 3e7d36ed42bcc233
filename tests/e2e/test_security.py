"""Access control end to end: requirepass (NOAUTH / WRONGPASS / AUTH / HELLO AUTH), the unauthenticated
request-size limits, where the password comes from (environment, config file), and protected mode.

Each scenario runs against Debian's redis-server 7.0 and the binary under test started with the same
options; the replies must be byte-identical, and must also equal the literal Redis texts written here
(so that a test still fails if both were somehow wrong the same way)."""

from __future__ import annotations

import secrets
import socket

import pytest

from conftest import HOST, binary_under_test, server_argv, start_pair
from procstats import read_until_closed, wrap_socket
from resp import ConnectionClosed, RespConnection, encode_command, parse

NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
HELLO_NOAUTH = (b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
                b"<user> <pass> option can be used to authenticate the client and select the RESP protocol "
                b"version at the same time\r\n")
AUTH_WITHOUT_PASSWORD = (b"-ERR AUTH <password> called without any password configured for the default user. "
                         b"Are you sure your configuration is correct?\r\n")
UNAUTH_MULTIBULK = b"-ERR Protocol error: unauthenticated multibulk length\r\n"
UNAUTH_BULK = b"-ERR Protocol error: unauthenticated bulk length\r\n"
DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for "
    b"the default user. In this mode connections are only accepted from the loopback interface. If you want to "
    b"connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable "
    b"protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
    b"connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly "
    b"accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    b"Alternatively you can just disable the protected mode by editing the Redis configuration file, and "
    b"setting the protected mode option to 'no', and then restarting the server. 3) If you started the server "
    b"manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    b"authentication password for the default user. NOTE: You only need to do one of the above things in "
    b"order for the server to start accepting connections from the outside.\r\n")
PASSWORD = "s3cret-Pa55"
CLOSED = b"<closed>"


def transcript(srv, commands, timeout: float = 5.0) -> list[bytes]:
    """Runs commands (tuples of arguments, or raw bytes) on one connection; CLOSED once the server closed it."""
    out = []
    with srv.connect(timeout=timeout) as c:
        for cmd in commands:
            try:
                c.send(cmd if isinstance(cmd, bytes) else encode_command(*cmd))
                out.append(c.read_reply())
            except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
                out.append(CLOSED)
                break
    return out


def normalize_hello(raw: bytes) -> bytes:
    """HELLO replies differ in id and version only: blank those two values."""
    if raw[:1] not in (b"%", b"*"):
        return raw
    out = []
    for k, v in parse(raw).pairs():
        value = b"<any>" if k.value in (b"id", b"version") else v.raw
        out.append(k.raw + value)
    return raw[: raw.index(b"\r\n") + 2] + b"".join(out)


def assert_same(pair, commands, expected=None, normalize=lambda r: r):
    """Runs the same commands on both servers: identical replies, and equal to `expected` when given."""
    got = {name: [normalize(r) for r in transcript(srv, commands)] for name, srv in pair.items()}
    for i, cmd in enumerate(commands):
        r = got["redis"][i] if i < len(got["redis"]) else None
        c = got["clone"][i] if i < len(got["clone"]) else None
        assert c == r, f"command #{i} {cmd!r}: redis-server replied {r!r}, the server under test {c!r}"
    if expected is not None:
        assert got["clone"] == expected, f"{commands!r}: got {got['clone']!r}, Redis sends {expected!r}"
    return got["clone"]


# --- requirepass -----------------------------------------------------------------------------------
def invocations(conn: RespConnection):
    """Every command (and subcommand) the server under test lists in COMMAND, with placeholder
    arguments that satisfy its arity, so that only the authentication check can reject it."""
    result = []
    for entry in parse(conn.command("COMMAND")).items:
        name = entry.items[0].value.decode()
        arity = int(entry.items[1].value)
        subs = entry.items[9].items if len(entry.items) > 9 else []
        if subs:
            for sub in subs:
                full = sub.items[0].value.decode()
                sub_arity = int(sub.items[1].value)
                container, subname = full.split("|", 1)
                needed = abs(sub_arity) - 2
                result.append((container, subname, *["x"] * needed))
        else:
            result.append((name, *["x"] * (abs(arity) - 1)))
    return result


def test_every_command_but_auth_hello_quit_needs_auth(launcher):
    pair = start_pair(launcher, ["--requirepass", PASSWORD])
    with pair["clone"].connect() as admin:
        assert admin.command("AUTH", PASSWORD) == b"+OK\r\n"
        assert admin.command("SET", "canary", "intact") == b"+OK\r\n"
        commands = [c for c in invocations(admin) if c[0].lower() not in ("auth", "hello", "quit")]
    names = {c[0].lower() for c in commands}
    assert {"get", "set", "del", "ping", "echo", "select", "client", "config", "flushall", "info"} <= names, \
        f"COMMAND does not list the basic commands: {sorted(names)}"
    replies = {}
    for name, srv in pair.items():
        with srv.connect(timeout=5) as c:
            replies[name] = [c.command(*cmd) for cmd in commands]
            assert c.command("PING") == NOAUTH, f"{name}: the unauthenticated connection changed state"
    # Redis itself answers these few without the NOAUTH check (RESET is a no-auth command; EXEC without
    # MULTI; DEBUG and MODULE are refused as disabled first); none of them runs anything. The server under
    # test must then answer NOAUTH or exactly what Redis answers.
    not_noauth = [(cmd, r) for cmd, r, ref in zip(commands, replies["clone"], replies["redis"])
                  if r != NOAUTH and not (cmd[0].lower() in ("reset", "exec", "debug", "module") and r == ref)]
    assert not not_noauth, f"{len(not_noauth)} of {len(commands)} commands ran without AUTH: {not_noauth[:20]}"
    # Where redis-server knows the command, it answers the very same bytes.
    differing = [(cmd, r, c) for cmd, r, c in zip(commands, replies["redis"], replies["clone"])
                 if r == NOAUTH and c != r]
    assert not differing, differing[:10]
    print(f"\n{len(commands)} (sub)commands checked unauthenticated; redis-server 7.0 does not know "
          f"{[cmd[:2] for cmd, r in zip(commands, replies['redis']) if r != NOAUTH]}")
    with pair["clone"].connect() as c:
        assert c.command("AUTH", PASSWORD) == b"+OK\r\n"
        assert c.command("GET", "canary") == b"$6\r\nintact\r\n", "an unauthenticated command changed data"


def test_auth_wrong_password_and_unknown_user(launcher):
    pair = start_pair(launcher, ["--requirepass", PASSWORD])
    assert_same(pair, [
        ("AUTH", "wrong"),
        ("AUTH", "default", "wrong"),
        ("AUTH", "nosuchuser", PASSWORD),
        ("AUTH", PASSWORD + "x"),
        ("AUTH", PASSWORD[:-1]),
        ("AUTH", ""),
        ("AUTH", "a", "b", "c"),
        ("HELLO", "3", "AUTH", "default", "wrong"),
        ("HELLO", "3", "AUTH", "nosuchuser", PASSWORD),
        ("HELLO", "3"),
        ("HELLO",),
        ("GET", "k"),
        ("PING",),
        ("NOSUCHCOMMAND", "a"),      # unknown command: reported before the authentication check
        ("GET",),                    # wrong arity: reported before the authentication check
        ("CLIENT", "NOSUCHSUB"),     # unknown subcommand: likewise
        ("QUIT",),
        ("PING",),
    ], expected=[WRONGPASS, WRONGPASS, WRONGPASS, WRONGPASS, WRONGPASS, WRONGPASS, b"-ERR syntax error\r\n",
                 WRONGPASS, WRONGPASS, HELLO_NOAUTH, HELLO_NOAUTH, NOAUTH, NOAUTH,
                 b"-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' \r\n",
                 b"-ERR wrong number of arguments for 'get' command\r\n",
                 b"-ERR unknown subcommand 'NOSUCHSUB'. Try CLIENT HELP.\r\n",
                 b"+OK\r\n", CLOSED])


def test_auth_forms_that_work(launcher):
    pair = start_pair(launcher, ["--requirepass", PASSWORD])
    # AUTH <password>; a later wrong AUTH does not log the connection out (as in Redis).
    assert_same(pair, [("GET", "k"), ("AUTH", PASSWORD), ("SET", "k", "v"), ("GET", "k"), ("AUTH", "wrong"),
                       ("GET", "k")],
                expected=[NOAUTH, b"+OK\r\n", b"+OK\r\n", b"$1\r\nv\r\n", WRONGPASS, b"$1\r\nv\r\n"])
    # AUTH default <password>
    assert_same(pair, [("AUTH", "default", PASSWORD), ("GET", "k")], expected=[b"+OK\r\n", b"$1\r\nv\r\n"])
    # HELLO 3 AUTH default <password>: the HELLO map, then RESP3 replies
    got = assert_same(pair, [("HELLO", "3", "AUTH", "default", PASSWORD), ("GET", "k"), ("GET", "missing")],
                      normalize=normalize_hello)
    assert got[0].startswith(b"%") and b"$5\r\nproto\r\n:3\r\n" in got[0], got[0]
    assert got[1:] == [b"$1\r\nv\r\n", b"_\r\n"]
    # HELLO 2 AUTH ... SETNAME
    got = assert_same(pair, [("HELLO", "2", "AUTH", "default", PASSWORD, "SETNAME", "app"),
                             ("CLIENT", "GETNAME")], normalize=normalize_hello)
    assert got[0].startswith(b"*14\r\n") and got[1] == b"$3\r\napp\r\n", got
    # HELLO AUTH with the user name in another case: the user is "default", exactly.
    assert_same(pair, [("HELLO", "3", "AUTH", "DEFAULT", PASSWORD), ("PING",)], expected=[WRONGPASS, NOAUTH])


def test_auth_without_a_password_configured(launcher):
    pair = start_pair(launcher)
    got = assert_same(pair, [("AUTH", "anything"), ("AUTH", "default", "anything"), ("AUTH", "nosuchuser", "x"),
                             ("HELLO", "3", "AUTH", "default", "whatever"), ("PING",)], normalize=normalize_hello)
    assert got[:3] == [AUTH_WITHOUT_PASSWORD, b"+OK\r\n", WRONGPASS], got
    assert got[3].startswith(b"%") and got[4] == b"+PONG\r\n", got


def test_unauthenticated_request_size_limits(launcher):
    """Before AUTH a request may have at most 10 arguments of at most 16384 bytes; beyond that Redis replies
    a protocol error and closes the connection, without waiting for (or allocating) the rest."""
    pair = start_pair(launcher, ["--requirepass", PASSWORD])
    ten_args = encode_command("DEL", *[f"k{i}" for i in range(9)])
    arg_16384 = encode_command("GET", "k" * 16384)
    # The header alone is enough for the verdict. The PING after each is a probe: the connection must have
    # been closed, so it gets no reply.
    assert_same(pair, [b"*11\r\n", ("PING",)], expected=[UNAUTH_MULTIBULK, CLOSED])
    assert_same(pair, [b"*2\r\n$3\r\nGET\r\n$16385\r\n", ("PING",)], expected=[UNAUTH_BULK, CLOSED])
    assert_same(pair, [encode_command("DEL", *[f"k{i}" for i in range(10)]), ("PING",)],
                expected=[UNAUTH_MULTIBULK, CLOSED])
    assert_same(pair, [b"*1\r\n$16385\r\n" + b"x" * 100, ("PING",)], expected=[UNAUTH_BULK, CLOSED])
    # at the limits: an ordinary NOAUTH, and the connection stays usable
    assert_same(pair, [ten_args, arg_16384, ("AUTH", PASSWORD), ("PING",)],
                expected=[NOAUTH, NOAUTH, b"+OK\r\n", b"+PONG\r\n"])
    # HELLO AUTH and AUTH themselves are within the limits, and after AUTH the limits are gone
    assert_same(pair, [("HELLO", "2", "AUTH", "default", PASSWORD),
                       encode_command("DEL", *[f"k{i}" for i in range(50)]),
                       encode_command("SET", "big", "v" * 100000), encode_command("GET", "big")],
                normalize=normalize_hello)
    got = transcript(pair["clone"], [("AUTH", PASSWORD), encode_command("DEL", *[f"k{i}" for i in range(50)]),
                                     encode_command("GET", "k" * 16385), ("GET", "big")])
    assert got == [b"+OK\r\n", b":0\r\n", b"$-1\r\n", b"$100000\r\n" + b"v" * 100000 + b"\r\n"], got[:3]
    # the connections closed by the protocol errors did not hurt the server
    for srv in pair.values():
        assert transcript(srv, [("AUTH", PASSWORD), ("PING",)]) == [b"+OK\r\n", b"+PONG\r\n"]


def test_password_set_and_cleared_at_runtime(launcher):
    """CONFIG SET requirepass: existing authenticated connections keep working, new ones need AUTH; once the
    password is cleared again, no connection needs AUTH (Redis checks the default user's current state)."""
    pair = start_pair(launcher)
    results = {}
    for name, srv in pair.items():
        steps = []
        with srv.connect() as admin, srv.connect() as early:
            steps.append(early.command("PING"))             # served before the password is set
            steps.append(admin.command("CONFIG", "SET", "requirepass", PASSWORD))
            steps.append(admin.command("PING"))
            steps.append(early.command("PING"))             # stays authenticated
            with srv.connect() as late:
                steps.append(late.command("PING"))
                steps.append(late.command("AUTH", PASSWORD))
                steps.append(late.command("PING"))
            with srv.connect() as unauth:
                steps.append(unauth.command("PING"))
                steps.append(admin.command("CONFIG", "SET", "requirepass", ""))
                steps.append(unauth.command("PING"))          # opened while a password was set, never AUTHed
            with srv.connect() as fresh:
                steps.append(fresh.command("PING"))
        results[name] = steps
    expected = [b"+PONG\r\n", b"+OK\r\n", b"+PONG\r\n", b"+PONG\r\n", NOAUTH, b"+OK\r\n", b"+PONG\r\n", NOAUTH,
                b"+OK\r\n", b"+PONG\r\n", b"+PONG\r\n"]
    assert results["redis"] == expected, results["redis"]
    assert results["clone"] == expected, (
        f"redis-server: {results['redis']}\nunder test:   {results['clone']}")


@pytest.mark.clone_only
def test_password_from_environment_not_on_command_line(launcher):
    password = "env-" + secrets.token_hex(8)
    srv = launcher.start(lambda port, tmp: server_argv(binary_under_test(), port),
                         env={"REDIS_CLONE_PASSWORD": password}, name="server under test")
    assert transcript(srv, [("PING",), ("AUTH", "wrong"), ("AUTH", password), ("PING",)]) == \
        [NOAUTH, WRONGPASS, b"+OK\r\n", b"+PONG\r\n"]
    assert transcript(srv, [("HELLO", "3", "AUTH", "default", password), ("PING",)])[1] == b"+PONG\r\n"
    with open(f"/proc/{srv.pid}/cmdline", "rb") as f:
        cmdline = f.read()
    assert password.encode() not in cmdline, cmdline
    assert b"--requirepass" not in cmdline
    assert password not in srv.log_text(), "the password was written to the log"


@pytest.mark.clone_only
def test_command_line_password_wins_over_environment(launcher):
    srv = launcher.start(lambda port, tmp: server_argv(binary_under_test(), port, ["--requirepass", "fromflag"]),
                         env={"REDIS_CLONE_PASSWORD": "fromenv"}, name="server under test")
    assert transcript(srv, [("AUTH", "fromenv"), ("AUTH", "fromflag"), ("PING",)]) == \
        [WRONGPASS, b"+OK\r\n", b"+PONG\r\n"]


def test_password_from_config_file(launcher):
    password = "file-" + secrets.token_hex(8)
    conf = f"# access\nrequirepass {password}\n"
    pair = start_pair(launcher, conf_text=conf)
    assert_same(pair, [("PING",), ("AUTH", "wrong"), ("AUTH", password), ("PING",)],
                expected=[NOAUTH, WRONGPASS, b"+OK\r\n", b"+PONG\r\n"])
    for srv in pair.values():
        with open(f"/proc/{srv.pid}/cmdline", "rb") as f:
            assert password.encode() not in f.read()
    assert password not in pair["clone"].log_text(), "the password was written to the log"


def test_quoted_password_with_spaces_from_config_file(launcher):
    conf = 'requirepass "pass word \\"quoted\\""\n'
    pair = start_pair(launcher, conf_text=conf)
    assert_same(pair, [("AUTH", "pass word"), ("AUTH", 'pass word "quoted"'), ("PING",)],
                expected=[WRONGPASS, b"+OK\r\n", b"+PONG\r\n"])


# --- protected mode ----------------------------------------------------------------------------------
def connect_from(source: str, port: int, family=socket.AF_INET, dest: str = HOST) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect((dest, port))
    return s


def exchange_from(source: str, port: int, commands, family=socket.AF_INET, dest: str = HOST) -> list[bytes]:
    """Connects from `source` (a loopback address), runs commands; a server that refuses sends its text
    and closes: that is returned as one element followed by CLOSED."""
    s = connect_from(source, port, family, dest)
    try:
        conn = wrap_socket(s, port, timeout=5.0)
        out = []
        for cmd in commands:
            try:
                conn.send(encode_command(*cmd))
                out.append(conn.read_reply())
            except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
                out.append(CLOSED)
                break
        return out
    finally:
        s.close()


def denied_bytes(port: int) -> tuple[bytes, str]:
    """Connects from 127.0.0.2 and reads, without sending anything, until the server closes."""
    s = connect_from("127.0.0.2", port)
    try:
        return read_until_closed(s, timeout=5)
    finally:
        s.close()


@pytest.fixture(scope="module", autouse=False)
def second_loopback_address():
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
    except OSError as e:
        pytest.fail(f"cannot bind 127.0.0.2 on this machine: {e}")


@pytest.mark.parametrize("bind", ["0.0.0.0", "127.0.0.1"])
def test_protected_mode_denies_non_loopback_client(launcher, second_loopback_address, bind):
    """No password, protected mode on (the default): a client whose address is 127.0.0.2 gets the DENIED text
    and the connection is closed; 127.0.0.1 is served. Redis decides on the client's address, whatever the
    bind address (a 127.0.0.1 listener is reached from source address 127.0.0.2 too). Every-interface
    listeners are used only in tests where protected mode is on and no password is set."""
    pair = start_pair(launcher, bind=bind)
    got = {name: denied_bytes(srv.port) for name, srv in pair.items()}
    assert got["redis"][0] == DENIED, got["redis"]
    assert got["clone"][0] == got["redis"][0], f"redis-server sent {got['redis']!r}\nunder test {got['clone']!r}"
    assert got["clone"][1] in ("eof", "reset"), f"the refused connection was left open: {got['clone']!r}"
    for name, srv in pair.items():
        assert exchange_from("127.0.0.1", srv.port, [("PING",)]) == [b"+PONG\r\n"], name
        assert exchange_from("127.0.0.2", srv.port, [("PING",)])[0] in (DENIED, CLOSED), name


@pytest.mark.clone_only
def test_protected_mode_on_dual_stack_listener(launcher, second_loopback_address):
    """--listenAddr :PORT listens on every interface over IPv6 with IPv4 mapped: 127.0.0.2 (seen as
    ::ffff:127.0.0.2) is refused, 127.0.0.1 and ::1 are served."""
    srv = launcher.start(lambda port, tmp: [binary_under_test(), "--listenAddr", f":{port}"], name="under test")
    data, how = denied_bytes(srv.port)
    assert data == DENIED and how in ("eof", "reset"), (data, how)
    assert exchange_from("127.0.0.1", srv.port, [("PING",)]) == [b"+PONG\r\n"]
    assert exchange_from("::1", srv.port, [("PING",)], family=socket.AF_INET6, dest="::1") == [b"+PONG\r\n"]


def test_protected_mode_off_lets_non_loopback_in(launcher, second_loopback_address):
    pair = start_pair(launcher, ["--protected-mode", "no"])  # 127.0.0.1 only: no open server on the network
    for name, srv in pair.items():
        assert exchange_from("127.0.0.2", srv.port, [("PING",), ("SET", "k", "v"), ("GET", "k")]) == \
            [b"+PONG\r\n", b"+OK\r\n", b"$1\r\nv\r\n"], name


def test_password_lets_non_loopback_in(launcher, second_loopback_address):
    pair = start_pair(launcher, ["--requirepass", PASSWORD])
    for name, srv in pair.items():
        assert exchange_from("127.0.0.2", srv.port, [("PING",), ("AUTH", "wrong"), ("AUTH", PASSWORD), ("PING",)]) \
            == [NOAUTH, WRONGPASS, b"+OK\r\n", b"+PONG\r\n"], name


def test_protected_mode_follows_config_set(launcher, second_loopback_address):
    """CONFIG SET protected-mode / requirepass from the loopback interface take effect for the next client."""
    pair = start_pair(launcher)
    results = {}
    for name, srv in pair.items():
        steps = []
        with srv.connect() as admin:
            steps.append(denied_bytes(srv.port)[0])
            steps.append(admin.command("CONFIG", "SET", "protected-mode", "no"))
            steps.append(exchange_from("127.0.0.2", srv.port, [("PING",)]))
            steps.append(admin.command("CONFIG", "SET", "protected-mode", "yes"))
            steps.append(denied_bytes(srv.port)[0])
            steps.append(admin.command("CONFIG", "SET", "requirepass", PASSWORD))
            steps.append(exchange_from("127.0.0.2", srv.port, [("PING",), ("AUTH", PASSWORD), ("PING",)]))
            steps.append(admin.command("CONFIG", "SET", "requirepass", ""))
            steps.append(denied_bytes(srv.port)[0])
        results[name] = steps
    expected = [DENIED, b"+OK\r\n", [b"+PONG\r\n"], b"+OK\r\n", DENIED, b"+OK\r\n",
                [NOAUTH, b"+OK\r\n", b"+PONG\r\n"], b"+OK\r\n", DENIED]
    assert results["redis"] == expected
    assert results["clone"] == expected, f"redis-server: {results['redis']}\nunder test: {results['clone']}"
