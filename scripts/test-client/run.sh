#!/usr/bin/env bash
# Builds the Go test client and runs it against a redis-clone binary:
#   scripts/test-client/run.sh /abs/path/to/redis-clone [EXTRA-SERVER-ARGS...]
#   scripts/test-client/run.sh -redis-server          (the same checks against Debian's redis-server)
# Exits with the client's exit code (0 only when every check passed).
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 /abs/path/to/redis-clone [EXTRA-SERVER-ARGS...]" >&2
  exit 2
fi
# A relative binary path is taken from the caller's directory, before the cd below.
if [[ "$1" != -* && "$1" != /* ]]; then
  set -- "$PWD/$1" "${@:2}"
fi
cd "$(dirname "$0")"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=$PATH:/usr/local/go/bin
fi
go build -o test-client .
exec ./test-client "$@"
