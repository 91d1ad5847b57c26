# Process helpers for scripts that run nginx + PHP-FPM as daemons from a work directory
# (sourced by folk-worker-php/src/test/fpm/serve.sh and benchmarks/scripts/fpm/run.sh).
# The sourcing script defines fail() and sets $procs_name (its name, for messages).

find_bin() { # name -> path on PATH or in /usr/sbin
    local name="$1"
    if command -v -- "$name" >/dev/null 2>&1; then
        command -v -- "$name"
    elif [[ -x /usr/sbin/$name ]]; then
        echo "/usr/sbin/$name"
    else
        return 1
    fi
}

# A path we write into nginx.conf / php-fpm.conf: keep it to characters that need no quoting.
check_path() {
    [[ $1 =~ ^/[A-Za-z0-9._/+@-]*$ ]] || fail "unsupported characters in path '$1' (use [A-Za-z0-9._/+@-])"
}

# Whether pid is alive (a zombie is not) and runs the expected program (comm prefix).
proc_alive() { # pid, comm prefix
    local pid="$1" comm="$2" state
    [[ -n $pid && -r /proc/$pid/stat ]] || return 1
    state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1 || true)"
    [[ -n $state && $state != Z && $state != X ]] || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == "$comm"* ]]
}

# The pid in a pid file if that process is alive and runs the expected program; else empty.
live_pid() { # pidfile, comm prefix
    local pidfile="$1" comm="$2" pid
    [[ -f $pidfile ]] || return 0
    pid="$({ tr -dc '0-9' <"$pidfile"; } 2>/dev/null || true)"
    if proc_alive "$pid" "$comm"; then echo "$pid"; fi
}

stop_one() { # name, pidfile, comm
    local name="$1" pidfile="$2" comm="$3" pid i
    pid="$(live_pid "$pidfile" "$comm")"
    if [[ -z $pid ]]; then
        rm -f -- "$pidfile"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    # Watch the process itself: the daemons remove their pid files before they are gone.
    for ((i = 0; i < 200; i++)); do
        proc_alive "$pid" "$comm" || break
        sleep 0.05
    done
    if proc_alive "$pid" "$comm"; then
        echo "${procs_name:-fpm}: $name ($pid) still running after 10 s: KILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f -- "$pidfile"
    echo "stopped $name ($pid)"
}

http_get() { # port, path -> body (HTTP/1.0, no curl needed)
    local port="$1" path="$2" response
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&"$fd"
    response="$(timeout 5 cat <&"$fd" || true)"
    exec {fd}>&-
    printf '%s' "${response#*$'\r\n\r\n'}"
}
