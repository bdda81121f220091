#!/usr/bin/env bash
# `make fuzz`: run every libFuzzer target for FUZZ_SECONDS on a scratch copy
# of its committed corpus (tests/fuzz/corpus/<target without fuzz_>) plus
# any seeds the build made for it ($BUILD/fuzz/seeds/<target without fuzz_>).
# A crash, leak or timeout fails the run; the input is kept under
# $BUILD/fuzz/artifacts. FUZZ_MERGE=1 merges newly interesting inputs back
# into the committed corpus (minimised with -merge=1).
#
#   tests/fuzz/run.sh build/fuzz/fuzz_jwt build/fuzz/fuzz_transcode ...
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
secs=${FUZZ_SECONDS:-60}
art="$BUILD/fuzz/artifacts"
mkdir -p "$art"
failed=0
passed=0
for bin in "$@"; do
  name=$(basename "$bin")
  corpus="tests/fuzz/corpus/${name#fuzz_}"
  mkdir -p "$corpus"
  work=$(mktemp -d "$BUILD/fuzz/work-$name.XXXXXX")
  cp -r "$corpus/." "$work/"
  # Seeds made by the build and never committed (the Makefile's fuzz rule),
  # e.g. $BUILD/fuzz/seeds/descset: the bundled descriptor set.
  seeds="$BUILD/fuzz/seeds/${name#fuzz_}"
  if [ -d "$seeds" ]; then cp -r "$seeds/." "$work/"; fi
  log="$BUILD/fuzz/$name.log"
  # Inputs up to 8 KiB, but descriptor sets up to 64 KiB: the bundled set
  # (about 22 KiB with its imports) must reach the fuzzer whole.
  max_len=8192
  [ "$name" = fuzz_descset ] && max_len=65536
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
    -artifact_prefix="$art/$name-" "$work" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    failed=$((failed + 1))
    echo "fuzz $name: FAILED after ${execs:-?} runs (exit $rc); artifacts in $art, log $log"
    grep -m5 -E "ERROR|SUMMARY|runtime error" "$log"
  else
    passed=$((passed + 1))
    echo "fuzz $name: ${execs:-?} runs in ${secs}s, no crash ($(ls "$work" | wc -l) corpus inputs)"
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
      merged=$(mktemp -d "$BUILD/fuzz/merge-$name.XXXXXX")
      "$bin" -merge=1 "$merged" "$corpus" "$work" >/dev/null 2>&1 && rm -rf "$corpus" && mv "$merged" "$corpus"
      echo "fuzz $name: corpus now $(ls "$corpus" | wc -l) inputs"
    fi
  fi
  rm -rf "$work"
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
