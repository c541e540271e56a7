# tests/lib-proxy-protocol/fuzz: a libFuzzer harness for the decoder. make check fuzzes for
# FUZZ_SECONDS (20 by default) when configure found clang, and says it
# skipped otherwise.
TESTS += tests/lib-proxy-protocol/fuzz/run-fuzzer.sh
EXTRA_DIST += \
	tests/lib-proxy-protocol/fuzz/run-fuzzer.sh \
	tests/lib-proxy-protocol/fuzz/fuzz-decoder.c \
	tests/lib-proxy-protocol/fuzz/proxy.dict \
	tests/lib-proxy-protocol/fuzz/corpus

# Built with clang straight from the decoder's sources, not from libtool's
# gcc objects: libFuzzer, ASan and UBSan need every object instrumented.
fuzz_decoder_sources = \
	tests/lib-proxy-protocol/fuzz/fuzz-decoder.c \
	src/lib-proxy-protocol/proxy-decoder.c src/lib-proxy-protocol/crc32c.c
fuzz_decoder_cflags = -g -O1 -Wall -W $(WERROR_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

if HAVE_CLANG
tests/lib-proxy-protocol/fuzz/run-fuzzer.log: tests/lib-proxy-protocol/fuzz/fuzz-decoder
tests/lib-proxy-protocol/fuzz/fuzz-decoder: $(fuzz_decoder_sources) \
		src/lib-proxy-protocol/proxy-decoder.h \
		src/lib-proxy-protocol/proxy-protocol.h \
		src/lib-proxy-protocol/crc32c.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(CLANG) $(fuzz_decoder_cflags) $(LIB_PROXY_PROTOCOL_CPPFLAGS) \
		-o $@ $(top_srcdir)/tests/lib-proxy-protocol/fuzz/fuzz-decoder.c \
		$(top_srcdir)/src/lib-proxy-protocol/proxy-decoder.c \
		$(top_srcdir)/src/lib-proxy-protocol/crc32c.c
CLEANFILES += tests/lib-proxy-protocol/fuzz/fuzz-decoder
endif

# The seed corpus is the unit tests' catalogue of inputs, one file each.
# make fuzz-corpus writes it again after the catalogue changes.
noinst_PROGRAMS += tests/lib-proxy-protocol/fuzz/make-corpus
tests_lib_proxy_protocol_fuzz_make_corpus_SOURCES = tests/lib-proxy-protocol/fuzz/make-corpus.c
tests_lib_proxy_protocol_fuzz_make_corpus_CPPFLAGS = \
	$(LIB_PROXY_PROTOCOL_CPPFLAGS) -I$(top_srcdir)/tests/lib-proxy-protocol
tests_lib_proxy_protocol_fuzz_make_corpus_CFLAGS = $(PROXY_CFLAGS)
tests_lib_proxy_protocol_fuzz_make_corpus_LDADD = tests/lib-proxy-protocol/libtestvectors.la \
	$(LIB_PROXY_PROTOCOL)

fuzz-corpus: tests/lib-proxy-protocol/fuzz/make-corpus$(EXEEXT)
	rm -rf $(top_srcdir)/tests/lib-proxy-protocol/fuzz/corpus
	$(MKDIR_P) $(top_srcdir)/tests/lib-proxy-protocol/fuzz/corpus
	tests/lib-proxy-protocol/fuzz/make-corpus $(top_srcdir)/tests/lib-proxy-protocol/fuzz/corpus

.PHONY: fuzz-corpus
