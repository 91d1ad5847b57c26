#!/usr/bin/env bash
# Large answers: a plain PHP handler that prints --mb MiB with echo (fpm/www/big.php), downloaded
# through the sample app's gateway (4 workers of fpm/www/worker.php) and through nginx + PHP-FPM
# (fpm/run.sh, 4 children), one download at a time, alternating, --rounds times. Prints, per
# round and side, the seconds the download took and the server's CPU seconds (JVM + workers;
# nginx + PHP-FPM), then the medians and their ratios (ours / nginx + PHP-FPM).
#
#   bash benchmarks/scripts/big-answer.sh [--mb 200] [--rounds 6]
#
# Build the jar first (./mvnw -pl sample-app -am -DskipTests package). Ports 18093 and 18094.
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd -- "$here/../.." && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
jar="$root/sample-app/target/folk-sample-app.jar"
mb=200 rounds=6
while [[ $# -gt 0 ]]; do
    case "$1" in
        --mb) mb=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "big-answer.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for tool in curl php; do
    command -v "$tool" >/dev/null || { echo "big-answer.sh: $tool not found" >&2; exit 2; }
done
[[ -f $jar ]] || { echo "big-answer.sh: no jar at $jar; build it first" >&2; exit 2; }

work=$(mktemp -d)
chmod 755 "$work" # reachable by nobody, which PHP-FPM's children are as root
app=""
cleanup() {
    if [[ -n $app ]]; then
        kill "$app" 2>/dev/null || true
        wait "$app" 2>/dev/null || true # 143: it ended on the TERM
    fi
    bash "$here/fpm/run.sh" stop "$work/fpm" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

"$java" --enable-native-access=ALL-UNNAMED -jar "$jar" --server.port=18093 --server.address=127.0.0.1 \
    --folk.args="$here/fpm/www/worker.php" --folk.size=4 --folk.pools.default.max-jobs=0 --folk.max-memory=0 \
    --folk.output=DISCARD --logging.level.root=WARN >"$work/app.log" 2>&1 &
app=$!
bash "$here/fpm/run.sh" start "$work/fpm" 4 18094 >/dev/null
for _ in $(seq 1 120); do
    curl -fs -o /dev/null http://127.0.0.1:18093/php/hello && break
    kill -0 "$app" 2>/dev/null || { cat "$work/app.log" >&2; exit 1; }
    sleep 1
done

ticks=$(getconf CLK_TCK)
ours_cpu() { # the JVM's CPU and its workers', in clock ticks
    local total=0 p
    for p in "$app" $(pgrep -P "$app" || true); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
fpm_cpu() { # in clock ticks, from run.sh's milliseconds
    bash "$here/fpm/run.sh" cpu "$work/fpm" | sed -n 's/.*cpu_ms=\([0-9]*\).*/\1/p' | awk -v t="$ticks" '{print int($1 * t / 1000)}'
}
expected=$((mb * 1048576))
download() { # url: prints the seconds it took; fails on a short answer
    local out
    out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}' "$1")
    set -- $out
    [[ $1 == 200 && $2 == "$expected" ]] || { echo "big-answer.sh: $1, $2 of $expected bytes" >&2; exit 1; }
    echo "$3"
}
measure() { # side url: one download, prints "seconds cpu-seconds"
    local before after seconds
    before=$("$1"_cpu)
    seconds=$(download "$2")
    after=$("$1"_cpu)
    echo "$seconds $(awk -v d=$((after - before)) -v t="$ticks" 'BEGIN { printf "%.3f", d / t }')"
}
# Warm-up: the JIT, and both sides' first large answers.
for _ in 1 2 3; do
    download "http://127.0.0.1:18093/php/big?mb=$mb" >/dev/null
    download "http://127.0.0.1:18094/big.php?mb=$mb" >/dev/null
done
printf '%-6s %14s %14s %16s %16s\n' round "ours s" "fpm s" "ours cpu s" "fpm cpu s"
: >"$work/rows"
for r in $(seq 1 "$rounds"); do
    read -r os oc < <(measure ours "http://127.0.0.1:18093/php/big?mb=$mb")
    read -r fs fc < <(measure fpm "http://127.0.0.1:18094/big.php?mb=$mb")
    printf '%-6s %14s %14s %16s %16s\n' "$r" "$os" "$fs" "$oc" "$fc"
    echo "$os $fs $oc $fc" >>"$work/rows"
done
median() { sort -g | awk '{v[NR] = $1} END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
os=$(cut -d' ' -f1 "$work/rows" | median); fs=$(cut -d' ' -f2 "$work/rows" | median)
oc=$(cut -d' ' -f3 "$work/rows" | median); fc=$(cut -d' ' -f4 "$work/rows" | median)
echo "medians, $mb MiB: download ${os} s vs ${fs} s ($(awk -v a="$os" -v b="$fs" 'BEGIN { printf "%.2f", a / b }')x);" \
    "server CPU ${oc} s vs ${fc} s ($(awk -v a="$oc" -v b="$fc" 'BEGIN { printf "%.2f", a / b }')x)"
