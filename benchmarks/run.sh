#!/usr/bin/env bash
# Runs every benchmark comparison (the benchmark issue: round trip, Java pool vs C master, HTTP
# against nginx + PHP-FPM, Symfony and Laravel pages against PHP-FPM ('frameworks'), spawn,
# shutdown at scale, memory and threads, plus the JMH
# microbenchmarks) with same-run baselines, and prints one table per comparison. The same
# report is written to benchmarks/target/results/<timestamp>.md.
#
#   bash benchmarks/run.sh [--skip-build] [runner options]
#
# Builds first: the benchmark jar and the sample app (./mvnw, tests skipped) and the native
# programs (scripts/build-native.sh). Runner options (see `--help`): --quick (smoke test),
# --only/--skip <comparisons>, --rounds N, --http-workers N, ... About 15-20 minutes on the
# 2-core reference machine; it waits for a quiet machine before every round.
#
# Needs: a JDK 17+ (JAVA_HOME or java on PATH), gcc, php-cli with php-msgpack, php8.2-fpm,
# nginx, wrk. Environment: JAVA_HOME, PHP (php binary), PHP_FPM, NGINX (see scripts/fpm/run.sh).
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd -- "$here/.." && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

build=1
args=()
for arg in "$@"; do
    case "$arg" in
        --skip-build) build=0 ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; args+=(--help) ;;
        *) args+=("$arg") ;;
    esac
done

for tool in gcc php wrk; do
    command -v "$tool" >/dev/null 2>&1 || echo "run.sh: warning: $tool not found; comparisons needing it will fail" >&2
done

if [[ $build == 1 ]]; then
    echo "run.sh: building the benchmark jar (./mvnw -pl benchmarks -am -DskipTests package)" >&2
    "$root/mvnw" -q -B -f "$root/pom.xml" -pl benchmarks -am -DskipTests package >&2
    echo "run.sh: building the sample app (./mvnw -pl sample-app -am -DskipTests package)" >&2
    if ! "$root/mvnw" -q -B -f "$root/pom.xml" -pl sample-app -am -DskipTests package >&2; then
        if [[ -f $root/sample-app/target/folk-sample-app.jar ]]; then
            echo "run.sh: warning: the sample app did not build; the HTTP comparison uses the existing jar" >&2
        else
            echo "run.sh: warning: the sample app did not build; the HTTP comparison will be reported as failed" >&2
        fi
    fi
    "$here/scripts/build-native.sh" >&2
fi

flags=(--enable-native-access=ALL-UNNAMED)
feature="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
if [[ ${feature%%.*} -ge 24 ]]; then
    flags+=(--sun-misc-unsafe-memory-access=allow)
fi
cd "$root"
exec "$java" "${flags[@]}" -jar "$root/benchmarks/target/folk-benchmarks.jar" all "${args[@]}"
