# The encoder's round-trip tests; included from Makefile.am under
# HAVE_CMOCKA, beside tests/lib-proxy-protocol/local.mk.
check_PROGRAMS += tests/lib-proxy-protocol/test-encoder
TESTS += tests/lib-proxy-protocol/test-encoder
tests_lib_proxy_protocol_test_encoder_SOURCES = tests/lib-proxy-protocol/test-encoder.c
tests_lib_proxy_protocol_test_encoder_CPPFLAGS = $(LIB_PROXY_PROTOCOL_CPPFLAGS)
tests_lib_proxy_protocol_test_encoder_CFLAGS = $(PROXY_CFLAGS) $(CMOCKA_CFLAGS)
tests_lib_proxy_protocol_test_encoder_LDADD = $(LIB_PROXY_PROTOCOL_UNDER_TEST) \
	$(CMOCKA_LIBS)
