# haproxy-connect: a PROXY protocol client for administrators and tests.
bin_PROGRAMS += src/haproxy-connect
man1_MANS += src/haproxy-connect.1
EXTRA_DIST += src/haproxy-connect.1
src_haproxy_connect_SOURCES = \
	src/haproxy-connect.c src/haproxy-connect.h \
	src/haproxy-connect-options.c src/haproxy-connect-options.h \
	src/haproxy-connect-address.c src/haproxy-connect-address.h \
	src/haproxy-connect-header.c src/haproxy-connect-header.h \
	src/haproxy-connect-net.c src/haproxy-connect-net.h \
	src/haproxy-connect-hexdump.c src/haproxy-connect-hexdump.h \
	src/haproxy-connect-tls.c src/haproxy-connect-tls.h \
	src/haproxy-connect-stream.c src/haproxy-connect-stream.h \
	src/haproxy-connect-relay.c src/haproxy-connect-relay.h
src_haproxy_connect_CPPFLAGS = -DHC_VERSION='"$(PACKAGE_VERSION)"'
src_haproxy_connect_CFLAGS = $(PROXY_CFLAGS) $(OPENSSL_CFLAGS)
src_haproxy_connect_LDADD = src/libproxyproto.la $(OPENSSL_LIBS)
