# The PROXY protocol code: pure C, no Dovecot header, shared by the plugin,
# the client, the tests, the fuzzer and the benchmark.
noinst_LTLIBRARIES += src/libproxyproto.la
src_libproxyproto_la_SOURCES = \
	src/proxy-protocol.h \
	src/proxy-decoder.c src/proxy-decoder.h \
	src/crc32c.c src/crc32c.h
src_libproxyproto_la_CFLAGS = $(PROXY_CFLAGS)
