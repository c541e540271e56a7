#!/bin/sh
# Count the TAP results of the test logs (*.trs) under DIR:
#   scripts/tap-count.sh [--files] DIR [PREFIX]
# prints "PREFIXN passed, N failed" (and "N skipped" when there are any);
# --files adds a line per test file before it.
set -eu

per_file=
if [ "$1" = --files ]; then
	per_file=yes
	shift
fi
dir=$1 prefix=${2:-}

count() {
	grep -c -E "^:test-result: ($1)" "$2" || true
}

passed=0 failed=0 skipped=0
for trs in $(find "$dir" -name '*.trs' -not -path '*/_build/*' | sort); do
	p=$(count PASS "$trs")
	f=$(count 'FAIL|XPASS|ERROR' "$trs")
	s=$(count SKIP "$trs")
	[ -z "$per_file" ] ||
		printf '  %-48s %3d passed, %d failed%s\n' "${trs#"$dir"/}" \
			"$p" "$f" "$([ "$s" -eq 0 ] || echo ", $s skipped")"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
[ "$skipped" -eq 0 ] || echo "${prefix}$skipped skipped"
echo "${prefix}$passed passed, $failed failed"
