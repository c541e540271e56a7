# tests/plugin: the login plugin with a real Dovecot, a real HAProxy and real
# clients, in the sandbox (tests/sandbox), and its manual page against its
# code.
plugin_tests = \
	tests/plugin/test_login.py \
	tests/plugin/test_tls.py \
	tests/plugin/test_passthrough.py \
	tests/plugin/test_healthcheck.py \
	tests/plugin/test_cluster.py \
	tests/plugin/test_wiki_config.py \
	tests/plugin/test_hostile.py \
	tests/plugin/test_lifetime.py \
	tests/plugin/test_events.py \
	tests/plugin/test_config.py \
	tests/plugin/test_direct.py \
	tests/plugin/test_diagnosis.py \
	tests/plugin/test_endpoints.py \
	tests/plugin/test_busy.py \
	tests/plugin/test_local_name.py \
	tests/plugin/test_make_install.py \
	tests/plugin/test_plugin_docs.py

TESTS += $(plugin_tests)
EXTRA_DIST += $(plugin_tests)
