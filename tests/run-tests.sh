#!/usr/bin/env bash
# The test driver behind `make test`: every cmocka unit test binary, then the
# pytest integration suite against the real gateway. Prints one summary line
# `N passed, M failed` at the end and exits non-zero if anything failed.
#
#   tests/run-tests.sh            unit + integration
#   tests/run-tests.sh unit       unit only
#   PYTEST_ARGS="-k reload" tests/run-tests.sh integration
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
what=${1:-all}
passed=0
failed=0
failed_names=()

if [ "$what" = all ] || [ "$what" = unit ]; then
  for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1)
    rc=$?
    n=$(printf '%s\n' "$out" | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\..*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' | tail -1)
    n=${n:-0}
    f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi  # crashed before its summary
    passed=$((passed + n - f))
    failed=$((failed + f))
    if [ $rc -ne 0 ]; then
      failed_names+=("$(basename "$t")")
      printf '%s\n' "$out"
    fi
    echo "unit $(basename "$t"): $((n - f)) passed, $f failed"
  done
fi

if [ "$what" = all ] || [ "$what" = integration ]; then
  report=$(mktemp)
  # Debian's python3 (the one on PATH may be a pyenv without python3-pytest).
  /usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider -o junit_family=xunit2 \
    --junitxml="$report" ${PYTEST_ARGS:-}
  rc=$?
  counts=$(/usr/bin/python3 - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f)
PY
)
  rm -f "$report"
  set -- $counts
  passed=$((passed + $1))
  failed=$((failed + $2))
  if [ $rc -ne 0 ] && [ "$2" = 0 ]; then failed=$((failed + 1)); fi
  [ $rc -ne 0 ] && failed_names+=("integration")
fi

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failing: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
