#!/bin/sh
# make check's fuzzing: FUZZ_SECONDS (20 by default) of libFuzzer on the
# decoder, seeded with tests/lib-proxy-protocol/fuzz/corpus. One TAP result on stdout; the
# fuzzer's own output goes to the test's log, and an input that crashed,
# leaked or hung to tests/lib-proxy-protocol/fuzz/ in the build tree.

fuzzer=tests/lib-proxy-protocol/fuzz/fuzz-decoder
seconds=${FUZZ_SECONDS:-20}

echo "1..1"
if test ! -x "$fuzzer"; then
	echo "ok 1 # SKIP configure found no clang, so the fuzzer is not built"
	exit 0
fi

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"

# New inputs go to the first directory; the seeds stay as they are.
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
	-print_final_stats=1 -artifact_prefix=tests/lib-proxy-protocol/fuzz/ \
	-dict="$srcdir/tests/lib-proxy-protocol/fuzz/proxy.dict" \
	"$work/corpus" "$srcdir/tests/lib-proxy-protocol/fuzz/corpus" 2>"$work/log"
status=$?
cat "$work/log" >&2

if test $status -ne 0; then
	echo "not ok 1 - fuzz-decoder failed: see its log and tests/lib-proxy-protocol/fuzz/"
	exit 0
fi
runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) .*/\1 runs in \2 s/p' \
	"$work/log")
cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/log" | tail -n 1)
echo "ok 1 - fuzz-decoder: $runs, $cov"
