# tests: one folder per program (lib-proxy-protocol, plugin, haproxy-connect),
# the harness their Python tests share (sandbox: real Dovecot and HAProxy on
# loopback addresses, TAP output), benchmarks and the package test. Each
# test_*.py prints TAP; this file sets how make runs them.
TEST_EXTENSIONS += .py
PY_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
# What sandbox.py runs: the plugin, its settings module and haproxy-connect
# just built, not installed ones, and the Dovecot they were built for. The
# tests, the demo and the benchmarks all run in it.
SANDBOX_ENV = PATH='$(DOVECOT_TEST_PATH)'"$$PATH" \
	PYTHONPATH='$(abs_top_srcdir)/tests/sandbox' \
	HAPROXY_PLUGIN_DIR='$(abs_top_builddir)/src/plugin/.libs' \
	DOVECOT_SETTINGS_DIR='$(settings_moduledir)' \
	HAPROXY_CONNECT='$(abs_top_builddir)/src/haproxy-connect/haproxy-connect' \
	HAPROXY_BUILDDIR='$(abs_top_builddir)'
# -B: importing sandbox.py must not leave __pycache__ in the source tree.
PY_LOG_COMPILER = env $(SANDBOX_ENV) $(PYTHON3) -B

EXTRA_DIST += \
	tests/sandbox/sandbox.py \
	tests/sandbox/tap.py \
	tests/sandbox/headers.py \
	tests/sandbox/tcp.py

# The harness itself: stopping a Dovecot reports its crashes.
TESTS += tests/sandbox/test_crashes.py
EXTRA_DIST += tests/sandbox/test_crashes.py

# Every manual page formats without a warning from groff and man.
TESTS += tests/test_man_pages.py
EXTRA_DIST += tests/test_man_pages.py

# scripts/demo.sh: the README's main job.
demo: all
	env $(SANDBOX_ENV) $(PYTHON3) -B $(top_srcdir)/scripts/demo.py
.PHONY: demo
