#!/usr/bin/env bash
# The JVM's CPU per request through the HTTP gateway, for two configurations of the sample app
# side by side (A and B: the same jar with other options, or another jar), in alternating rounds
# so that both see the same machine. Prints, per round, req/s, the JVM's CPU per request and its
# PHP workers' (utime + stime from /proc over the requests wrk completed), then the medians.
#
#   bash benchmarks/scripts/gateway-cost.sh [--a "<app args>"] [--b "<app args>"]
#        [--jvm-a "<JVM options>"] [--jvm-b "<JVM options>"] [--jar-a <jar>] [--jar-b <jar>]
#        [--worker-a <php script>] [--worker-b <php script>]
#        [--page hello] [--conns 16] [--rounds 4] [--seconds 8] [--warm 20] [--syscalls]
#
# Both apps run a PHP worker script (scripts/fpm/www/worker.php unless --worker-a/--worker-b name
# another: a worker is not chosen with --a/--b, where a second --folk.args would join the first)
# in 4 workers that never recycle, and keep a connection for 100000 requests (nginx's
# keepalive_requests in fpm/run.sh).
# --syscalls also counts, with perf stat, the JVM's system calls and context switches per request
# (both sides, last round only; needs perf and tracepoints). Build the jar first
# (./mvnw -pl sample-app -am -DskipTests package). Ports 18091 and 18092.
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd -- "$here/../.." && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
args_a="" args_b="" jvm_a="" jvm_b="" jar_a="$root/sample-app/target/folk-sample-app.jar" jar_b=""
worker_a="$root/benchmarks/scripts/fpm/www/worker.php" worker_b=""
page=hello conns=16 rounds=4 seconds=8 warm=20 syscalls=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --a) args_a=$2; shift ;;
        --b) args_b=$2; shift ;;
        --jvm-a) jvm_a=$2; shift ;;
        --jvm-b) jvm_b=$2; shift ;;
        --jar-a) jar_a=$2; shift ;;
        --jar-b) jar_b=$2; shift ;;
        --worker-a) worker_a=$2; shift ;;
        --worker-b) worker_b=$2; shift ;;
        --page) page=$2; shift ;;
        --conns) conns=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --seconds) seconds=$2; shift ;;
        --warm) warm=$2; shift ;;
        --syscalls) syscalls=1 ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "gateway-cost.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
jar_b=${jar_b:-$jar_a}
worker_b=${worker_b:-$worker_a}
for tool in wrk php; do
    command -v "$tool" >/dev/null || { echo "gateway-cost.sh: $tool not found" >&2; exit 2; }
done
[[ -f $jar_a && -f $jar_b ]] || { echo "gateway-cost.sh: no jar at $jar_a or $jar_b; build it first" >&2; exit 2; }

logs=$(mktemp -d)
pids=()
cleanup() { [[ ${#pids[@]} -gt 0 ]] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$logs"; }
trap cleanup EXIT

start() { # jar port args jvm-options worker: starts one app in the background, its pid in $!
    # shellcheck disable=SC2086 # the options are words on purpose
    "$java" --enable-native-access=ALL-UNNAMED $4 -jar "$1" --server.port="$2" --server.address=127.0.0.1 \
        --folk.args="$5" --folk.size=4 --folk.pools.default.max-jobs=0 \
        --folk.max-memory=0 --folk.output=DISCARD --logging.level.root=WARN \
        --server.tomcat.max-keep-alive-requests=100000 $3 >"$logs/$2.log" 2>&1 &
}
start "$jar_a" 18091 "$args_a" "$jvm_a" "$worker_a"; pid_a=$!; pids+=("$pid_a")
start "$jar_b" 18092 "$args_b" "$jvm_b" "$worker_b"; pid_b=$!; pids+=("$pid_b")
for port in 18091 18092; do
    for _ in $(seq 1 240); do
        curl -sf "http://127.0.0.1:$port/php/$page" >/dev/null && continue 2
        sleep 0.5
    done
    echo "gateway-cost.sh: the app on port $port did not answer /php/$page; its log:" >&2
    tail -20 "$logs/$port.log" >&2
    exit 1
done
for port in 18091 18092 18091 18092; do # warm both JITs, alternating
    wrk -t2 -c"$conns" -d"${warm}s" "http://127.0.0.1:$port/php/$page" >/dev/null
done

tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
workers_cpu() { # the CPU of the JVM's children (its PHP workers, which never recycle here)
    local total=0 child
    for child in $(pgrep -P "$1"); do
        total=$(( total + $(cpu "$child" 2>/dev/null || echo 0) ))
    done
    echo "$total"
}
echo "side round req/s jvm_cpu_us_per_request php_cpu_us_per_request"
for r in $(seq 1 "$rounds"); do
    for side in A B; do
        if [[ $side == A ]]; then pid=$pid_a port=18091; else pid=$pid_b port=18092; fi
        url="http://127.0.0.1:$port/php/$page"
        wrk -t2 -c"$conns" -d2s "$url" >/dev/null # both sides start each round from the same state
        perf_pid=""
        if [[ $syscalls == 1 && $r == "$rounds" ]]; then
            perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pid" -o "$logs/perf-$side" \
                -- sleep "$seconds" 2>/dev/null &
            perf_pid=$!
        fi
        c0=$(cpu "$pid") w0=$(workers_cpu "$pid")
        out=$(wrk -t2 -c"$conns" -d"${seconds}s" "$url")
        c1=$(cpu "$pid") w1=$(workers_cpu "$pid")
        [[ -n $perf_pid ]] && { wait "$perf_pid" || true; }
        reqs=$(awk '/requests in/ {print $1}' <<<"$out")
        rps=$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")
        echo "$side $r $rps $(( (c1 - c0) * 1000000 / tck / reqs )) $(( (w1 - w0) * 1000000 / tck / reqs ))"
        if [[ -f $logs/perf-$side ]]; then
            awk -F, -v r="$reqs" -v s="$side" '$3 ~ /sys_enter|context-switches/ && $1 ~ /^[0-9]+$/ {
                printf "  %s: %s per request: %.2f\n", s, $3, $1 / r }' "$logs/perf-$side"
        fi
    done
done | tee "$logs/rounds"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for side in A B; do
    echo "$side: median $(awk -v s=$side '$1 == s {print $3}' "$logs/rounds" | median) req/s," \
        "median JVM CPU $(awk -v s=$side '$1 == s {print $4}' "$logs/rounds" | median) us per request," \
        "median PHP workers' CPU $(awk -v s=$side '$1 == s {print $5}' "$logs/rounds" | median) us per request"
done
