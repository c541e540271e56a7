#!/bin/sh
# Everything a change must pass: install what is missing, build with
# warnings as errors, run every test (unit, fuzz, integration) through
# automake's TAP driver against the system's Dovecot and against the oldest
# and the newest Dovecot that distributions ship, built from
# ../shared/dovecot, check the PROXY library's coverage, and end with
# "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."

scripts/build.sh --enable-coverage

status=0
make check || status=$?
# The PROXY library's line and branch coverage in its unit tests: below 95%
# of either, this fails.
make coverage || status=$?
# The release tarball builds, installs, uninstalls and passes the unit tests
# on its own; the integration tests just ran here.
make distcheck TESTS='$(decoder_unit_tests) tests/lib-proxy-protocol/test-encoder' ||
	status=$?
# 2.3.16 (Ubuntu 22.04, RHEL 8 and 9) and 2.4.5 (upstream's latest), each
# built once per machine; scripts/matrix.sh without arguments runs every
# version there is.
rm -rf build/matrix
scripts/matrix.sh 2.3.16 2.4.5 || status=$?

echo "Dovecot $(dovecot --version | cut -d' ' -f1) (system):"
scripts/tap-count.sh tests "  "
result=$(scripts/tap-count.sh .)
case $result in
*" 0 failed") [ "$status" -eq 0 ] || result="${result% 0 failed} 1 failed" ;;
esac
echo "$result"
exit "$status"
