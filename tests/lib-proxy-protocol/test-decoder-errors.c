/* The error contract: every enum proxy_error code is stable, named, and
   given for exactly the inputs the catalogue files under it. One test per
   code, each over all of that code's vectors. */

#include "test-common.h"

#include <string.h>

static void assert_error_vectors(enum proxy_error error)
{
	struct test_buf buf;
	struct proxy_header hdr;
	unsigned int i, count = 0;

	for (i = 0; i < test_vectors_count; i++) {
		const struct test_vector *vector = &test_vectors[i];
		enum proxy_error error_r = PROXY_ERROR_NONE;
		enum proxy_result result;
		size_t need;

		if (vector->error != error)
			continue;
		test_vector_load(vector, &buf);
		result = proxy_decode(buf.data, buf.size, &hdr, &need,
				      &error_r);
		if (result != PROXY_RESULT_INVALID || error_r != error) {
			fail_msg("\"%s\": result %d, error %s; expected %s",
				 vector->name, result,
				 proxy_error_name(error_r),
				 proxy_error_name(error));
		}
		count++;
	}
	/* A code without a vector would go untested. */
	assert_true(count > 0);
}

#define ERROR_TEST(code) \
	static void test_error_##code(void **state) \
	{ \
		(void)state; \
		assert_error_vectors(PROXY_ERROR_##code); \
	}

ERROR_TEST(NOT_PROXY)
ERROR_TEST(V1_TOO_LONG)
ERROR_TEST(V1_BAD_LINE_END)
ERROR_TEST(V1_BAD_SYNTAX)
ERROR_TEST(V1_BAD_PROTOCOL)
ERROR_TEST(V1_BAD_ADDRESS)
ERROR_TEST(V1_MIXED_FAMILIES)
ERROR_TEST(V1_BAD_PORT)
ERROR_TEST(V2_BAD_VERSION)
ERROR_TEST(V2_BAD_COMMAND)
ERROR_TEST(V2_BAD_FAMILY)
ERROR_TEST(V2_BAD_TRANSPORT)
ERROR_TEST(V2_SHORT_ADDRESS)
ERROR_TEST(V2_TLV_TRUNCATED)
ERROR_TEST(V2_BAD_TLV_LENGTH)
ERROR_TEST(V2_DUPLICATE_TLV)
ERROR_TEST(V2_CRC_MISMATCH)

_Static_assert(PROXY_ERROR_COUNT == PROXY_ERROR_V2_CRC_MISMATCH + 1,
	       "a new error code needs its ERROR_TEST()");

/* Names go into logs and events: each one set, distinct, lower case. */
static void test_error_names(void **state)
{
	static const char token_chars[] =
		"abcdefghijklmnopqrstuvwxyz0123456789_";
	unsigned int i, j;

	(void)state;
	assert_string_equal(proxy_error_name(PROXY_ERROR_NONE), "none");
	for (i = 0; i < PROXY_ERROR_COUNT; i++) {
		const char *name = proxy_error_name(i);

		assert_int_equal(strspn(name, token_chars), strlen(name));
		assert_string_not_equal(name, "unknown");
		assert_true(strlen(proxy_error_reason(i)) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(name, proxy_error_name(j));
	}
	assert_string_equal(proxy_error_name(PROXY_ERROR_COUNT), "unknown");
	assert_string_equal(proxy_error_reason(PROXY_ERROR_COUNT),
			    "Unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_NOT_PROXY),
		cmocka_unit_test(test_error_V1_TOO_LONG),
		cmocka_unit_test(test_error_V1_BAD_LINE_END),
		cmocka_unit_test(test_error_V1_BAD_SYNTAX),
		cmocka_unit_test(test_error_V1_BAD_PROTOCOL),
		cmocka_unit_test(test_error_V1_BAD_ADDRESS),
		cmocka_unit_test(test_error_V1_MIXED_FAMILIES),
		cmocka_unit_test(test_error_V1_BAD_PORT),
		cmocka_unit_test(test_error_V2_BAD_VERSION),
		cmocka_unit_test(test_error_V2_BAD_COMMAND),
		cmocka_unit_test(test_error_V2_BAD_FAMILY),
		cmocka_unit_test(test_error_V2_BAD_TRANSPORT),
		cmocka_unit_test(test_error_V2_SHORT_ADDRESS),
		cmocka_unit_test(test_error_V2_TLV_TRUNCATED),
		cmocka_unit_test(test_error_V2_BAD_TLV_LENGTH),
		cmocka_unit_test(test_error_V2_DUPLICATE_TLV),
		cmocka_unit_test(test_error_V2_CRC_MISMATCH),
		cmocka_unit_test(test_error_names),
	};

	return test_run(tests);
}
