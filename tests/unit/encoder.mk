# The encoder's round-trip tests; included from Makefile.am under
# HAVE_CMOCKA, beside tests/unit/local.mk.
check_PROGRAMS += tests/unit/test-encoder
TESTS += tests/unit/test-encoder
tests_unit_test_encoder_SOURCES = tests/unit/test-encoder.c
tests_unit_test_encoder_CPPFLAGS = $(LIB_PROXY_PROTOCOL_CPPFLAGS)
tests_unit_test_encoder_CFLAGS = $(PROXY_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_encoder_LDADD = $(LIB_PROXY_PROTOCOL) $(CMOCKA_LIBS)
