# src/haproxy-connect: a PROXY protocol client for administrators and
# tests. It includes lib-proxy-protocol's and OpenSSL's headers, never
# Dovecot's or the plugin's.
bin_PROGRAMS += src/haproxy-connect/haproxy-connect
man1_MANS += src/haproxy-connect/haproxy-connect.1
EXTRA_DIST += src/haproxy-connect/haproxy-connect.1
src_haproxy_connect_haproxy_connect_SOURCES = \
	src/haproxy-connect/haproxy-connect.c \
	src/haproxy-connect/haproxy-connect.h \
	src/haproxy-connect/haproxy-connect-options.c \
	src/haproxy-connect/haproxy-connect-options.h \
	src/haproxy-connect/haproxy-connect-address.c \
	src/haproxy-connect/haproxy-connect-address.h \
	src/haproxy-connect/haproxy-connect-header.c \
	src/haproxy-connect/haproxy-connect-header.h \
	src/haproxy-connect/haproxy-connect-net.c \
	src/haproxy-connect/haproxy-connect-net.h \
	src/haproxy-connect/haproxy-connect-hexdump.c \
	src/haproxy-connect/haproxy-connect-hexdump.h \
	src/haproxy-connect/haproxy-connect-tls.c \
	src/haproxy-connect/haproxy-connect-tls.h \
	src/haproxy-connect/haproxy-connect-stream.c \
	src/haproxy-connect/haproxy-connect-stream.h \
	src/haproxy-connect/haproxy-connect-relay.c \
	src/haproxy-connect/haproxy-connect-relay.h
src_haproxy_connect_haproxy_connect_CPPFLAGS = \
	-DHC_VERSION='"$(PACKAGE_VERSION)"' $(LIB_PROXY_PROTOCOL_CPPFLAGS)
src_haproxy_connect_haproxy_connect_CFLAGS = $(PROXY_CFLAGS) $(OPENSSL_CFLAGS)
src_haproxy_connect_haproxy_connect_LDADD = \
	$(LIB_PROXY_PROTOCOL) $(OPENSSL_LIBS)
