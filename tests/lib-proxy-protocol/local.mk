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
unit_ldadd = tests/lib-proxy-protocol/libtestvectors.la $(LIB_PROXY_PROTOCOL) $(CMOCKA_LIBS)

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

# make coverage: the tests above built again with --coverage in coverage/,
# apart from the normal build, run, and then gcovr's line and branch
# figures for the decoder and CRC32C.
coverage_dir = coverage
coverage_sources = src/lib-proxy-protocol/proxy-decoder.c \
	src/lib-proxy-protocol/crc32c.c \
	tests/lib-proxy-protocol/test-vectors.c tests/lib-proxy-protocol/test-common.c
coverage_objects = $(coverage_dir)/proxy-decoder.o $(coverage_dir)/crc32c.o \
	$(coverage_dir)/test-vectors.o $(coverage_dir)/test-common.o
coverage_cc = $(CC) -std=gnu99 -O0 -g --coverage $(unit_cppflags) \
	$(CMOCKA_CFLAGS)
# gcovr matches filters against absolute paths without "..", so the
# recipe sets root to the source directory's real path first.
coverage_gcovr = gcovr --root "$$root" --object-directory $(coverage_dir) \
	--filter "$$root/src/lib-proxy-protocol/proxy-decoder\.c" \
	--filter "$$root/src/lib-proxy-protocol/crc32c\.c"

coverage:
	@command -v gcovr >/dev/null || \
		{ echo "make coverage needs gcovr (Debian: gcovr)" >&2; \
		  exit 1; }
	$(AM_V_at)rm -rf $(coverage_dir) && $(MKDIR_P) $(coverage_dir)
	$(AM_V_at)for src in $(coverage_sources); do \
		$(coverage_cc) -c $(top_srcdir)/$$src \
			-o $(coverage_dir)/`basename $$src .c`.o || exit 1; \
	done
	$(AM_V_at)for test in $(decoder_unit_tests); do \
		name=`basename $$test`; \
		$(coverage_cc) -o $(coverage_dir)/$$name \
			$(top_srcdir)/$$test.c \
			$(coverage_objects) \
			$(CMOCKA_LIBS) || exit 1; \
	done
	$(AM_V_at)for test in $(decoder_unit_tests); do \
		name=`basename $$test`; \
		$(coverage_dir)/$$name >$(coverage_dir)/$$name.tap || \
			{ cat $(coverage_dir)/$$name.tap; exit 1; }; \
	done
	$(AM_V_at)root=`cd $(top_srcdir) && pwd`; \
		$(coverage_gcovr) && \
		$(coverage_gcovr) --branches --print-summary

clean-local: coverage-clean
coverage-clean:
	-rm -rf $(coverage_dir)

.PHONY: coverage coverage-clean
