/* Helpers shared by the unit tests: assertions whose failures name the
   vector and report the caller's line, and reproducible random data. */

#include "test-common.h"

#include <string.h>

static struct test_buf vector_buf;
static struct proxy_header vector_header;

static const char *result_name(enum proxy_result result)
{
	switch (result) {
	case PROXY_RESULT_INVALID:
		return "INVALID";
	case PROXY_RESULT_NEED_MORE:
		return "NEED_MORE";
	case PROXY_RESULT_COMPLETE:
		return "COMPLETE";
	}
	return "?";
}

const struct test_buf *
test_load_vector(const char *name, const char *file, int line)
{
	const struct test_vector *vector = test_vector_find(name);

	if (vector == NULL) {
		print_error("no test vector \"%s\"\n", name);
		_fail(file, line);
	}
	test_vector_load(vector, &vector_buf);
	return &vector_buf;
}

const struct proxy_header *
test_decode_vector(const char *name, const char *file, int line)
{
	const struct test_vector *vector = test_vector_find(name);
	enum proxy_error error = PROXY_ERROR_NONE;
	enum proxy_result result;
	size_t need = 0;

	test_load_vector(name, file, line);
	result = proxy_decode(vector_buf.data, vector_buf.size,
			      &vector_header, &need, &error);
	if (result != PROXY_RESULT_COMPLETE ||
	    vector_header.length != vector->length) {
		print_error("\"%s\": %s (length %zu, need %zu, error %s), "
			    "expected COMPLETE with length %zu\n", name,
			    result_name(result),
			    result == PROXY_RESULT_COMPLETE ?
			    vector_header.length : 0, need,
			    proxy_error_name(error), vector->length);
		_fail(file, line);
	}
	return &vector_header;
}

void test_assert_need_more(const void *data, size_t size, size_t need,
			   const char *file, int line)
{
	struct proxy_header hdr;
	enum proxy_error error = PROXY_ERROR_NONE;
	enum proxy_result result;
	size_t need_r = 0;

	result = proxy_decode(data, size, &hdr, &need_r, &error);
	if (result != PROXY_RESULT_NEED_MORE || need_r != need) {
		print_error("%zu bytes: %s (need %zu, error %s), "
			    "expected NEED_MORE with need %zu\n", size,
			    result_name(result), need_r,
			    proxy_error_name(error), need);
		_fail(file, line);
	}
}

void test_assert_bytes(const struct proxy_bytes *bytes, const char *str,
		       const char *file, int line)
{
	if (str == NULL) {
		if (bytes->data != NULL || bytes->size != 0) {
			print_error("%zu bytes present, expected none\n",
				    bytes->size);
			_fail(file, line);
		}
		return;
	}
	if (bytes->data == NULL) {
		print_error("absent, expected \"%s\"\n", str);
		_fail(file, line);
	}
	_assert_int_equal(bytes->size, strlen(str), file, line);
	_assert_memory_equal(bytes->data, str, bytes->size, file, line);
}

void test_assert_at(const struct proxy_bytes *bytes, size_t offset,
		    size_t size, const char *file, int line)
{
	if (bytes->data == NULL) {
		print_error("absent, expected %zu bytes at offset %zu\n",
			    size, offset);
		_fail(file, line);
	}
	_assert_int_equal((size_t)(bytes->data - vector_buf.data), offset,
			  file, line);
	_assert_int_equal(bytes->size, size, file, line);
}

void test_assert_addr(const unsigned char addr[16], const char *hex,
		      const char *file, int line)
{
	unsigned char expected[16];
	size_t size = test_hex_decode(hex, expected, sizeof(expected));

	_assert_memory_equal(addr, expected, size, file, line);
}

uint32_t test_random(void)
{
	/* xorshift32 */
	static uint32_t state = 2463534242u;

	state ^= state << 13;
	state ^= state >> 17;
	state ^= state << 5;
	return state;
}
