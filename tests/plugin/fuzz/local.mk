# tests/plugin/fuzz: a libFuzzer harness for the plugin's path from a
# decoded header to the connection and the facts a login client gets. make
# check fuzzes for FUZZ_SECONDS (20 by default) when configure found clang,
# and says it skipped otherwise.
TESTS += tests/plugin/fuzz/run-fuzzer.sh
EXTRA_DIST += tests/plugin/fuzz/run-fuzzer.sh tests/plugin/fuzz/fuzz-plugin.c

# Built with clang straight from the plugin's and the library's sources,
# so that libFuzzer's coverage and the sanitizers see all of them, and
# linked with the Dovecot the plugin is built for, whose libraries run as
# they are.
fuzz_plugin_cflags = -g -O1 -Wall -W $(WERROR_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz_plugin_sources = $(plugin_sources) $(settings_sources) \
	$(lib_proxy_protocol_sources)

if HAVE_CLANG
tests/plugin/fuzz/run-fuzzer.log: tests/plugin/fuzz/fuzz-plugin
tests/plugin/fuzz/fuzz-plugin: tests/plugin/fuzz/fuzz-plugin.c \
		$(fuzz_plugin_sources) $(lib_proxy_protocol_headers) \
		$(src_plugin_libhaproxyplugin_la_SOURCES) \
		$(src_plugin_libhaproxysettings_la_SOURCES)
	@$(MKDIR_P) tests/plugin/fuzz
	$(AM_V_CCLD)$(CLANG) $(fuzz_plugin_cflags) $(DOVECOT_MODULE_CPPFLAGS) \
		-I$(top_srcdir)/src/plugin -o $@ \
		$(top_srcdir)/tests/plugin/fuzz/fuzz-plugin.c \
		`for src in $(fuzz_plugin_sources); do \
			echo $(top_srcdir)/$$src; done` \
		$(LIBDOVECOT_LOGIN) $(LIBDOVECOT) \
		-Wl,-rpath,$(dovecot_pkglibdir)
CLEANFILES += tests/plugin/fuzz/fuzz-plugin
endif
