#!/usr/bin/env bash
# Builds the native benchmark programs (benchmarks/src/main/c) into benchmarks/target/native/.
#
#   build-native.sh [--force] [--sanitize]
#
#   --force     rebuild everything
#   --sanitize  build with AddressSanitizer + UBSan into benchmarks/target/native-sanitize/
#               (for checking the programs, never for measuring)
#
# A program is rebuilt when it is missing, older than one of its sources or than this script,
# or was built with another command line (kept in .<program>.cmd). Environment: CC (default
# gcc), EXTRA_CFLAGS. tiny is linked statically when `-static` works, else dynamically; the
# choice is printed and written to tiny.link.
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
bench="$(cd -- "$here/.." && pwd)"
src="$bench/src/main/c"
out="$bench/target/native"
force=0
sanitize=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        --sanitize) sanitize=1; out="$bench/target/native-sanitize" ;;
        -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-native.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "build-native.sh: compiler '$cc' not found (apt-get install gcc)" >&2
    exit 1
fi
cflags=(-std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes
        -Wmissing-prototypes -Wvla -Wpointer-arith)
if [[ $sanitize == 1 ]]; then
    cflags+=('-fsanitize=address,undefined' -fno-omit-frame-pointer -fno-sanitize-recover=all)
fi
# shellcheck disable=SC2206 # word splitting of EXTRA_CFLAGS is intended
cflags+=(${EXTRA_CFLAGS:-})
mkdir -p -- "$out"

# build <name> <extra flags...> -- <sources...>: the headers are dependencies of every program.
build() {
    local name="$1"; shift
    local args=("${cflags[@]}")
    while [[ $1 != -- ]]; do args+=("$1"); shift; done
    shift
    local srcs=("${@/#/$src/}")
    local target="$out/$name"
    local cmdfile="$out/.$name.cmd"
    local wanted="$cc ${args[*]} -o $target ${srcs[*]}"
    local stale=$force
    if [[ ! -x $target || ! -f $cmdfile || $(<"$cmdfile") != "$wanted" ]]; then
        stale=1
    else
        local dep
        for dep in "${srcs[@]}" "$src"/*.h "${BASH_SOURCE[0]}"; do
            if [[ $dep -nt $target ]]; then stale=1; break; fi
        done
    fi
    if [[ $stale == 0 ]]; then
        echo "up to date: $target"
        return 0
    fi
    # Compile to a temporary name: an interrupted build never leaves a fresh-looking target.
    local tmp="$out/.$name.tmp.$$"
    if ! "$cc" "${args[@]}" -o "$tmp" "${srcs[@]}"; then
        rm -f -- "$tmp"
        echo "build-native.sh: building $name failed" >&2
        return 1
    fi
    mv -f -- "$tmp" "$target"
    printf '%s' "$wanted" >"$cmdfile"
    echo "built: $target"
}

build pingpong -lm -- pingpong.c bench.c
build echo-worker -lm -- echo-worker.c bench.c mp.c
build master -pthread -lm -- master.c bench.c mp.c
build spawn -lm -- spawn.c bench.c

# tiny: static if the toolchain can (needs libc.a), else dynamic.
# (The sanitizers cannot link statically: the --sanitize build links tiny dynamically.)
link=static
probe="$out/.tiny-probe.$$"
if [[ $sanitize == 1 ]] || ! "$cc" -static -o "$probe" "$src/tiny.c" >/dev/null 2>&1; then
    link=dynamic
fi
rm -f -- "$probe"
if [[ $link == static ]]; then
    build tiny -static -- tiny.c
else
    [[ $sanitize == 1 ]] || echo "build-native.sh: gcc -static does not work here (no libc.a?): linking tiny dynamically" >&2
    build tiny -- tiny.c
fi
echo "$link" >"$out/tiny.link"
echo "tiny: linked $link"
