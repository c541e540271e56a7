# tests/plugin: the login plugin with a real Dovecot, a real HAProxy and real
# clients, in the sandbox (tests/sandbox), and its manual page against its
# code; with cmocka, its part that needs no Dovecot, the diagnosis of what
# came instead of a header, and its address text against inet_ntop(),
# linked with libdovecot.
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
	tests/plugin/test_forward_fields.py \
	tests/plugin/test_nginx.py \
	tests/plugin/test_busy.py \
	tests/plugin/test_local_name.py \
	tests/plugin/test_ipv6.py \
	tests/plugin/test_authority_cn.py \
	tests/plugin/test_config_fatal.py \
	tests/plugin/test_reload.py \
	tests/plugin/test_tlv_values.py \
	tests/plugin/test_local_name_tls_pop3.py \
	tests/plugin/test_version_check.py \
	tests/plugin/test_reuse_port.py \
	tests/plugin/test_make_install.py \
	tests/plugin/test_plugin_docs.py

TESTS += $(plugin_tests)
EXTRA_DIST += $(plugin_tests)

if HAVE_CMOCKA
check_PROGRAMS += tests/plugin/test-diagnosis
TESTS += tests/plugin/test-diagnosis
endif
tests_plugin_test_diagnosis_SOURCES = tests/plugin/test-diagnosis.c \
	src/plugin/haproxy-diagnosis.c src/plugin/haproxy-diagnosis.h
tests_plugin_test_diagnosis_CPPFLAGS = $(LIB_PROXY_PROTOCOL_CPPFLAGS) \
	-I$(top_srcdir)/src/plugin
tests_plugin_test_diagnosis_CFLAGS = $(PROXY_CFLAGS) $(CMOCKA_CFLAGS)
tests_plugin_test_diagnosis_LDADD = $(LIB_PROXY_PROTOCOL) $(CMOCKA_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/plugin/test-text
TESTS += tests/plugin/test-text
endif
tests_plugin_test_text_SOURCES = tests/plugin/test-text.c \
	src/plugin/haproxy-text.c src/plugin/haproxy-text.h
tests_plugin_test_text_CPPFLAGS = $(DOVECOT_MODULE_CPPFLAGS) \
	-I$(top_srcdir)/src/plugin
tests_plugin_test_text_CFLAGS = $(DOVECOT_MODULE_CFLAGS) $(CMOCKA_CFLAGS)
# dovecot-config's LIBDOVECOT has no run path: libdovecot.so is not in the
# system's library path.
tests_plugin_test_text_LDFLAGS = -Wl,-rpath,$(dovecot_pkglibdir)
tests_plugin_test_text_LDADD = $(LIBDOVECOT) $(CMOCKA_LIBS)
