#!/usr/bin/env bash
# Builds the native benchmark programs (build-native.sh) and runs them once, printing one
# summary table (and the raw key=value lines, also saved under benchmarks/target/native/).
#
#   run-native.sh
#
# Runs: pingpong (1 and 2 pairs, unpinned and pinned); the C master against the C echo
# worker and against the PHP echo worker (folk-worker-php/src/main/php/bin/echo-worker.php),
# 1 and 2 workers each;
# `php -n -r 'exit;'` start-up (hyperfine if installed, else a loop of 200 timed with
# date +%s%N; plus the same through spawn.c); spawn-to-reap of tiny (spawn.c, plain and full).
#
# Environment (defaults in brackets): SIZE message bytes [64]; PINGPONG_N round trips per pair
# [100000]; MASTER_N_C and MASTER_N_PHP requests per worker [100000, 50000]; SPAWN_N [2000];
# STARTUP_RUNS [200]; STARTUP_TIMER hyperfine|loop [hyperfine if installed]; PHP [php].
# Timings are noisy on a small shared machine: compare figures from the same run, and check
# the load average printed first.
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
bench="$(cd -- "$here/.." && pwd)"
root="$(cd -- "$bench/.." && pwd)"
native="$bench/target/native"
php_worker="$root/folk-worker-php/src/main/php/bin/echo-worker.php"

size="${SIZE:-64}"
pingpong_n="${PINGPONG_N:-100000}"
master_n_c="${MASTER_N_C:-100000}"
master_n_php="${MASTER_N_PHP:-50000}"
spawn_n="${SPAWN_N:-2000}"
startup_runs="${STARTUP_RUNS:-200}"
php_bin="$(command -v -- "${PHP:-php}")" || { echo "run-native.sh: php not found (set PHP)" >&2; exit 1; }
[[ -f $php_worker ]] || { echo "run-native.sh: missing $php_worker" >&2; exit 1; }

"$here/build-native.sh" >&2

stamp="$(date +%Y%m%d-%H%M%S)"
raw="$native/results-$stamp.txt"
: >"$raw"

# Each benchmark prints one key=value line; keep it, keyed by a short id.
declare -A line label
order=()
run() { # id, label, command...
    local id="$1" text="$2"
    shift 2
    echo "running: $text" >&2
    local out
    if ! out="$("$@")"; then
        echo "run-native.sh: '$text' failed" >&2
        exit 1
    fi
    line[$id]="$out"
    label[$id]="$text"
    order+=("$id")
    printf '%s: %s\n' "$id" "$out" >>"$raw"
}

# get <id> <key>: a value from a key=value line, "-" if absent.
get() {
    local kv
    for kv in ${line[$1]}; do
        if [[ ${kv%%=*} == "$2" ]]; then
            printf '%s' "${kv#*=}"
            return 0
        fi
    done
    printf '%s' "-"
}

echo "machine: $(nproc) cpu(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$raw"

run pp1 "pingpong ${size} B, 1 pair" "$native/pingpong" -s "$size" -n "$pingpong_n" -p 1
run pp2 "pingpong ${size} B, 2 pairs" "$native/pingpong" -s "$size" -n "$pingpong_n" -p 2
# Pinned (-a: each pair on one CPU): the same-core figure, steady from run to run.
run ppa1 "pingpong ${size} B, 1 pair, pinned" "$native/pingpong" -a -s "$size" -n "$pingpong_n" -p 1
run ppa2 "pingpong ${size} B, 2 pairs, pinned" "$native/pingpong" -a -s "$size" -n "$pingpong_n" -p 2
run mc1 "C master -> C echo-worker, 1 worker" "$native/master" -w 1 -n "$master_n_c" -s "$size" -- "$native/echo-worker"
run mc2 "C master -> C echo-worker, 2 workers" "$native/master" -w 2 -n "$master_n_c" -s "$size" -- "$native/echo-worker"
run mp1 "C master -> PHP echo-worker, 1 worker" "$native/master" -w 1 -n "$master_n_php" -s "$size" -- "$php_bin" "$php_worker"
run mp2 "C master -> PHP echo-worker, 2 workers" "$native/master" -w 2 -n "$master_n_php" -s "$size" -- "$php_bin" "$php_worker"

# php -n start-up: hyperfine (no intermediate shell) if installed, else a bash loop.
startup_stats() { # values in ns on stdin -> key=value line in us
    sort -n | awk '{ v[NR] = $1; s += $1 }
        END { if (NR == 0) exit 1
              p50 = v[int((NR * 50 + 99) / 100)]; p99 = v[int((NR * 99 + 99) / 100)]
              printf "n=%d startup_p50_us=%.0f startup_p99_us=%.0f startup_mean_us=%.0f ops_per_s=%.1f\n",
                     NR, p50 / 1000, p99 / 1000, s / NR / 1000, NR / (s / 1e9) }'
}
php_startup_hyperfine() {
    local json
    json="$(mktemp)"
    hyperfine -N --style none --warmup 10 --runs "$startup_runs" --export-json "$json" \
        "$php_bin -n -r exit;" >/dev/null
    # shellcheck disable=SC2016 # PHP code, not shell expansions
    "$php_bin" -n -r '$r = json_decode(file_get_contents($argv[1]), true)["results"][0];
        foreach ($r["times"] as $t) { printf("%d\n", (int) round($t * 1e9)); }' "$json" | startup_stats
    rm -f -- "$json"
}
php_startup_loop() {
    local i t0 t1
    for ((i = 0; i < 10; i++)); do "$php_bin" -n -r 'exit;'; done
    for ((i = 0; i < startup_runs; i++)); do
        t0="$(date +%s%N)"
        "$php_bin" -n -r 'exit;'
        t1="$(date +%s%N)"
        echo $((t1 - t0))
    done | startup_stats
}
timer="${STARTUP_TIMER:-}"
if [[ -z $timer ]]; then
    if command -v hyperfine >/dev/null 2>&1; then timer=hyperfine; else timer=loop; fi
fi
if [[ $timer == hyperfine ]]; then
    run php "php -n -r 'exit;' (hyperfine -N)" php_startup_hyperfine
else
    run php "php -n -r 'exit;' (bash loop, date +%s%N)" php_startup_loop
fi
run phps "php -n -r 'exit;' (spawn.c)" "$native/spawn" -n "$startup_runs" -w 10 "$php_bin" -n -r 'exit;'
run sp "spawn-to-reap tiny ($(<"$native/tiny.link")), plain" "$native/spawn" -n "$spawn_n"
run spf "spawn-to-reap tiny ($(<"$native/tiny.link")), full" "$native/spawn" -f -n "$spawn_n"

# The table.
echo
printf '%-48s %10s %10s %12s  %s\n' benchmark p50_us p99_us ops_per_s notes
for id in "${order[@]}"; do
    case "$id" in
    pp*) p50="$(get "$id" rtt_p50_us)"; p99="$(get "$id" rtt_p99_us)"
         notes="n=$(get "$id" n)" ;;
    mc* | mp*) p50="$(get "$id" rtt_p50_us)"; p99="$(get "$id" rtt_p99_us)"
         notes="CPU/op master $(get "$id" master_cpu_us_per_op) us, worker $(get "$id" worker_cpu_us_per_op) us;"
         notes+=" spawn->ready p50 $(get "$id" ready_ms_p50) ms; stop $(get "$id" stop_ms) ms; exit $(get "$id" exit_codes)" ;;
    php) p50="$(get "$id" startup_p50_us)"; p99="$(get "$id" startup_p99_us)"
         notes="mean $(get "$id" startup_mean_us) us, n=$(get "$id" n)" ;;
    *) p50="$(get "$id" spawn_p50_us)"; p99="$(get "$id" spawn_p99_us)"
         notes="mean $(get "$id" spawn_mean_us) us, n=$(get "$id" n)" ;;
    esac
    printf '%-48s %10s %10s %12s  %s\n' "${label[$id]}" "$p50" "$p99" "$(get "$id" ops_per_s)" "$notes"
done
echo
echo "raw results: $raw"
