#!/usr/bin/env bash
# nginx + PHP-FPM for the HTTP comparison, self-contained in one work directory.
#
#   run.sh start  <workdir> <children> <port>
#   run.sh stop   <workdir>
#   run.sh status <workdir>
#   run.sh cpu    <workdir>     prints cpu_ms=<user+system CPU so far> processes=<n>
#
# start writes <workdir>/nginx.conf, php-fpm.conf and php.ini, generates the classes of the
# boot handler (gen-classes.php -> benchmarks/target/fpm-gen) when missing or stale, starts
# php-fpm (pm = static, pm.max_children = <children>, listen = <workdir>/fpm.sock) and nginx
# (listen 127.0.0.1:<port>) as daemons, and checks that both handlers answer:
#   http://127.0.0.1:<port>/hello.php  (or /hello)   "Hello from PHP"
#   http://127.0.0.1:<port>/boot.php   (or /boot)    boots ~200 classes + ~3 ms of work, per request
#   http://127.0.0.1:<port>/big.php?mb=N (or /big)  N MiB printed with echo (big-answer.sh)
# Pid files, logs, the socket and nginx's temp dirs all live in <workdir>; nothing is written
# elsewhere. stop sends TERM to nginx and php-fpm (pid files, checked against /proc before any
# signal), waits for them to go, KILLs after 10 s. cpu sums the CPU time (user + system, own
# and reaped children's) of the nginx and php-fpm masters and their children; take it before
# and after a load run and divide by the requests served for the server-side CPU per request.
#
# Privileges: as a normal user everything runs as that user (the port must be >= 1024). As
# root, the nginx workers and the FPM children drop to nobody:nogroup (the masters stay
# root, as usual); the work directory, the document root and the generated classes must then
# be reachable by nobody, which start checks first.
#
# nginx runs 1 worker process (NGINX_WORKERS to change): on a 2-core machine shared with wrk
# and the FPM children, one event-driven worker proxies far more requests per second than
# FPM can serve (it spends a few microseconds per request), and a second one only adds
# context switches and cache traffic that the PHP processes then lack. The Java side gets
# no extra process either: the comparison is about the PHP serving path.
#
# Environment: PHP_FPM (default php-fpm8.2), NGINX (default nginx), NGINX_WORKERS (default 1).
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
bench="$(cd -- "$here/../.." && pwd)"
www="$here/www"
lib="$here/lib"
gen="$bench/target/fpm-gen"

usage() {
    echo "usage: run.sh start <workdir> <children> <port> | stop <workdir> | status <workdir> | cpu <workdir>" >&2
    exit 2
}
fail() {
    echo "fpm/run.sh: $*" >&2
    exit 1
}

procs_name=fpm/run.sh
# shellcheck source=../../../folk-worker-php/src/test/fpm/procs.sh
source "$bench/../folk-worker-php/src/test/fpm/procs.sh"

[[ $# -ge 2 ]] || usage
action="$1"
if [[ $action == start ]]; then
    mkdir -p -- "$2"
elif [[ $action == stop && ! -d $2 ]]; then
    echo "fpm/run.sh: no work directory $2: nothing to stop"
    exit 0
fi
[[ -d $2 ]] || fail "no such work directory: $2"
workdir="$(cd -- "$2" && pwd -P)"
check_path "$workdir"

case "$action" in
stop)
    [[ $# -eq 2 ]] || usage
    stop_one nginx "$workdir/nginx.pid" nginx
    stop_one php-fpm "$workdir/php-fpm.pid" php-fpm
    exit 0
    ;;
cpu)
    [[ $# -eq 2 ]] || usage
    masters=()
    for s in nginx:nginx php-fpm:php-fpm; do
        pid="$(live_pid "$workdir/${s%%:*}.pid" "${s#*:}")"
        [[ -n $pid ]] || fail "${s%%:*} is not running from $workdir"
        masters+=("$pid")
    done
    # /proc/<pid>/stat after "(comm) ": state ppid ... field 14-17 = utime stime cutime cstime.
    for stat in /proc/[0-9]*/stat; do
        # The process may be gone before the open or between open and read. Not $(<file):
        # bash ends the whole loop (and pipefail the command) when that read fails. The braces
        # silence the failed open too, which happens before the command's own 2> applies.
        { IFS= read -r line <"$stat"; } 2>/dev/null || continue
        [[ $line == *") "* ]] || continue
        pid="${line%% *}"
        read -r -a f <<<"${line##*) }"
        ((${#f[@]} >= 15)) || continue
        echo "$pid ${f[1]} $((f[11] + f[12] + f[13] + f[14]))"
    done | awk -v masters="${masters[*]}" -v hz="$(getconf CLK_TCK)" '
        BEGIN { n = split(masters, m, " "); for (i = 1; i <= n; i++) want[m[i]] = 1 }
        { if (($1 in want) || ($2 in want)) { ticks += $3; count++ } }
        END { printf "cpu_ms=%.0f processes=%d\n", ticks * 1000 / hz, count }'
    exit 0
    ;;
status)
    [[ $# -eq 2 ]] || usage
    rc=0
    for s in nginx:nginx php-fpm:php-fpm; do
        pid="$(live_pid "$workdir/${s%%:*}.pid" "${s#*:}")"
        if [[ -n $pid ]]; then echo "${s%%:*}: running ($pid)"; else echo "${s%%:*}: stopped"; rc=3; fi
    done
    exit $rc
    ;;
start) [[ $# -eq 4 ]] || usage ;;
*) usage ;;
esac

children="$3"
port="$4"
check_range() { # name, value, min, max
    if [[ ! $2 =~ ^[0-9]{1,6}$ ]] || ((10#$2 < $3 || 10#$2 > $4)); then
        fail "$1: expected $3..$4, got '$2'"
    fi
}
check_range children "$children" 1 1024
check_range port "$port" 1 65535
nginx_workers="${NGINX_WORKERS:-1}"
check_range NGINX_WORKERS "$nginx_workers" 1 64
children=$((10#$children))
port=$((10#$port))
nginx_workers=$((10#$nginx_workers))
php_fpm="${PHP_FPM:-$(find_bin php-fpm8.2 || true)}"
nginx="${NGINX:-$(find_bin nginx || true)}"
[[ -n $php_fpm && -x $php_fpm ]] || fail "php-fpm8.2 not found (apt-get install php8.2-fpm, or set PHP_FPM)"
[[ -n $nginx && -x $nginx ]] || fail "nginx not found (apt-get install nginx, or set NGINX)"
command -v php >/dev/null 2>&1 || fail "php (cli) not found: needed to generate the boot classes"
check_path "$www"
check_path "$gen"
check_path "$lib"

for s in nginx:nginx php-fpm:php-fpm; do
    pid="$(live_pid "$workdir/${s%%:*}.pid" "${s#*:}")"
    [[ -z $pid ]] || fail "${s%%:*} already running from $workdir (pid $pid): run.sh stop $workdir first"
done

# The generated classes of boot.php, (re)made when missing or older than their generator.
if [[ ! -f $gen/classmap.php || $here/gen-classes.php -nt $gen/classmap.php ]]; then
    php "$here/gen-classes.php" "$gen"
fi

user_nginx=""
user_fpm=""
if [[ $(id -u) == 0 ]]; then
    run_group="$(id -gn nobody 2>/dev/null)" || fail "running as root needs the user nobody to drop privileges to"
    user_nginx="user nobody $run_group;"
    user_fpm="user = nobody
group = $run_group
listen.owner = nobody
listen.group = $run_group"
    # nobody must reach the socket and read the PHP files.
    for check in "-x $workdir" "-r $www/hello.php" "-r $www/boot.php" "-r $lib/App.php" "-r $gen/classmap.php"; do
        # shellcheck disable=SC2086 # "-x path" is two words on purpose
        if ! setpriv --reuid=nobody --regid="$run_group" --clear-groups test $check 2>/dev/null; then
            fail "running as root, but nobody cannot access ${check#* } (test $check failed): use a work directory and a checkout that others can read"
        fi
    done
fi

mkdir -p -- "$workdir/tmp"
rm -f -- "$workdir/fpm.sock"
: >"$workdir/php-fpm.log"
: >"$workdir/nginx-error.log"

cat >"$workdir/php.ini" <<EOF
; Written by benchmarks/scripts/fpm/run.sh. Extensions (opcache included) still come from the
; distribution's conf.d. Production-like: opcache on and never revalidating (start is always fresh).
[PHP]
expose_php = Off
display_errors = Off
log_errors = On
memory_limit = 128M
opcache.enable = 1
opcache.memory_consumption = 128
opcache.interned_strings_buffer = 16
opcache.max_accelerated_files = 10000
opcache.validate_timestamps = 0
EOF

cat >"$workdir/php-fpm.conf" <<EOF
; Written by benchmarks/scripts/fpm/run.sh.
[global]
pid = $workdir/php-fpm.pid
error_log = $workdir/php-fpm.log
log_level = notice
daemonize = yes

[bench]
$user_fpm
listen = $workdir/fpm.sock
listen.mode = 0600
pm = static
pm.max_children = $children
pm.max_requests = 0
catch_workers_output = yes
EOF

cat >"$workdir/nginx.conf" <<EOF
# Written by benchmarks/scripts/fpm/run.sh.
$user_nginx
worker_processes $nginx_workers;
pid $workdir/nginx.pid;
error_log $workdir/nginx-error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    client_body_temp_path $workdir/tmp/client_body;
    proxy_temp_path $workdir/tmp/proxy;
    fastcgi_temp_path $workdir/tmp/fastcgi;
    uwsgi_temp_path $workdir/tmp/uwsgi;
    scgi_temp_path $workdir/tmp/scgi;
    keepalive_requests 100000;
    default_type text/plain;

    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        root $www;

        # Only the benchmark handlers, as /hello.php or /hello (same for boot and big).
        location ~ ^/(hello|boot|big)(\.php)?\$ {
            fastcgi_pass unix:$workdir/fpm.sock;
            fastcgi_param SCRIPT_FILENAME \$document_root/\$1.php;
            fastcgi_param SCRIPT_NAME /\$1.php;
            fastcgi_param QUERY_STRING \$query_string;
            fastcgi_param REQUEST_METHOD \$request_method;
            fastcgi_param CONTENT_TYPE \$content_type;
            fastcgi_param CONTENT_LENGTH \$content_length;
            fastcgi_param REQUEST_URI \$request_uri;
            fastcgi_param DOCUMENT_URI \$document_uri;
            fastcgi_param DOCUMENT_ROOT \$document_root;
            fastcgi_param SERVER_PROTOCOL \$server_protocol;
            fastcgi_param REQUEST_SCHEME \$scheme;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param SERVER_SOFTWARE nginx/\$nginx_version;
            fastcgi_param REMOTE_ADDR \$remote_addr;
            fastcgi_param REMOTE_PORT \$remote_port;
            fastcgi_param SERVER_ADDR \$server_addr;
            fastcgi_param SERVER_PORT \$server_port;
            fastcgi_param SERVER_NAME \$server_name;
            fastcgi_param REDIRECT_STATUS 200;
            fastcgi_param FOLK_BENCH_GEN_DIR $gen;
        }

        location / {
            return 404;
        }
    }
}
EOF

# Check both configurations before starting anything.
"$php_fpm" -t -y "$workdir/php-fpm.conf" -c "$workdir/php.ini" -p "$workdir" >"$workdir/php-fpm-test.log" 2>&1 ||
    { cat "$workdir/php-fpm-test.log" >&2; fail "php-fpm rejects $workdir/php-fpm.conf"; }
"$nginx" -t -q -p "$workdir/" -e "$workdir/nginx-error.log" -c "$workdir/nginx.conf" ||
    fail "nginx rejects $workdir/nginx.conf"

cleanup_failed_start() {
    stop_one nginx "$workdir/nginx.pid" nginx >/dev/null 2>&1 || true
    stop_one php-fpm "$workdir/php-fpm.pid" php-fpm >/dev/null 2>&1 || true
    for log in php-fpm.log nginx-error.log; do
        [[ -s $workdir/$log ]] && { echo "--- $workdir/$log (tail)" >&2; tail -n 15 "$workdir/$log" >&2; }
    done
    fail "$*"
}

# php-fpm daemonizes once its pool is listening.
"$php_fpm" -y "$workdir/php-fpm.conf" -c "$workdir/php.ini" -p "$workdir" ||
    cleanup_failed_start "php-fpm did not start"
for ((i = 0; i < 100; i++)); do
    [[ -S $workdir/fpm.sock && -n "$(live_pid "$workdir/php-fpm.pid" php-fpm)" ]] && break
    sleep 0.05
done
[[ -S $workdir/fpm.sock ]] || cleanup_failed_start "php-fpm did not create $workdir/fpm.sock"

"$nginx" -p "$workdir/" -e "$workdir/nginx-error.log" -c "$workdir/nginx.conf" ||
    cleanup_failed_start "nginx did not start"
for ((i = 0; i < 100; i++)); do
    [[ -n "$(live_pid "$workdir/nginx.pid" nginx)" ]] && break
    sleep 0.05
done
[[ -n "$(live_pid "$workdir/nginx.pid" nginx)" ]] || cleanup_failed_start "nginx did not write its pid file"

hello="$(http_get "$port" /hello.php || true)"
[[ $hello == "Hello from PHP"* ]] || cleanup_failed_start "GET /hello.php answered '${hello:0:200}'"
boot="$(http_get "$port" /boot.php || true)"
[[ $boot == "Booted "* ]] || cleanup_failed_start "GET /boot.php answered '${boot:0:200}'"

echo "started: nginx ($(live_pid "$workdir/nginx.pid" nginx), $nginx_workers worker(s)) on 127.0.0.1:$port," \
    "php-fpm ($(live_pid "$workdir/php-fpm.pid" php-fpm), pm static, $children children) on $workdir/fpm.sock"
echo "  /hello.php -> $hello"
echo "  /boot.php  -> ${boot%$'\n'}"
