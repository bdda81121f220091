#!/usr/bin/env bash
# `make run`: the demo. Starts the demo backends (auth, user, tenant gRPC
# services and the notification HTTP service), a private Redis, and the
# gateway with etc/api-gateway.conf, all on loopback, prints curl examples
# and waits; Ctrl-C stops everything.
#
#   tests/run-demo.sh GATEWAY_BIN BACKEND_BIN [--check]
#
# --check runs the printed examples itself, checks their answers, stops
# everything and exits 0/1 (the integration tests use it).
set -u
gw=${1:?gateway binary}
backend=${2:?demo-backend binary}
check=${3:-}
port=${API_GATEWAY_PORT:-8080}
secret="demo-secret-change-me"
dir=$(mktemp -d /tmp/api-gateway-demo.XXXXXX)
pids=()

stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$dir"
}
trap 'echo; echo "stopping..."; stop_all; exit 0' INT TERM

die() { # message: one line naming what failed, then stop everything
  echo "demo: $*" >&2
  stop_all
  exit 1
}

# Start one backend and wait until it listens; a backend that cannot start
# (a port taken, e.g. by an ephemeral port left from a test run) stops the
# demo with the service, the port and the variable that moves it.
start_backend() { # service port variable
  "$backend" --service "$1" --listen "127.0.0.1:$2" --jwt-secret "$secret" >"$dir/$1.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do
    grep -q "listening on" "$dir/$1.log" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      die "$1 service could not start on 127.0.0.1:$2 ($(tail -n 1 "$dir/$1.log")); set $3 to a free port"
    fi
    sleep 0.05
  done
  die "$1 service did not start listening on 127.0.0.1:$2 within 10 s (log: $dir/$1.log)"
}
# Ports can be moved with the environment (the integration test picks free ones).
auth_port=${DEMO_AUTH_PORT:-50051}
user_port=${DEMO_USER_PORT:-50052}
tenant_port=${DEMO_TENANT_PORT:-50053}
notification_port=${DEMO_NOTIFICATION_PORT:-8084}
start_backend auth "$auth_port" DEMO_AUTH_PORT
start_backend user "$user_port" DEMO_USER_PORT
start_backend tenant "$tenant_port" DEMO_TENANT_PORT
start_backend notification "$notification_port" DEMO_NOTIFICATION_PORT

redis_url=""
if command -v redis-server >/dev/null; then
  redis_port=${DEMO_REDIS_PORT:-6390}
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    >"$dir/redis.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  for _ in $(seq 200); do
    grep -q "Ready to accept connections" "$dir/redis.log" 2>/dev/null && break
    kill -0 "$redis_pid" 2>/dev/null ||
      die "redis could not start on 127.0.0.1:$redis_port ($(grep -m1 -i 'error\|could not' "$dir/redis.log")); set DEMO_REDIS_PORT to a free port"
    sleep 0.05
  done
  redis_url="redis://127.0.0.1:$redis_port/0"
else
  echo "(redis-server not installed: running without the token blacklist and the cache)"
fi

AUTH_SERVICE_URL=127.0.0.1:$auth_port USER_SERVICE_URL=127.0.0.1:$user_port TENANT_SERVICE_URL=127.0.0.1:$tenant_port \
NOTIFICATION_SERVICE_URL=http://127.0.0.1:$notification_port JWT_SECRET="$secret" REDIS_URL="$redis_url" \
API_GATEWAY_PORT="$port" \
  "$gw" -c etc/api-gateway.conf > >(tee "$dir/gateway.log" | { [ -n "$check" ] && cat >/dev/null || cat; }) 2>&1 &
gw_pid=$!
pids+=("$gw_pid")

# Wait until the first health probes (backends, the notification service and
# Redis) have answered;
# never print the examples over a gateway or backend that is not there.
healthy=""
for _ in $(seq 200); do
  if curl -s -m 2 "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"status":"healthy"'; then
    healthy=1
    break
  fi
  kill -0 "$gw_pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$healthy" ]; then
  kill -0 "$gw_pid" 2>/dev/null ||
    die "the gateway stopped: $(grep -v '^{' "$dir/gateway.log" | tail -n 1) (API_GATEWAY_PORT moves it)"
  die "the gateway is not healthy after 10 s: $(curl -s -m 2 "http://127.0.0.1:$port/health")"
fi

base="http://localhost:$port"
cat <<EOF

api-gateway demo on $base (logs: JSON lines above; backends in $dir)

  # register, then log in and keep the access token
  curl -s -X POST $base/api/v1/auth/register -H 'Content-Type: application/json' \\
       -d '{"email":"alice@example.com","username":"alice","password":"correct-horse-battery","tenant_id":"acme"}'
  TOKEN=\$(curl -s -X POST $base/api/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{"identifier":"alice","password":"correct-horse-battery"}' | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')

  # create a user in the user service, then list the users of your tenant
  curl -s -X POST $base/api/v1/users -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
       -d '{"email":"bob@example.com","username":"bob","first_name":"Bob"}'
  curl -s $base/api/v1/users -H "Authorization: Bearer \$TOKEN"

  curl -s $base/health ; curl -s $base/metrics | head

Ctrl-C stops everything.
EOF

if [ -z "$check" ]; then
  wait
  exit 0
fi

# --check: run the examples above and verify the answers.
fail() { echo "demo check failed: $*"; stop_all; exit 1; }
curl -s "$base/health" | grep -q '"status":"healthy"' || fail "/health not healthy: $(curl -s "$base/health")"
r=$(curl -s -X POST "$base/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"alice@example.com","username":"alice","password":"correct-horse-battery","tenant_id":"acme"}')
echo "$r" | grep -q '"user_id"' || fail "register: $r"
TOKEN=$(curl -s -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"identifier":"alice","password":"correct-horse-battery"}' | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || fail "login returned no access_token"
r=$(curl -s -X POST "$base/api/v1/users" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"email":"bob@example.com","username":"bob","first_name":"Bob"}')
echo "$r" | grep -q '"username":"bob"' || fail "create user: $r"
r=$(curl -s "$base/api/v1/users" -H "Authorization: Bearer $TOKEN")
echo "$r" | grep -q '"bob@example.com"' || fail "list users: $r"
echo "demo check passed"
stop_all
exit 0
