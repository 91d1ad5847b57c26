#!/usr/bin/env bash
# What an idle application costs: the packaged sample app (two pools, 6 PHP workers) started,
# asked for /php/hello once, then left alone. Over --seconds of idling (after --settle seconds)
# prints the JVM's wake-ups (voluntary + involuntary context switches of all its threads) per
# second and its CPU (utime + stime, % of one core), then the threads that woke most and ours (folk-*).
# With --jar-b, measures a second jar the same way right after, and prints both.
#
#   bash benchmarks/scripts/idle-cost.sh [--jar-a <jar>] [--jar-b <jar>] [--settle 20] [--seconds 30]
#
# Build the jar first (./mvnw -pl sample-app -am -DskipTests package). Ports 18095 and 18096.
set -euo pipefail

cd "$(dirname "$0")/../.."
JAR_A=sample-app/target/folk-sample-app.jar
JAR_B=
SETTLE=20
SECONDS_IDLE=30

while [ $# -gt 0 ]; do
    case "$1" in
        --jar-a) JAR_A=$2; shift 2 ;;
        --jar-b) JAR_B=$2; shift 2 ;;
        --settle) SETTLE=$2; shift 2 ;;
        --seconds) SECONDS_IDLE=$2; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

WORK=$(mktemp -d)
APP_PID=
cleanup() {
    if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
        kill "$APP_PID"
        for _ in $(seq 1 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# One line per thread: name, utime + stime (clock ticks), context switches so far.
threads() {
    local pid=$1 t
    for t in /proc/"$pid"/task/*; do
        [ -r "$t/stat" ] || continue
        printf '%s\t%s\t%s\n' "$(cat "$t/comm" 2>/dev/null)" \
            "$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')" \
            "$(awk '/ctxt_switches/ {n += $2} END {print n}' "$t/status" 2>/dev/null)"
    done
}

measure() {
    local label=$1 jar=$2 port=$3
    [ -f "$jar" ] || { echo "no jar at $jar: build it first" >&2; exit 2; }
    java -jar "$jar" --server.port="$port" > "$WORK/$label.log" 2>&1 &
    APP_PID=$!
    for _ in $(seq 1 120); do
        curl -sf "http://127.0.0.1:$port/actuator/health" > /dev/null && break
        kill -0 "$APP_PID" 2>/dev/null || { cat "$WORK/$label.log" >&2; exit 1; }
        sleep 1
    done
    curl -sf "http://127.0.0.1:$port/php/hello" > /dev/null || { echo "$label: /php/hello failed" >&2; exit 1; }
    sleep "$SETTLE"
    threads "$APP_PID" > "$WORK/$label.before"
    sleep "$SECONDS_IDLE"
    threads "$APP_PID" > "$WORK/$label.after"
    kill "$APP_PID"
    wait "$APP_PID" 2>/dev/null || true
    APP_PID=
    python3 - "$WORK/$label.before" "$WORK/$label.after" "$label" "$SECONDS_IDLE" "$(getconf CLK_TCK)" <<'PY'
import collections, re, sys
before, after, label, seconds, hz = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])

def load(path):
    by_name = collections.defaultdict(lambda: [0, 0])
    for line in open(path):
        parts = line.rstrip('\n').split('\t')
        if len(parts) != 3 or not parts[1] or not parts[2]:
            continue  # a thread that ended while it was read
        name = re.sub(r'[-#]?\d+$', '', parts[0])  # folk-default-ho(usekeeper-1), GC Thread#0...
        by_name[name][0] += int(parts[1])
        by_name[name][1] += int(parts[2])
    return by_name

a, b = load(before), load(after)
rows = []
for name, (cpu, switches) in b.items():
    cpu0, switches0 = a.get(name, [0, 0])
    rows.append((name, (cpu - cpu0) / hz, (switches - switches0) / seconds))
cpu = sum(r[1] for r in rows)
wakes = sum(r[2] for r in rows)
print(f"{label}: {wakes:.1f} wake-ups/s, CPU {100 * cpu / seconds:.2f}% of a core over {seconds:.0f} s idle")
# The busiest threads, and ours (folk-*) whatever they did.
ranked = sorted(rows, key=lambda r: (r[2], r[1]), reverse=True)
for name, c, w in [r for i, r in enumerate(ranked) if i < 6 or r[0].startswith('folk-')]:
    print(f"  {name:24s} {w:6.1f} wake-ups/s  {100 * c / seconds:5.2f}% CPU")
PY
}

measure A "$JAR_A" 18095
if [ -n "$JAR_B" ]; then
    measure B "$JAR_B" 18096
fi
