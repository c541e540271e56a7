# tests/bench: make bench runs every target listed in bench_runs, each a
# benchmark that prints its figures; make check runs none of them. A new
# benchmark adds its phony target with "bench_runs += ...".
bench_runs = bench-decoder

bench: $(bench_runs)
.PHONY: bench $(bench_runs)

# The decoder and CRC32C alone. Built with everything else, so that it
# keeps compiling, and run only here.
noinst_PROGRAMS += tests/bench/bench-decoder
tests_bench_bench_decoder_SOURCES = tests/bench/bench-decoder.c
tests_bench_bench_decoder_CPPFLAGS = \
	$(LIB_PROXY_PROTOCOL_CPPFLAGS) -I$(top_srcdir)/tests/lib-proxy-protocol
tests_bench_bench_decoder_CFLAGS = $(PROXY_CFLAGS)
tests_bench_bench_decoder_LDADD = \
	tests/lib-proxy-protocol/libtestvectors.la $(LIB_PROXY_PROTOCOL)

bench-decoder: tests/bench/bench-decoder$(EXEEXT)
	tests/bench/bench-decoder

# End to end: the plugin against Dovecot's built-in parser and a plain
# listener, with real Dovecots of the version it was built for, in a sandbox
# (root, like the integration tests), reported as ratios.
bench_runs += bench-e2e
bench-e2e: all
	env $(SANDBOX_ENV) $(PYTHON3) -B $(top_srcdir)/tests/bench/bench-e2e.py
EXTRA_DIST += tests/bench/bench-e2e.py tests/bench/bench_sessions.py

# How late HAProxy's header comes after accept(), idle and loaded: the
# measure behind haproxy_direct_wait's default.
bench_runs += bench-header-delay
bench-header-delay:
	env $(SANDBOX_ENV) $(PYTHON3) -B \
		$(top_srcdir)/tests/bench/bench-header-delay.py
EXTRA_DIST += tests/bench/bench-header-delay.py

# Instructions per session of the login process, counted by callgrind:
# what to trust on a shared machine.
bench_runs += bench-callgrind
bench-callgrind: all
	env $(SANDBOX_ENV) $(PYTHON3) -B $(top_srcdir)/tests/bench/bench-callgrind.py
EXTRA_DIST += tests/bench/bench-callgrind.py

# Resident memory per silent pending connection, plugin against built-in.
bench_runs += bench-pending
bench-pending: all
	env $(SANDBOX_ENV) $(PYTHON3) -B $(top_srcdir)/tests/bench/bench-pending.py
EXTRA_DIST += tests/bench/bench-pending.py

# Under load, every kind of peer on a haproxy listener at once, and what
# the plugin made of each connection: misclassified and lost connections.
bench_runs += bench-mixed
bench-mixed: all
	env $(SANDBOX_ENV) $(PYTHON3) -B $(top_srcdir)/tests/bench/bench-mixed.py
EXTRA_DIST += tests/bench/bench-mixed.py

# The largest v2 headers, whatever their TLVs: instructions, CPU time and
# memory per client against a plain header.
bench_runs += bench-tlvs
bench-tlvs: all
	env $(SANDBOX_ENV) $(PYTHON3) -B $(top_srcdir)/tests/bench/bench-tlvs.py
EXTRA_DIST += tests/bench/bench-tlvs.py
