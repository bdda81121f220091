#!/usr/bin/env bash
# `make bench`: build the two helpers (a minimal libh2o server, the limiter
# micro-benchmark against $BUILD/libgw.a; make builds the third,
# $BUILD/bench/bench_descset), then run tests/bench/bench.py,
# which starts every server on free loopback ports, measures them with wrk
# and writes docs/PERFORMANCE.md. BENCH_SECONDS (default 4) per measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
mkdir -p "$BUILD/bench"
cc -std=gnu11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$BUILD/bench/h2o_hello" tests/bench/h2o_hello.c \
  -lh2o-evloop -lssl -lcrypto -lz -pthread
cc -std=gnu11 -O2 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -Wall -Wextra -Werror -I. -I"$BUILD/gen" \
  -o "$BUILD/bench/bench_limiter" tests/bench/bench_limiter.c "$BUILD/libgw.a" -pthread -lm
export GW_BIN=${GW_BIN:-bin/api-gateway} GW_BACKEND=${GW_BACKEND:-$BUILD/bin/demo-backend}
exec /usr/bin/python3 tests/bench/bench.py --hello "$BUILD/bench/h2o_hello" --limiter "$BUILD/bench/bench_limiter" \
  --descset "$BUILD/bench/bench_descset"
