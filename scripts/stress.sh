#!/bin/sh
# The whole suite on a loaded machine: RUNS runs of `make check` in a row
# (3 by default) in a built tree, while a busy loop per core keeps every
# core busy, so that each test sees its processes late, as on a busy
# server. No test is retried; the first failing run ends it.
#
#   scripts/stress.sh                    this tree, the Dovecot it is built for
#   scripts/stress.sh build/matrix/2.4.5 a tree scripts/matrix.sh 2.4.5 made
#   RUNS=5 scripts/stress.sh
set -eu
cd "$(dirname "$0")/.."
top=$PWD
dir=${1:-.}
runs=${RUNS:-3}

if [ ! -f "$dir/Makefile" ]; then
	echo "stress.sh: $dir is not a configured tree (scripts/build.sh, or scripts/matrix.sh VERSION)" >&2
	exit 1
fi
# Built before the load, as the suite expects it.
make -C "$dir" -j"$(nproc)" >/dev/null

loops=
stop_loops() {
	# shellcheck disable=SC2086
	[ -z "$loops" ] || kill $loops 2>/dev/null || true
}
trap stop_loops EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$(nproc)"); do
	sh -c 'while :; do :; done' &
	loops="$loops $!"
done
echo "stress.sh: $(nproc) busy loops (pids$loops)"

run=1
while [ "$run" -le "$runs" ]; do
	echo "stress.sh: run $run of $runs in $dir"
	status=0
	make -C "$dir" check >"$dir/stress-$run.log" 2>&1 || status=$?
	result=$("$top/scripts/tap-count.sh" "$dir/tests" "run $run: ")
	echo "$result"
	if [ "$status" -ne 0 ]; then
		grep -E '^(FAIL|ERROR|XPASS)' "$dir/stress-$run.log" || true
		echo "stress.sh: run $run failed; its output is in $dir/stress-$run.log"
		exit 1
	fi
	run=$((run + 1))
done
echo "stress.sh: $runs runs passed under load"
