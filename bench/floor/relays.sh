# bench/floor/relays.sh: what bench/floor/run and bench/profile/run share, sourced by both. A work
# directory removed on exit with everything started from it; the origin (nginx serving the JMAP
# session document) and Redis on CPU 1; the packaged jar and the proxy's environment with a sealed
# session; wrk loads; and the settling of a pinned JVM's JIT. Expects ROOT (the repository) and
# BASE (the first of seven loopback ports: origin +0, proxy +4, Redis +5, management +6).
work=$(mktemp -d); pids=()
# An nginx master killed after its workers would start new ones first: take the children's PIDs,
# kill the parent, then them.
cleanup() { for p in "${pids[@]}"; do kids=$(pgrep -P "$p" || true); kill -9 "$p" 2>/dev/null || true
                                       [ -z "$kids" ] || kill -9 $kids 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/html/jmap" "$work/logs"; chmod 755 "$work"   # nginx workers may run as another user
cp "$ROOT/bench/origin/jmap-session.json" "$work/html/jmap/index.html"
nginx_conf() { # nginx_conf PORT [UPSTREAM_PORT]: the origin, or nginx relaying to it with a fixed Basic
    cat <<CONF
worker_processes 1; daemon off; pid $work/nginx-$1.pid; error_log $work/logs/error-$1.log;
events { worker_connections 4096; }
http { access_log off; default_type application/json; keepalive_requests 1000000;
  client_body_temp_path $work/tmp-$1; proxy_temp_path $work/tmp-$1;
$( if [ -n "${2:-}" ]; then
  echo "  upstream origin { server 127.0.0.1:$2; keepalive 128; keepalive_requests 1000000; }"
  echo "  server { listen 127.0.0.1:$1; location / { proxy_pass http://origin; proxy_http_version 1.1;"
  echo "    proxy_set_header Connection \"\"; proxy_set_header Authorization \"Basic dXNlcjpwYXNzd29yZA==\"; } }"
else
  echo "  server { listen 127.0.0.1:$1; root $work/html; location /jmap/ { index index.html; } }"
fi )
}
CONF
}
nginx_conf "$BASE" > "$work/origin.conf"
taskset -c 1 nginx -p "$work" -c "$work/origin.conf" > /dev/null 2>&1 & pids+=($!)
taskset -c 1 redis-server --port $((BASE + 5)) --bind 127.0.0.1 --save "" --appendonly no > "$work/redis.log" 2>&1 & pids+=($!)

# APP=PATH: the proxy (and the floors' classpath) from another build (see bench/jar.sh).
. "$ROOT/bench/jar.sh"
app=$(proxy_jar "${APP:-}"); cp=$(proxy_classpath "$app")
export AUTHPROXY_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHPROXY_CREDENTIALS_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
export AUTHPROXY_ORIGIN_URL=http://127.0.0.1:$BASE QUARKUS_REDIS_HOSTS=redis://127.0.0.1:$((BASE + 5))
export QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT=$((BASE + 4))
export QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT=$((BASE + 6))
sleep 0.5
token=$(echo 'bench-password' | java -jar "$app" session --user alice --ttl 3600 2>/dev/null)

load() { # load PORT SECONDS: wrk's output
    timeout $(($2 + 20)) taskset -c 1 wrk -t1 -c64 -d"$2"s -H "Cookie: Authorization=$token" "http://127.0.0.1:$1/jmap/"
}
await() { # await PORT: until GET /jmap/ with the token answers, at most 15 s
    for _ in $(seq 1 150); do curl -sf -o /dev/null -H "Cookie: Authorization=$token" "http://127.0.0.1:$1/jmap/" && return; sleep 0.1; done
    curl -sf -o /dev/null -H "Cookie: Authorization=$token" "http://127.0.0.1:$1/jmap/" || { echo "nothing answers on port $1" >&2; exit 1; }
}
# The JIT compiles on the one CPU each JVM is pinned to, and a load measured while C2 works is a
# load of the compiler as well. Each JVM gets at least 70 s of load (past the proxy's first session
# refresh at its 60 s cache-max-age, whose Redis path, new to the hot methods' profiles, sent C2
# recompiling them in the lab), then 5 s loads until one compiles at most 10 methods (jstat
# -compiler), at most 120 s more.
settle() { # settle PID PORT: prints the number of 5 s loads and the methods the last one compiled
    local n=0 before after
    load "$2" 70 > /dev/null
    while ((n < 24)); do
        n=$((n + 1)); before=$(jstat -compiler "$1" | awk 'NR == 2 {print $1}')
        load "$2" 5 > /dev/null; after=$(jstat -compiler "$1" | awk 'NR == 2 {print $1}')
        ((after - before <= 10)) && break
    done
    echo "$n $((after - before))"
}
per_request() { # per_request TICKS REQUESTS: CPU clock ticks as µs per request
    awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}'
}
