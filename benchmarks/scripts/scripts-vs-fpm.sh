#!/usr/bin/env bash
# An application of PHP scripts (fpm/scripts/public: hello.php, and page.php, which declares sixty-odd
# functions in every request and renders a table) served two ways, in alternating rounds: through the
# sample app's HTTP gateway by folk-worker-php's Folk\Worker\Scripts (each request's script in a
# process forked from a worker), and by nginx + PHP-FPM running the scripts classically. Prints, per
# round and page, req/s, p50 latency and the CPU per request of each side's PHP processes (the
# workers and their requests' processes; PHP-FPM's master and children), then the medians.
#
#   bash benchmarks/scripts/scripts-vs-fpm.sh [--workers 4] [--conns 16] [--rounds 3] [--seconds 8]
#        [--warm 10] [--php-args "-d opcache.enable_cli=1"] [--app DIR --pages "PATH..."] [--env NAME=VALUE]...
#
# --app serves another application of scripts: DIR/public and its worker DIR/worker.php, e.g. a
# DokuWiki that folk-worker-php/src/test/fpm/dokuwiki.sh made (--pages "doku.php?id=start"), or a
# MediaWiki that mediawiki.sh made (--env MW_INSTALL_PATH=DIR/public --pages "index.php/Main_Page").
# --env gives both sides' PHP a variable of the application's.
#
# Both sides: the same number of PHP processes serving requests (--workers: pool size and
# pm.max_children), the opcache on (the workers' --php-args), the comparison's PHP settings of
# folk-worker-php's fpm/serve.sh. Build the jar first (./mvnw -pl sample-app -am -DskipTests package).
# Ports 18093 (gateway) and 18094 (nginx).
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd -- "$here/../.." && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
jar="$root/sample-app/target/folk-sample-app.jar"
app="$here/fpm/scripts"
serve="$root/folk-worker-php/src/test/fpm/serve.sh"
workers=4 conns=16 rounds=3 seconds=8 warm=10 php_args="-d opcache.enable_cli=1" pages="hello.php page.php"
envs=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --workers) workers=$2; shift ;;
        --conns) conns=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --seconds) seconds=$2; shift ;;
        --warm) warm=$2; shift ;;
        --php-args) php_args=$2; shift ;;
        --app) app="$(cd -- "$2" && pwd -P)"; shift ;;
        --pages) pages=$2; shift ;;
        --env) [[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || { echo "scripts-vs-fpm.sh: --env wants NAME=VALUE, got $2" >&2; exit 2; }
            envs+=("$2"); shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "scripts-vs-fpm.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for tool in wrk php curl; do
    command -v "$tool" >/dev/null || { echo "scripts-vs-fpm.sh: $tool not found" >&2; exit 2; }
done
[[ -f $jar ]] || { echo "scripts-vs-fpm.sh: no jar at $jar; build it first" >&2; exit 2; }

work=$(mktemp -d)
app_pid=""
cleanup() {
    if [[ -n $app_pid ]]; then
        kill "$app_pid" 2>/dev/null || true
        wait "$app_pid" 2>/dev/null || true
    fi
    bash "$serve" stop "$work/fpm" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

names=()
for pair in "${envs[@]}"; do
    export "${pair?}"
    names+=("${pair%%=*}")
done
FPM_PASS_ENV="${names[*]}" FPM_SCRIPTS=1 FPM_CHILDREN=$workers bash "$serve" start "$app" 18094 "$work/fpm" >/dev/null
args=()
for pair in "${envs[@]}"; do
    args+=("--folk.pools.scripts.env.${pair%%=*}=${pair#*=}")
done
i=0
for a in $php_args "$app/worker.php"; do
    args+=("--folk.pools.scripts.args[$i]=$a")
    i=$((i + 1))
done
"$java" --enable-native-access=ALL-UNNAMED -jar "$jar" --server.port=18093 --server.address=127.0.0.1 \
    "${args[@]}" --folk.pools.scripts.size="$workers" --folk.pools.scripts.max-jobs=0 --folk.max-memory=0 \
    --folk.output=DISCARD --logging.level.root=WARN --server.tomcat.max-keep-alive-requests=100000 \
    "--folk.http.mappings[0].path=/**" --folk.http.mappings[0].pool=scripts \
    "--folk.http.mappings[0].public-dir=$app/public" \
    >"$work/app.log" 2>&1 &
app_pid=$!
first="${pages%% *}"
for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:18093/$first" >/dev/null && break
    sleep 0.5
done
curl -sf "http://127.0.0.1:18093/$first" >/dev/null || { echo "scripts-vs-fpm.sh: the app did not answer; its log:" >&2; tail -20 "$work/app.log" >&2; exit 1; }

tck=$(getconf CLK_TCK)
php_cpu() { # ticks of a side's PHP processes, the requests' processes they reaped included
    local total=0 pid
    if [[ $1 == gateway ]]; then
        for pid in $(pgrep -P "$app_pid"); do total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done
    else
        for pid in $(pgrep -f "php-fpm.*$work/fpm" ; pgrep -f 'php-fpm: pool app'); do
            total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
        done
    fi
    echo "$total"
}
url() { [[ $1 == gateway ]] && echo "http://127.0.0.1:18093/$2" || echo "http://127.0.0.1:18094/$2"; }
# Each page a 200 on both sides (wrk counts a redirect as an answer: an application that sends a URL
# it takes for another to its own would be measured on its redirects).
for page in $pages; do
    for side in gateway fpm; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$(url $side "$page")")
        [[ $code == 200 ]] || { echo "scripts-vs-fpm.sh: $side answered $page with $code, not 200" >&2; exit 1; }
    done
done
for page in $pages; do
    for side in gateway fpm gateway fpm; do
        wrk -t2 -c"$conns" -d"${warm}s" "$(url $side $page)" >/dev/null
    done
done
echo "page side round req/s p50_ms php_cpu_us_per_request"
for r in $(seq 1 "$rounds"); do
    for page in $pages; do
        for side in gateway fpm; do
            c0=$(php_cpu $side)
            out=$(wrk -t2 -c"$conns" -d"${seconds}s" --latency "$(url $side $page)")
            c1=$(php_cpu $side)
            if grep -q 'Non-2xx' <<<"$out"; then
                echo "scripts-vs-fpm.sh: $side answered $page with errors: $out" >&2
                exit 1
            fi
            reqs=$(awk '/requests in/ {print $1}' <<<"$out")
            rps=$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")
            p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
            echo "$page $side $r $rps $p50 $(( (c1 - c0) * 1000000 / tck / reqs ))"
        done
    done
done | tee "$work/rounds"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for page in $pages; do
    for side in gateway fpm; do
        echo "$page $side: median $(awk -v p=$page -v s=$side '$1 == p && $2 == s {print $4}' "$work/rounds" | median) req/s," \
            "PHP CPU $(awk -v p=$page -v s=$side '$1 == p && $2 == s {print $6}' "$work/rounds" | median) us per request"
    done
done
