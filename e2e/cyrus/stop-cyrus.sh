#!/bin/bash
# stop-cyrus.sh - stop the Cyrus master that start-cyrus.sh started, and only that one (matched by
# its pid file and the cyrus.conf it was given). Idempotent: "cyrus not running" is success.
#
# Environment: CYRUS_DIR (/tmp/jmap-cyrus)
set -u
DIR=${CYRUS_DIR:-/tmp/jmap-cyrus}
PIDFILE=$DIR/data/run/master.pid
MCONF=$DIR/etc/cyrus.conf

pid=$(cat "$PIDFILE" 2>/dev/null || true)
if [ -z "$pid" ] || ! tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-M $MCONF"; then
  echo "cyrus not running"
  rm -f "$PIDFILE"
  exit 0
fi
kill -TERM "$pid"                       # master terminates its children on SIGTERM
for _ in $(seq 1 100); do
  if [ ! -d "/proc/$pid" ]; then
    rm -f "$PIDFILE"
    echo "cyrus stopped"
    exit 0
  fi
  sleep 0.1
done
echo "master $pid still alive after 10s, sending SIGKILL to it and its children" >&2
kids=$(pgrep -P "$pid" || true)
# shellcheck disable=SC2086
kill -KILL "$pid" $kids 2>/dev/null
rm -f "$PIDFILE"
echo "cyrus stopped (killed)"
