/* proxy_signature_match(): what tells a PROXY header from a client's own
   first bytes, one answer however the bytes were split. A prefix of a
   signature is PARTIAL, a whole one FOUND, and any byte that leaves both
   signatures NONE; longer input never contradicts a shorter prefix. */

#include "test-common.h"

#include <stdlib.h>
#include <string.h>

/* Match a heap copy of exactly size bytes, so that valgrind or ASan would
   catch a read past them. */
static enum proxy_signature match_copy(const void *data, size_t size)
{
	unsigned char *copy = malloc(size > 0 ? size : 1);
	enum proxy_signature sig;

	assert_non_null(copy);
	memcpy(copy, data, size);
	sig = proxy_signature_match(copy, size);
	free(copy);
	return sig;
}

static void assert_match(const char *data, size_t size,
			 enum proxy_signature expected)
{
	enum proxy_signature sig = match_copy(data, size);

	if (sig != expected) {
		fail_msg("%zu bytes \"%.*s\": %d, expected %d", size,
			 (int)size, data, sig, expected);
	}
}

static void test_signature_v1(void **state)
{
	static const char v1[] = PROXY_V1_SIGNATURE "TCP4 ";
	size_t i;

	(void)state;
	for (i = 0; i < PROXY_V1_SIGNATURE_LENGTH; i++)
		assert_match(v1, i, PROXY_SIGNATURE_PARTIAL);
	for (; i < sizeof(v1) - 1; i++)
		assert_match(v1, i, PROXY_SIGNATURE_FOUND);
}

static void test_signature_v2(void **state)
{
	static const char v2[] = PROXY_V2_SIGNATURE "\x21\x11";
	size_t i;

	(void)state;
	for (i = 0; i < PROXY_V2_SIGNATURE_LENGTH; i++)
		assert_match(v2, i, PROXY_SIGNATURE_PARTIAL);
	for (; i < sizeof(v2) - 1; i++)
		assert_match(v2, i, PROXY_SIGNATURE_FOUND);
}

/* The bytes that decide: the first one that no signature continues. */
static void test_signature_none(void **state)
{
	(void)state;
	assert_match("a1 NOOP\r\n", 1, PROXY_SIGNATURE_NONE);
	/* A TLS ClientHello on an ssl = yes listener. */
	assert_match("\x16\x03\x01", 1, PROXY_SIGNATURE_NONE);
	/* An empty line, then a command. */
	assert_match("\r\na1 NOOP\r\n", 2, PROXY_SIGNATURE_PARTIAL);
	assert_match("\r\na1 NOOP\r\n", 3, PROXY_SIGNATURE_NONE);
	assert_match("\r\n\r\n\0\r\nQUIX\n", 11, PROXY_SIGNATURE_NONE);
	assert_match("PROXY", 5, PROXY_SIGNATURE_PARTIAL);
	assert_match("PROXYx", 6, PROXY_SIGNATURE_NONE);
	assert_match("PROXY\t", 6, PROXY_SIGNATURE_NONE);
	assert_match("proxy ", 6, PROXY_SIGNATURE_NONE);
	assert_match("PRO", 3, PROXY_SIGNATURE_PARTIAL);
	assert_match("PRE", 3, PROXY_SIGNATURE_NONE);
}

/* Over the decoder's catalogue: every prefix's answer agrees with the
   whole input's, and with the decoder's: a header has a signature, and
   input without one is NOT_PROXY to the decoder. */
static void test_signature_catalogue(void **state)
{
	struct test_buf buf;
	unsigned int i;

	(void)state;
	for (i = 0; i < test_vectors_count; i++) {
		const struct test_vector *vector = &test_vectors[i];
		enum proxy_signature whole, sig;
		size_t prefix;

		test_vector_load(vector, &buf);
		whole = match_copy(buf.data, buf.size);
		if (vector->error == PROXY_ERROR_NONE)
			assert_int_equal(whole, PROXY_SIGNATURE_FOUND);
		if (whole == PROXY_SIGNATURE_NONE &&
		    vector->error != PROXY_ERROR_NOT_PROXY &&
		    vector->error != PROXY_ERROR_V1_BAD_SYNTAX) {
			fail_msg("\"%s\": no signature, but %s", vector->name,
				 proxy_error_name(vector->error));
		}
		for (prefix = 0; prefix <= buf.size; prefix++) {
			sig = match_copy(buf.data, prefix);
			if (sig != PROXY_SIGNATURE_PARTIAL && sig != whole) {
				fail_msg("\"%s\", %zu bytes: %d, but %d for "
					 "the whole", vector->name, prefix,
					 sig, whole);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_v1),
		cmocka_unit_test(test_signature_v2),
		cmocka_unit_test(test_signature_none),
		cmocka_unit_test(test_signature_catalogue),
	};

	return test_run(tests);
}
