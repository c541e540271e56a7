# The PROXY protocol code: pure C, no Dovecot header, shared by the plugin,
# the client, the tests, the fuzzer and the benchmark.
noinst_LTLIBRARIES += src/libproxyproto.la
src_libproxyproto_la_SOURCES = \
	src/proxy-protocol.h \
	src/proxy-decoder.c src/proxy-decoder.h \
	src/proxy-encoder.c src/proxy-encoder.h \
	src/crc32c.c src/crc32c.h
src_libproxyproto_la_CFLAGS = $(PROXY_CFLAGS)

# Code that sees Dovecot's headers wants its own config.h.
DOVECOT_MODULE_CPPFLAGS = -DHAVE_CONFIG_H $(LIBDOVECOT_INCLUDE) \
	$(LIBDOVECOT_LOGIN_INCLUDE) $(DOVECOT_API_CPPFLAGS)
DOVECOT_MODULE_CFLAGS = $(DOVECOT_CFLAGS) $(WERROR_CFLAGS)
DOVECOT_MODULE_LDFLAGS = -module -avoid-version -shared

# The plugin's settings as both the plugin and the settings module know them.
noinst_LTLIBRARIES += src/libhaproxysettings.la
src_libhaproxysettings_la_SOURCES = \
	src/haproxy-compat.h \
	src/haproxy-networks.c src/haproxy-networks.h \
	src/haproxy-settings.c src/haproxy-settings.h
src_libhaproxysettings_la_CPPFLAGS = $(DOVECOT_MODULE_CPPFLAGS)
src_libhaproxysettings_la_CFLAGS = $(DOVECOT_MODULE_CFLAGS)

# The login plugin: login_plugins = haproxy
login_module_LTLIBRARIES += src/lib20_haproxy_plugin.la
src_lib20_haproxy_plugin_la_SOURCES = \
	src/haproxy-plugin.c \
	src/haproxy-compat.c \
	src/haproxy-policy.c src/haproxy-policy.h \
	src/haproxy-reader.c src/haproxy-reader.h \
	src/haproxy-conn.c src/haproxy-conn.h \
	src/haproxy-header.c src/haproxy-header.h \
	src/haproxy-client.c src/haproxy-client.h \
	src/haproxy-event.c src/haproxy-event.h
src_lib20_haproxy_plugin_la_CPPFLAGS = $(DOVECOT_MODULE_CPPFLAGS)
src_lib20_haproxy_plugin_la_CFLAGS = $(DOVECOT_MODULE_CFLAGS)
src_lib20_haproxy_plugin_la_LDFLAGS = $(DOVECOT_MODULE_LDFLAGS)
src_lib20_haproxy_plugin_la_LIBADD = \
	src/libhaproxysettings.la src/libproxyproto.la

# The settings module: the config process loads it from $(moduledir)/settings,
# so that doveconf knows and checks the plugin's settings.
settings_module_LTLIBRARIES += src/libhaproxy_settings.la
src_libhaproxy_settings_la_SOURCES = src/haproxy-settings-module.c
src_libhaproxy_settings_la_CPPFLAGS = $(DOVECOT_MODULE_CPPFLAGS)
src_libhaproxy_settings_la_CFLAGS = $(DOVECOT_MODULE_CFLAGS)
src_libhaproxy_settings_la_LDFLAGS = $(DOVECOT_MODULE_LDFLAGS)
src_libhaproxy_settings_la_LIBADD = src/libhaproxysettings.la

# The plugin's manual page.
man7_MANS += src/dovecot-haproxy.7
EXTRA_DIST += src/dovecot-haproxy.7

# Dovecot loads lib*.so; libtool's .la files have no use there.
install-data-hook:
	rm -f $(DESTDIR)$(login_moduledir)/lib20_haproxy_plugin.la \
		$(DESTDIR)$(settings_moduledir)/libhaproxy_settings.la
uninstall-hook:
	rm -f $(DESTDIR)$(login_moduledir)/lib20_haproxy_plugin.so \
		$(DESTDIR)$(settings_moduledir)/libhaproxy_settings.so
