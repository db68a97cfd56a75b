#!/bin/sh
# appcds-train.sh JAR ARCHIVE [JVM OPTION...]
#
# One training start of jmap-auth-proxy that writes an application class-data archive (AppCDS) on
# exit: the JVM then maps the classes it loaded instead of parsing and verifying them again at every
# start (start to ready 1.8 -> 1.5 s on one CPU, docs/BENCHMARKS.md). The archive only fits the JVM
# that wrote it, so it is made where it is used: in the image build (Dockerfile.jvm) and by bench/run.
# The training run has throw-away secrets, nothing reachable behind it and only loopback ports;
# it stops itself once Quarkus reports it started. An archive that does not fit is ignored by the
# JVM (-Xshare:auto), which then starts the slow way.
set -eu
jar=$1 archive=$2
shift 2
# The options the archive will be used with, minus those naming an archive (this run writes one).
for option in "$@"; do
    shift
    case $option in -XX:SharedArchiveFile=* | -Xshare:*) ;; *) set -- "$@" "$option" ;; esac
done
log=$(mktemp)
rm -f "$archive"
AUTHPROXY_JWT_SECRET=appcds-training-only-appcds-training-only-appcds-training-only-0000 \
AUTHPROXY_CREDENTIALS_KEY=YXBwY2RzLXRyYWluaW5nLW9ubHktYXBwY2RzLXRyYWk= \
AUTHPROXY_ORIGIN_URL=http://127.0.0.1:9 QUARKUS_REDIS_HOSTS=redis://127.0.0.1:9 \
QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT=0 QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT=0 \
QUARKUS_SHUTDOWN_DELAY_ENABLED=false QUARKUS_LOG_LEVEL=WARN QUARKUS_LOG_CATEGORY__IO_QUARKUS__LEVEL=INFO QUARKUS_LOG_CATEGORY__ORG_JMAPAUTHPROXY_ROUTE__LEVEL=INFO \
    java "$@" -XX:ArchiveClassesAtExit="$archive" -Xlog:cds=off -Xlog:cds+dynamic=off -jar "$jar" > "$log" 2>&1 &
pid=$!
i=0
until grep -q ' started in ' "$log"; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $pid 2> /dev/null; then
        cat "$log" >&2; kill -9 $pid 2> /dev/null || true; rm -f "$log"
        echo "appcds-train: the training start did not come up" >&2; exit 1
    fi
    sleep 0.1
done
# The first readiness probe and the first request load classes of their own; when curl is there,
# make both once so that the archive holds them too (a 401: there is no session to use).
if command -v curl > /dev/null 2>&1; then
    management=$(sed -n 's|.*Management interface listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log" | head -1)
    proxy=$(sed -n 's|.*proxy listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$log" | head -1)
    [ -z "$management" ] || curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$management/q/health/ready" || true
    [ -z "$proxy" ] || curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$proxy/jmap/" || true
fi
kill -TERM $pid
wait $pid || true
rm -f "$log"
[ -s "$archive" ] || { echo "appcds-train: no archive written" >&2; exit 1; }
echo "appcds-train: wrote $archive ($(($(wc -c < "$archive") / 1048576)) MiB)"
