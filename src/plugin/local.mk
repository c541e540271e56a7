# src/plugin: the Dovecot login plugin (login_plugins = haproxy) and its
# settings module. It includes Dovecot's and lib-proxy-protocol's headers,
# never haproxy-connect's.

# Code that sees Dovecot's headers wants its own config.h.
DOVECOT_MODULE_CPPFLAGS = -DHAVE_CONFIG_H $(LIBDOVECOT_INCLUDE) \
	$(LIBDOVECOT_LOGIN_INCLUDE) $(DOVECOT_API_CPPFLAGS) \
	$(LIB_PROXY_PROTOCOL_CPPFLAGS)
DOVECOT_MODULE_CFLAGS = $(DOVECOT_CFLAGS) $(WERROR_CFLAGS)
DOVECOT_MODULE_LDFLAGS = -module -avoid-version -shared

# The plugin's settings as both the plugin and the settings module know them,
# and the check that both run in the Dovecot they were built against.
settings_sources = \
	src/plugin/haproxy-networks.c src/plugin/haproxy-settings.c \
	src/plugin/haproxy-version.c
noinst_LTLIBRARIES += src/plugin/libhaproxysettings.la
src_plugin_libhaproxysettings_la_SOURCES = $(settings_sources) \
	src/plugin/haproxy-compat.h src/plugin/haproxy-networks.h \
	src/plugin/haproxy-settings.h src/plugin/haproxy-version.h
src_plugin_libhaproxysettings_la_CPPFLAGS = $(DOVECOT_MODULE_CPPFLAGS)
src_plugin_libhaproxysettings_la_CFLAGS = $(DOVECOT_MODULE_CFLAGS)

# The plugin's code but its entry points: the plugin, and the tests and the
# fuzzer that run it linked with libdovecot and libdovecot-login.
plugin_sources = \
	src/plugin/haproxy-compat.c src/plugin/haproxy-policy.c \
	src/plugin/haproxy-diagnosis.c src/plugin/haproxy-reader.c \
	src/plugin/haproxy-conn.c src/plugin/haproxy-header.c \
	src/plugin/haproxy-client.c src/plugin/haproxy-forward.c \
	src/plugin/haproxy-event.c src/plugin/haproxy-text.c
noinst_LTLIBRARIES += src/plugin/libhaproxyplugin.la
src_plugin_libhaproxyplugin_la_SOURCES = $(plugin_sources) \
	src/plugin/haproxy-policy.h src/plugin/haproxy-diagnosis.h \
	src/plugin/haproxy-reader.h src/plugin/haproxy-conn.h \
	src/plugin/haproxy-header.h src/plugin/haproxy-client.h \
	src/plugin/haproxy-forward.h src/plugin/haproxy-event.h \
	src/plugin/haproxy-text.h
src_plugin_libhaproxyplugin_la_CPPFLAGS = $(DOVECOT_MODULE_CPPFLAGS)
src_plugin_libhaproxyplugin_la_CFLAGS = $(DOVECOT_MODULE_CFLAGS)
HAPROXY_PLUGIN_LIBS = src/plugin/libhaproxyplugin.la \
	src/plugin/libhaproxysettings.la $(LIB_PROXY_PROTOCOL)

# The login plugin: login_plugins = haproxy
login_module_LTLIBRARIES += src/plugin/lib20_haproxy_plugin.la
src_plugin_lib20_haproxy_plugin_la_SOURCES = src/plugin/haproxy-plugin.c
src_plugin_lib20_haproxy_plugin_la_CPPFLAGS = $(DOVECOT_MODULE_CPPFLAGS)
src_plugin_lib20_haproxy_plugin_la_CFLAGS = $(DOVECOT_MODULE_CFLAGS)
src_plugin_lib20_haproxy_plugin_la_LDFLAGS = $(DOVECOT_MODULE_LDFLAGS)
src_plugin_lib20_haproxy_plugin_la_LIBADD = $(HAPROXY_PLUGIN_LIBS)

# The settings module: the config process loads it from $(moduledir)/settings,
# so that doveconf knows and checks the plugin's settings.
settings_module_LTLIBRARIES += src/plugin/libhaproxy_settings.la
src_plugin_libhaproxy_settings_la_SOURCES = src/plugin/haproxy-settings-module.c
src_plugin_libhaproxy_settings_la_CPPFLAGS = $(DOVECOT_MODULE_CPPFLAGS)
src_plugin_libhaproxy_settings_la_CFLAGS = $(DOVECOT_MODULE_CFLAGS)
src_plugin_libhaproxy_settings_la_LDFLAGS = $(DOVECOT_MODULE_LDFLAGS)
src_plugin_libhaproxy_settings_la_LIBADD = src/plugin/libhaproxysettings.la

# The plugin's manual page.
man7_MANS += src/plugin/dovecot-haproxy.7
EXTRA_DIST += src/plugin/dovecot-haproxy.7

# Dovecot loads lib*.so; libtool's .la files have no use there.
install-data-hook:
	rm -f $(DESTDIR)$(login_moduledir)/lib20_haproxy_plugin.la \
		$(DESTDIR)$(settings_moduledir)/libhaproxy_settings.la
uninstall-hook:
	rm -f $(DESTDIR)$(login_moduledir)/lib20_haproxy_plugin.so \
		$(DESTDIR)$(settings_moduledir)/libhaproxy_settings.so
