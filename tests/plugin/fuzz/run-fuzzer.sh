#!/bin/sh
# make check's fuzzing of the plugin's path from a decoded header to a
# login client's facts: see tests/run-fuzzer.sh. Headers up to 8 KiB: a
# CN or an AUTHORITY past its bound, 32 TLV types and more fit.
exec sh "$srcdir/tests/run-fuzzer.sh" \
	tests/plugin/fuzz/fuzz-plugin 8192
