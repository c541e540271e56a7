# tests/integration: real Dovecot and HAProxy run in a sandbox on loopback
# addresses (tests/integration/sandbox.py); each test_*.py prints TAP.

integration_tests = \
	tests/integration/test_login.py \
	tests/integration/test_tls.py \
	tests/integration/test_passthrough.py \
	tests/integration/test_healthcheck.py \
	tests/integration/test_cluster.py \
	tests/integration/test_wiki_config.py \
	tests/integration/test_hostile.py \
	tests/integration/test_lifetime.py \
	tests/integration/test_events.py \
	tests/integration/test_config.py \
	tests/integration/test_direct.py \
	tests/integration/test_busy.py \
	tests/integration/test_local_name.py \
	tests/integration/test_make_install.py

TESTS += $(integration_tests)
TEST_EXTENSIONS += .py
PY_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
# What sandbox.py runs: the plugin, its settings module and haproxy-connect
# just built, not installed ones, and the Dovecot they were built for. The
# tests, the demo and the benchmarks all run in it.
SANDBOX_ENV = PATH='$(DOVECOT_TEST_PATH)'"$$PATH" \
	HAPROXY_PLUGIN_DIR='$(abs_top_builddir)/src/plugin/.libs' \
	DOVECOT_SETTINGS_DIR='$(settings_moduledir)' \
	HAPROXY_CONNECT='$(abs_top_builddir)/src/haproxy-connect/haproxy-connect' \
	HAPROXY_BUILDDIR='$(abs_top_builddir)'
# -B: importing sandbox.py must not leave __pycache__ in the source tree.
PY_LOG_COMPILER = env $(SANDBOX_ENV) $(PYTHON3) -B

# scripts/demo.sh: the README's main job.
demo: all
	env $(SANDBOX_ENV) $(PYTHON3) -B $(top_srcdir)/scripts/demo.py
.PHONY: demo

EXTRA_DIST += \
	tests/integration/sandbox.py \
	tests/integration/tap.py \
	tests/integration/headers.py \
	$(integration_tests)
