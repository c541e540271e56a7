#!/bin/sh
# Everything a change must pass: install what is missing, build with
# warnings as errors, run every test (unit, fuzz, integration) through
# automake's TAP driver, and end with "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."

scripts/build.sh

status=0
make check || status=$?
# The release tarball builds, installs, uninstalls and passes the unit tests
# on its own; the integration tests just ran here.
make distcheck TESTS='$(decoder_unit_tests) tests/unit/test-encoder' ||
	status=$?

# Count TAP results over all test logs; skips are reported apart.
passed=0 failed=0 skipped=0
for trs in $(find tests -name '*.trs'); do
	p=$(grep -c '^:test-result: PASS' "$trs" || true)
	f=$(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs" || true)
	s=$(grep -c '^:test-result: SKIP' "$trs" || true)
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
[ "$skipped" -eq 0 ] || echo "$skipped skipped"
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
exit "$status"
