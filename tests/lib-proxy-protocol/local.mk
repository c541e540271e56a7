# tests/lib-proxy-protocol: cmocka tests of src/lib-proxy-protocol (decoder,
# encoder, CRC32C), printing TAP, and its fuzzer in fuzz/.

# The shell-script tests, here and in fuzz/, print TAP too.
TEST_EXTENSIONS += .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)

# The catalogue of decoder inputs. It needs no cmocka: the fuzzer's corpus
# generator and the benchmark use it too.
noinst_LTLIBRARIES += tests/lib-proxy-protocol/libtestvectors.la
tests_lib_proxy_protocol_libtestvectors_la_SOURCES = \
	tests/lib-proxy-protocol/test-vectors.c tests/lib-proxy-protocol/test-vectors.h
tests_lib_proxy_protocol_libtestvectors_la_CPPFLAGS = $(LIB_PROXY_PROTOCOL_CPPFLAGS)
tests_lib_proxy_protocol_libtestvectors_la_CFLAGS = $(PROXY_CFLAGS)

decoder_unit_tests = \
	tests/lib-proxy-protocol/test-decoder-v1 \
	tests/lib-proxy-protocol/test-decoder-v2 \
	tests/lib-proxy-protocol/test-decoder-tlv \
	tests/lib-proxy-protocol/test-decoder-errors \
	tests/lib-proxy-protocol/test-decoder-split \
	tests/lib-proxy-protocol/test-signature \
	tests/lib-proxy-protocol/test-vendor \
	tests/lib-proxy-protocol/test-crc32c \
	tests/lib-proxy-protocol/test-crc32c-hw

if HAVE_CMOCKA
check_PROGRAMS += $(decoder_unit_tests)
TESTS += $(decoder_unit_tests)
else
# Without cmocka make check fails, rather than pass without unit tests.
TESTS += tests/lib-proxy-protocol/cmocka-missing.sh
endif
EXTRA_DIST += tests/lib-proxy-protocol/cmocka-missing.sh

unit_common = tests/lib-proxy-protocol/test-common.c tests/lib-proxy-protocol/test-common.h
unit_cppflags = $(LIB_PROXY_PROTOCOL_CPPFLAGS) -I$(top_srcdir)/tests/lib-proxy-protocol
unit_cflags = $(PROXY_CFLAGS) $(CMOCKA_CFLAGS)
unit_ldadd = tests/lib-proxy-protocol/libtestvectors.la \
	$(LIB_PROXY_PROTOCOL_UNDER_TEST) $(CMOCKA_LIBS)

tests_lib_proxy_protocol_test_decoder_v1_SOURCES = tests/lib-proxy-protocol/test-decoder-v1.c $(unit_common)
tests_lib_proxy_protocol_test_decoder_v1_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_decoder_v1_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_decoder_v1_LDADD = $(unit_ldadd)

tests_lib_proxy_protocol_test_decoder_v2_SOURCES = tests/lib-proxy-protocol/test-decoder-v2.c $(unit_common)
tests_lib_proxy_protocol_test_decoder_v2_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_decoder_v2_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_decoder_v2_LDADD = $(unit_ldadd)

tests_lib_proxy_protocol_test_decoder_tlv_SOURCES = \
	tests/lib-proxy-protocol/test-decoder-tlv.c $(unit_common)
tests_lib_proxy_protocol_test_decoder_tlv_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_decoder_tlv_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_decoder_tlv_LDADD = $(unit_ldadd)

tests_lib_proxy_protocol_test_signature_SOURCES = tests/lib-proxy-protocol/test-signature.c $(unit_common)
tests_lib_proxy_protocol_test_signature_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_signature_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_signature_LDADD = $(unit_ldadd)

tests_lib_proxy_protocol_test_vendor_SOURCES = \
	tests/lib-proxy-protocol/test-vendor.c $(unit_common)
tests_lib_proxy_protocol_test_vendor_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_vendor_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_vendor_LDADD = $(unit_ldadd)

tests_lib_proxy_protocol_test_decoder_errors_SOURCES = \
	tests/lib-proxy-protocol/test-decoder-errors.c $(unit_common)
tests_lib_proxy_protocol_test_decoder_errors_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_decoder_errors_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_decoder_errors_LDADD = $(unit_ldadd)

tests_lib_proxy_protocol_test_decoder_split_SOURCES = \
	tests/lib-proxy-protocol/test-decoder-split.c $(unit_common)
tests_lib_proxy_protocol_test_decoder_split_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_decoder_split_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_decoder_split_LDADD = $(unit_ldadd)

tests_lib_proxy_protocol_test_crc32c_SOURCES = tests/lib-proxy-protocol/test-crc32c.c $(unit_common)
tests_lib_proxy_protocol_test_crc32c_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_crc32c_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_crc32c_LDADD = $(unit_ldadd)

tests_lib_proxy_protocol_test_crc32c_hw_SOURCES = tests/lib-proxy-protocol/test-crc32c-hw.c $(unit_common)
tests_lib_proxy_protocol_test_crc32c_hw_CPPFLAGS = $(unit_cppflags)
tests_lib_proxy_protocol_test_crc32c_hw_CFLAGS = $(unit_cflags)
tests_lib_proxy_protocol_test_crc32c_hw_LDADD = $(unit_ldadd)

# make coverage (configure --enable-coverage): the library built again with
# --coverage, which the unit tests link instead of the plain one, and
# gcovr's line and branch figures for all of it once they have run. The
# plugin keeps the plain library: its login processes, chrooted and
# unprivileged, could not write the counts. Below 95% of lines or of
# branches, make coverage fails.
if COVERAGE
check_LTLIBRARIES += tests/lib-proxy-protocol/libproxyprotocol-coverage.la
tests_lib_proxy_protocol_libproxyprotocol_coverage_la_SOURCES = \
	$(lib_proxy_protocol_sources) $(lib_proxy_protocol_headers)
tests_lib_proxy_protocol_libproxyprotocol_coverage_la_CFLAGS = \
	$(PROXY_CFLAGS) --coverage
# Its users link the counting runtime through it.
tests_lib_proxy_protocol_libproxyprotocol_coverage_la_LIBADD = -lgcov
LIB_PROXY_PROTOCOL_UNDER_TEST = \
	tests/lib-proxy-protocol/libproxyprotocol-coverage.la
else
LIB_PROXY_PROTOCOL_UNDER_TEST = $(LIB_PROXY_PROTOCOL)
endif
coverage_tests = $(decoder_unit_tests) tests/lib-proxy-protocol/test-encoder
coverage_min = 95
# gcovr matches filters against absolute paths without "..", so the
# recipe sets root to the source directory's real path first.
coverage_gcovr = gcovr --root "$$root" --object-directory "$$build" \
	--filter "$$root/src/lib-proxy-protocol/" "$$build"

coverage:
if COVERAGE
	@command -v gcovr >/dev/null || \
		{ echo "make coverage needs gcovr (Debian: gcovr)" >&2; \
		  exit 1; }
	$(AM_V_at)find src/lib-proxy-protocol -name '*coverage_la-*.gcda' \
		-delete
	$(AM_V_at)$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(coverage_tests)'
	$(AM_V_at)root=`cd $(top_srcdir) && pwd`; build=`pwd`; \
		$(coverage_gcovr) && \
		$(coverage_gcovr) --branches --print-summary \
			--fail-under-line $(coverage_min) \
			--fail-under-branch $(coverage_min)
else
	@echo "make coverage: configure with --enable-coverage first" >&2; \
		exit 1
endif

clean-local: coverage-clean
coverage-clean:
	-find . -name '*.gcda' -o -name '*.gcno' | xargs rm -f

.PHONY: coverage coverage-clean
