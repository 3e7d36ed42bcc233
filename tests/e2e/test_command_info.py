"""COMMAND INFO against Debian's redis-server 7.0: for every command and subcommand redis-clone declares,
the arity, the flags, the key positions and the ACL categories must be Redis's. Clients and tools read
these (a "loading" flag, for instance, says whether the command runs while the dataset loads).

Not compared: command tips and key specifications (redis-clone sends none), and commands Redis 7.0 does
not have (CLIENT SETINFO, from 7.2, which go-redis sends on connect)."""

from __future__ import annotations

import pytest

from conftest import launched, start_pair
from resp import parse

NEWER_THAN_REDIS_7_0 = {b"client|setinfo"}


@pytest.fixture(scope="module")
def pair():
    with launched() as lau:
        yield start_pair(lau)


def command_table(srv) -> dict[bytes, tuple]:
    """name -> (arity, flags, first key, last key, step, ACL categories), subcommands included."""
    with srv.connect() as c:
        reply = parse(c.command("COMMAND"))
    table = {}

    def add(entries):
        for entry in entries:
            fields = entry.items
            table[fields[0].value] = (fields[1].value, sorted(f.value for f in fields[2].items),
                                      fields[3].value, fields[4].value, fields[5].value,
                                      sorted(f.value for f in fields[6].items))
            add(fields[9].items)

    add(reply.items)
    return table


def test_every_declared_command_is_described_as_redis_describes_it(pair):
    ours = command_table(pair["clone"])
    redis = command_table(pair["redis"])
    assert len(ours) > 80, sorted(ours)  # the whole table, subcommands included
    differences = []
    for name, described in sorted(ours.items()):
        if name in NEWER_THAN_REDIS_7_0:
            continue
        if name not in redis:
            differences.append(f"{name!r}: not a Redis 7.0 command")
        elif described != redis[name]:
            differences.append(f"{name!r}: ours {described}, Redis {redis[name]}")
    assert differences == [], "\n".join(differences)
