# The PROXY protocol code: pure C, no Dovecot header, shared by the plugin,
# the client, the tests, the fuzzer and the benchmark.
noinst_LTLIBRARIES += src/libproxyproto.la
src_libproxyproto_la_SOURCES = \
	src/proxy-protocol.h \
	src/proxy-decoder.c src/proxy-decoder.h \
	src/proxy-encoder.c src/proxy-encoder.h \
	src/crc32c.c src/crc32c.h
src_libproxyproto_la_CFLAGS = $(PROXY_CFLAGS)

# The login plugin: login_plugins = haproxy
login_module_LTLIBRARIES += src/lib20_haproxy_plugin.la
src_lib20_haproxy_plugin_la_SOURCES = \
	src/haproxy-plugin.c \
	src/haproxy-trust.c src/haproxy-trust.h \
	src/haproxy-conn.c src/haproxy-conn.h \
	src/haproxy-header.c src/haproxy-header.h \
	src/haproxy-client.c src/haproxy-client.h \
	src/haproxy-event.c src/haproxy-event.h
# Dovecot's headers want its own config.h.
src_lib20_haproxy_plugin_la_CPPFLAGS = -DHAVE_CONFIG_H $(LIBDOVECOT_INCLUDE)
src_lib20_haproxy_plugin_la_CFLAGS = $(DOVECOT_CFLAGS) $(WERROR_CFLAGS)
src_lib20_haproxy_plugin_la_LDFLAGS = -module -avoid-version -shared
src_lib20_haproxy_plugin_la_LIBADD = src/libproxyproto.la

# Its manual page.
man7_MANS += src/dovecot-haproxy.7
EXTRA_DIST += src/dovecot-haproxy.7

# Dovecot loads lib*_plugin.so; libtool's .la has no use there.
install-data-hook:
	rm -f $(DESTDIR)$(login_moduledir)/lib20_haproxy_plugin.la
uninstall-hook:
	rm -f $(DESTDIR)$(login_moduledir)/lib20_haproxy_plugin.so
