#!/usr/bin/env bash
# Serves a PHP application classically, with nginx + PHP-FPM, for comparisons with a Folk worker.
#
#   serve.sh start <app-dir> <port> <workdir>   nginx on 127.0.0.1:<port>: files of <app-dir>/public, other requests to its index.php
#   serve.sh stop  <workdir>
#
# start writes <workdir>/nginx.conf, php-fpm.conf and php.ini (the settings of php-settings.ini,
# plus session.save_path = <workdir>/sessions), starts php-fpm (pm = static, FPM_CHILDREN children) and
# nginx as daemons with their pid files, logs, socket and temp dirs in <workdir>, and waits
# until nginx answers. Nothing is written elsewhere; no system service is involved.
#
# Everything runs as the current user, root included (php-fpm -R, nginx "user root"): the
# application and the work directory need no permissions for another user. The application's
# writable state goes to <workdir>/app-state, given to PHP as the FOLK_APP_STATE environment
# variable (the test applications put their sessions, caches and logs there).
#
# nginx answers a request naming a file of <app-dir>/public with the file (try_files $uri; paths
# ending in .php excepted), and passes every other to PHP-FPM with the FastCGI parameters of
# Debian's fastcgi_params, SCRIPT_FILENAME = <app-dir>/public/index.php and SCRIPT_NAME = /index.php,
# the usual front-controller setup;
# CONTENT_TYPE and CONTENT_LENGTH only when the request has them (if_not_empty), as the Folk
# gateway does, so that $_SERVER has the same keys on both sides. With FPM_SCRIPTS=1, nginx runs the
# script each path names instead, as it is set up for an application of scripts (index index.php,
# try_files $uri $uri/ /index.php?$args, fastcgi_split_path_info).
#
# Environment: PHP_FPM (default php-fpm8.2), NGINX (default nginx), FPM_CHILDREN (default 2; the
# benchmarks give PHP-FPM as many PHP processes as the pool they compare it with), FPM_SCRIPTS (see above),
# FPM_PASS_ENV (names of variables of serve.sh's environment PHP gets too, e.g. MW_INSTALL_PATH).
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    echo "usage: serve.sh start <app-dir> <port> <workdir> | stop <workdir>" >&2
    exit 2
}
fail() {
    echo "serve.sh: $*" >&2
    exit 1
}
procs_name=serve.sh
# shellcheck source=procs.sh
source "$here/procs.sh"

[[ $# -ge 2 ]] || usage
case "$1" in
stop)
    [[ $# -eq 2 ]] || usage
    [[ -d $2 ]] || { echo "serve.sh: no work directory $2: nothing to stop"; exit 0; }
    workdir="$(cd -- "$2" && pwd -P)"
    stop_one nginx "$workdir/nginx.pid" nginx
    stop_one php-fpm "$workdir/php-fpm.pid" php-fpm
    exit 0
    ;;
start) [[ $# -eq 4 ]] || usage ;;
*) usage ;;
esac

[[ -f $2/public/index.php ]] || fail "no front controller $2/public/index.php"
app="$(cd -- "$2" && pwd -P)"
port="$3"
[[ $port =~ ^[0-9]{1,5}$ ]] && ((10#$port >= 1 && 10#$port <= 65535)) || fail "port: expected 1..65535, got '$port'"
mkdir -p -- "$4"
workdir="$(cd -- "$4" && pwd -P)"
check_path "$app"
check_path "$workdir"
children="${FPM_CHILDREN:-2}"
[[ $children =~ ^[1-9][0-9]{0,2}$ ]] || fail "FPM_CHILDREN: expected 1..999, got '$children'"
php_fpm="${PHP_FPM:-$(find_bin php-fpm8.2 || true)}"
nginx="${NGINX:-$(find_bin nginx || true)}"
[[ -n $php_fpm && -x $php_fpm ]] || fail "php-fpm8.2 not found (apt-get install php-fpm, or set PHP_FPM)"
[[ -n $nginx && -x $nginx ]] || fail "nginx not found (apt-get install nginx, or set NGINX)"
for s in nginx:nginx php-fpm:php-fpm; do
    pid="$(live_pid "$workdir/${s%%:*}.pid" "${s#*:}")"
    [[ -z $pid ]] || fail "${s%%:*} already running from $workdir (pid $pid): serve.sh stop $workdir first"
done

as_root=()
user_nginx=""
if [[ $(id -u) == 0 ]]; then
    as_root=(-R)
    user_nginx="user root $(id -gn);"
fi

mkdir -p -- "$workdir/tmp" "$workdir/sessions" "$workdir/app-state"
rm -f -- "$workdir/fpm.sock"
: >"$workdir/php-fpm.log"
: >"$workdir/nginx-error.log"

{
    echo "; Written by serve.sh from php-settings.ini."
    echo "[PHP]"
    grep -v '^;' "$here/php-settings.ini"
    echo "session.save_path = $workdir/sessions"
    echo "upload_tmp_dir = $workdir/tmp"
    echo "error_log = $workdir/php-errors.log"
} >"$workdir/php.ini"

cat >"$workdir/php-fpm.conf" <<CONF
; Written by serve.sh.
[global]
pid = $workdir/php-fpm.pid
error_log = $workdir/php-fpm.log
daemonize = yes

[app]
listen = $workdir/fpm.sock
listen.mode = 0600
pm = static
pm.max_children = $children
catch_workers_output = yes
env[FOLK_APP_STATE] = $workdir/app-state
env[TMPDIR] = $workdir/tmp
CONF
for name in ${FPM_PASS_ENV:-}; do
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ && -n ${!name+set} ]] || fail "FPM_PASS_ENV: $name is not a variable of the environment"
    echo "env[$name] = ${!name}" >>"$workdir/php-fpm.conf"
done

# The FastCGI parameters of Debian's fastcgi_params (SCRIPT_FILENAME and SCRIPT_NAME set by each mode).
fastcgi_params="$(cat <<CONF
            fastcgi_param QUERY_STRING \$query_string;
            fastcgi_param REQUEST_METHOD \$request_method;
            fastcgi_param CONTENT_TYPE \$content_type if_not_empty;
            fastcgi_param CONTENT_LENGTH \$content_length if_not_empty;
            fastcgi_param REQUEST_URI \$request_uri;
            fastcgi_param DOCUMENT_URI \$document_uri;
            fastcgi_param DOCUMENT_ROOT \$document_root;
            fastcgi_param SERVER_PROTOCOL \$server_protocol;
            fastcgi_param REQUEST_SCHEME \$scheme;
            fastcgi_param HTTPS \$https if_not_empty;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param SERVER_SOFTWARE nginx;
            fastcgi_param REMOTE_ADDR \$remote_addr;
            fastcgi_param REMOTE_PORT \$remote_port;
            fastcgi_param SERVER_ADDR \$server_addr;
            fastcgi_param SERVER_PORT \$server_port;
            fastcgi_param SERVER_NAME \$server_name;
            fastcgi_param REDIRECT_STATUS 200;
CONF
)"
if [[ ${FPM_SCRIPTS:-0} == 1 ]]; then
    # An application of scripts (Debian's snippets/fastcgi-php.conf, WordPress's usual setup): a file
    # or a directory's index.php as it is, a script the path names with PATH_INFO after it, any other
    # path to index.php. No try_files for the script: PHP-FPM answers one that is not there.
    locations="$(cat <<CONF
        index index.php;
        location / {
            try_files \$uri \$uri/ /index.php\$is_args\$args;
        }
        location ~ [^/]\.php(/|\$) {
            fastcgi_split_path_info ^(.+?\.php)(/.*)\$;
            fastcgi_pass unix:$workdir/fpm.sock;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_param SCRIPT_NAME \$fastcgi_script_name;
            fastcgi_param PATH_INFO \$fastcgi_path_info if_not_empty;
$fastcgi_params
        }
CONF
)"
else
    # The usual front-controller setup: a file of public/ as it is, anything else (.php paths
    # included) to public/index.php.
    locations="$(cat <<CONF
        location / {
            try_files \$uri @php;
        }
        location ~ \.php\$ {
            try_files /.no-such-file @php;
        }
        location @php {
            fastcgi_pass unix:$workdir/fpm.sock;
            fastcgi_param SCRIPT_FILENAME $app/public/index.php;
            fastcgi_param SCRIPT_NAME /index.php;
$fastcgi_params
        }
CONF
)"
fi

cat >"$workdir/nginx.conf" <<CONF
# Written by serve.sh.
$user_nginx
worker_processes 1;
pid $workdir/nginx.pid;
error_log $workdir/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    server_tokens off;
    client_max_body_size 64m;
    client_body_temp_path $workdir/tmp/client_body;
    proxy_temp_path $workdir/tmp/proxy;
    fastcgi_temp_path $workdir/tmp/fastcgi;
    uwsgi_temp_path $workdir/tmp/uwsgi;
    scgi_temp_path $workdir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        root $app/public;
        include /etc/nginx/mime.types;
        default_type application/octet-stream;
$locations
    }
}
CONF

"$php_fpm" "${as_root[@]}" -t -y "$workdir/php-fpm.conf" -c "$workdir/php.ini" -p "$workdir" >"$workdir/php-fpm-test.log" 2>&1 ||
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

"$php_fpm" "${as_root[@]}" -y "$workdir/php-fpm.conf" -c "$workdir/php.ini" -p "$workdir" ||
    cleanup_failed_start "php-fpm did not start"
for ((i = 0; i < 200; i++)); do
    [[ -S $workdir/fpm.sock && -n "$(live_pid "$workdir/php-fpm.pid" php-fpm)" ]] && break
    sleep 0.05
done
[[ -S $workdir/fpm.sock ]] || cleanup_failed_start "php-fpm did not create $workdir/fpm.sock"

"$nginx" -p "$workdir/" -e "$workdir/nginx-error.log" -c "$workdir/nginx.conf" ||
    cleanup_failed_start "nginx did not start"
for ((i = 0; i < 200; i++)); do
    [[ -n "$(live_pid "$workdir/nginx.pid" nginx)" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done
[[ -n "$(live_pid "$workdir/nginx.pid" nginx)" ]] || cleanup_failed_start "nginx did not write its pid file"

echo "started: nginx ($(live_pid "$workdir/nginx.pid" nginx)) on 127.0.0.1:$port, php-fpm ($(live_pid "$workdir/php-fpm.pid" php-fpm)) serving $app/public/index.php"
