#!/bin/sh
# A worker for the shutdown-at-scale benchmark (dev.folk.benchmarks.Shutdown): every second
# one ignores TERM, and each has a grandchild.
#
#   shutdown-worker.sh <counter-file> <echo-worker>
#
# Takes the next number from <counter-file> (under flock, so a pool of N gets exactly N/2 of
# each kind), starts a grandchild (`sleep`, without fds 3 and 4), then:
#   even: execs the C echo worker, which serves until fd 3 reaches EOF and exits 0; the
#         grandchild dies on TERM.
#   odd:  ignores TERM (so does the grandchild, which inherits the disposition), runs the echo
#         worker as a child until EOF, then lingers as `sleep`: only KILL ends its group.
# Started by a Folk master: fds 3 and 4 are the task and control channels.
set -eu
counter=$1
worker=$2
# shellcheck disable=SC2016 # $1 belongs to the inner shell
n=$(flock "$counter" sh -c 'n=$(cat "$1"); n=${n:-0}; echo $((n + 1)) >"$1"; echo "$n"' sh "$counter")
if [ $((n % 2)) -eq 1 ]; then
    trap '' TERM
    sleep 600 3>&- 4>&- &
    "$worker"
    exec sleep 600 3>&- 4>&-
else
    sleep 600 3>&- 4>&- &
    exec "$worker"
fi
