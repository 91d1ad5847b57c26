#!/usr/bin/env bash
# A MariaDB server of its own, for applications that need one (wordpress.sh), from Debian's package
# (apt-get install mariadb-server):
#
#   mariadb.sh start <workdir> <database>...   mariadbd on the socket <workdir>/db.sock (no TCP port), its
#                                              data in <workdir>/data, with these databases, empty
#   mariadb.sh stop <workdir>
#
# No configuration file is read (--no-defaults): the system's server, if one runs, is not involved.
# User root, no password, over the socket only. start waits until the server answers; stop until it
# has ended. Nothing is written outside <workdir>.
set -euo pipefail

usage() {
    echo "usage: mariadb.sh start <workdir> <database>... | stop <workdir>" >&2
    exit 2
}
fail() {
    echo "mariadb.sh: $*" >&2
    exit 1
}

[[ $# -ge 2 ]] || usage
command="$1"
mkdir -p "$2"
work="$(cd -- "$2" && pwd -P)"
shift 2

case "$command" in
start)
    command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || fail "mariadbd not found (apt-get install mariadb-server)"
    [[ ! -e $work/data ]] || fail "$work/data exists"
    # As the current user: --user names it, which mariadbd needs when that is root.
    user="$(id -un)"
    mariadb-install-db --no-defaults --datadir="$work/data" --user="$user" --auth-root-authentication-method=normal \
        --skip-test-db >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "mariadb-install-db failed"; }
    # A small server: the tests' databases are a few megabytes.
    setsid /usr/sbin/mariadbd --no-defaults --datadir="$work/data" --socket="$work/db.sock" --skip-networking \
        --pid-file="$work/db.pid" --log-error="$work/error.log" --user="$user" --innodb-buffer-pool-size=16M \
        --performance-schema=OFF --skip-log-bin </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 300); do
        if mariadb --no-defaults --socket="$work/db.sock" -uroot -e 'select 1' >/dev/null 2>&1; then
            for db in "$@"; do
                mariadb --no-defaults --socket="$work/db.sock" -uroot -e "create database \`$db\`"
            done
            echo "started: mariadbd ($(cat "$work/db.pid")) on $work/db.sock"
            exit 0
        fi
        sleep 0.1
    done
    tail -20 "$work/error.log" >&2 || true
    fail "mariadbd did not answer within 30 s"
    ;;
stop)
    [[ -f $work/db.pid ]] || exit 0
    pid="$(cat "$work/db.pid")"
    kill "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { echo "stopped mariadbd ($pid)"; exit 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    echo "killed mariadbd ($pid): it did not end within 30 s"
    ;;
*) usage ;;
esac
