# src/lib-proxy-protocol: the PROXY protocol, v1 and v2, as the spec
# (doc/proxy-protocol.txt in HAProxy) defines it: decoder, encoder, CRC32C,
# and the cloud load balancers' TLVs.
# Pure C: it includes no Dovecot header and nothing from the programs that
# use it, the plugin, haproxy-connect, the tests, the fuzzer and the
# benchmark.
lib_proxy_protocol_sources = \
	src/lib-proxy-protocol/proxy-decoder.c \
	src/lib-proxy-protocol/proxy-encoder.c \
	src/lib-proxy-protocol/proxy-vendor.c \
	src/lib-proxy-protocol/crc32c.c
lib_proxy_protocol_headers = \
	src/lib-proxy-protocol/proxy-protocol.h \
	src/lib-proxy-protocol/proxy-decoder.h \
	src/lib-proxy-protocol/proxy-encoder.h \
	src/lib-proxy-protocol/proxy-vendor.h \
	src/lib-proxy-protocol/crc32c.h
noinst_LTLIBRARIES += src/lib-proxy-protocol/libproxyprotocol.la
src_lib_proxy_protocol_libproxyprotocol_la_SOURCES = \
	$(lib_proxy_protocol_sources) $(lib_proxy_protocol_headers)
src_lib_proxy_protocol_libproxyprotocol_la_CFLAGS = $(PROXY_CFLAGS)

# Where the programs find its headers.
LIB_PROXY_PROTOCOL_CPPFLAGS = -I$(top_srcdir)/src/lib-proxy-protocol
LIB_PROXY_PROTOCOL = src/lib-proxy-protocol/libproxyprotocol.la
