#!/bin/sh
# make check's fuzzing, for the run-fuzzer.sh of each fuzz/ folder:
#   run-fuzzer.sh FUZZER MAX_LEN
# FUZZ_SECONDS (20 by default) of libFuzzer on FUZZER, seeded with the
# catalogue of headers in tests/lib-proxy-protocol/fuzz/corpus, with its
# dictionary. One TAP result on stdout; the fuzzer's own output goes to the
# test's log, and an input that crashed, leaked or hung to FUZZER's folder
# in the build tree.

fuzzer=$1
max_len=$2
seconds=${FUZZ_SECONDS:-20}
name=$(basename "$fuzzer")
seeds=$srcdir/tests/lib-proxy-protocol/fuzz

echo "1..1"
if test ! -x "$fuzzer"; then
	echo "ok 1 # SKIP configure found no clang, so $name is not built"
	exit 0
fi

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"

# New inputs go to the first directory; the seeds stay as they are.
"$fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$(dirname "$fuzzer")/" \
	-dict="$seeds/proxy.dict" "$work/corpus" "$seeds/corpus" \
	2>"$work/log"
status=$?
cat "$work/log" >&2

if test $status -ne 0; then
	echo "not ok 1 - $name failed: see its log and $(dirname "$fuzzer")/"
	exit 0
fi
runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) .*/\1 runs in \2 s/p' \
	"$work/log")
cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/log" | tail -n 1)
echo "ok 1 - $name: $runs, $cov"
