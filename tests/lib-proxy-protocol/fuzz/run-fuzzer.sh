#!/bin/sh
# make check's fuzzing of the decoder: see tests/run-fuzzer.sh.
exec sh "$srcdir/tests/run-fuzzer.sh" \
	tests/lib-proxy-protocol/fuzz/fuzz-decoder 4096
