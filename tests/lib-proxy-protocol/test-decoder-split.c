/* The decoder is given all the bytes received so far, so a header split
   at byte k is decoded first as its k-byte prefix, then whole. Over the
   whole catalogue: a prefix never gets an answer the whole contradicts,
   NEED_MORE never asks for a byte past the header, and bytes after the
   header never change the answer. */

#include "test-common.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct answer {
	enum proxy_result result;
	size_t need, length;
	enum proxy_error error;
};

/* Decode a heap copy of exactly size bytes, so that valgrind or ASan
   would catch a read past them. */
static void decode_copy(const unsigned char *data, size_t size,
			struct answer *answer_r)
{
	unsigned char *copy = malloc(size > 0 ? size : 1);
	struct proxy_header hdr;

	assert_non_null(copy);
	memcpy(copy, data, size);
	answer_r->error = PROXY_ERROR_NONE;
	answer_r->result = proxy_decode(copy, size, &hdr, &answer_r->need,
					&answer_r->error);
	answer_r->length = answer_r->result == PROXY_RESULT_COMPLETE ?
		hdr.length : 0;
	free(copy);
}

/* Once a v2 header's length field is in, need is exact. */
static bool v2_length_known(const struct test_buf *buf, size_t prefix,
			    size_t *length_r)
{
	if (prefix < PROXY_V2_FIXED_LENGTH || buf->data[0] != '\r')
		return false;
	*length_r = PROXY_V2_FIXED_LENGTH +
		(size_t)(buf->data[14] << 8 | buf->data[15]);
	return true;
}

static void check_need(const struct test_vector *vector,
		       const struct test_buf *buf, size_t prefix,
		       const struct answer *answer)
{
	size_t length;

	if (answer->need == 0)
		fail_msg("\"%s\", %zu bytes: NEED_MORE of 0 bytes",
			 vector->name, prefix);
	if (vector->error == PROXY_ERROR_NONE &&
	    prefix + answer->need > vector->length) {
		fail_msg("\"%s\", %zu bytes: need %zu runs past the "
			 "%zu-byte header", vector->name, prefix,
			 answer->need, vector->length);
	}
	if (v2_length_known(buf, prefix, &length) &&
	    prefix + answer->need != length) {
		fail_msg("\"%s\", %zu bytes: need %zu, but the length field "
			 "says %zu", vector->name, prefix, answer->need,
			 length - prefix);
	}
}

/* Every strict prefix of a header needs more; from its end on, whatever
   follows, the answer is the whole header's. */
static void check_valid_prefixes(const struct test_vector *vector,
				 const struct test_buf *buf)
{
	struct answer answer;
	size_t prefix;

	for (prefix = 0; prefix <= buf->size; prefix++) {
		decode_copy(buf->data, prefix, &answer);
		if (prefix < vector->length) {
			if (answer.result != PROXY_RESULT_NEED_MORE) {
				fail_msg("\"%s\", %zu of %zu bytes: result %d "
					 "(%s), expected NEED_MORE",
					 vector->name, prefix, vector->length,
					 answer.result,
					 proxy_error_name(answer.error));
			}
			check_need(vector, buf, prefix, &answer);
		} else if (answer.result != PROXY_RESULT_COMPLETE ||
			   answer.length != vector->length) {
			fail_msg("\"%s\", %zu bytes: result %d, length %zu; "
				 "expected COMPLETE, length %zu",
				 vector->name, prefix, answer.result,
				 answer.length, vector->length);
		}
	}
}

/* No prefix is accepted. A prefix may need more where the whole is
   invalid, but once INVALID, every longer prefix is, with the same code. */
static void check_invalid_prefixes(const struct test_vector *vector,
				   const struct test_buf *buf)
{
	struct answer answer;
	bool invalid = false;
	size_t prefix;

	for (prefix = 0; prefix <= buf->size; prefix++) {
		decode_copy(buf->data, prefix, &answer);
		switch (answer.result) {
		case PROXY_RESULT_COMPLETE:
			fail_msg("\"%s\": its %zu-byte prefix is accepted",
				 vector->name, prefix);
			break;
		case PROXY_RESULT_NEED_MORE:
			if (invalid) {
				fail_msg("\"%s\", %zu bytes: NEED_MORE after "
					 "INVALID", vector->name, prefix);
			}
			check_need(vector, buf, prefix, &answer);
			break;
		case PROXY_RESULT_INVALID:
			if (answer.error != vector->error) {
				fail_msg("\"%s\", %zu bytes: %s, expected %s",
					 vector->name, prefix,
					 proxy_error_name(answer.error),
					 proxy_error_name(vector->error));
			}
			invalid = true;
			break;
		}
	}
	assert_true(invalid);
}

static void test_split_valid(void **state)
{
	struct test_buf buf;
	unsigned int i, count = 0;

	(void)state;
	for (i = 0; i < test_vectors_count; i++) {
		if (test_vectors[i].error != PROXY_ERROR_NONE)
			continue;
		test_vector_load(&test_vectors[i], &buf);
		check_valid_prefixes(&test_vectors[i], &buf);
		count++;
	}
	assert_true(count > 0);
}

static void test_split_invalid(void **state)
{
	struct test_buf buf;
	unsigned int i, count = 0;

	(void)state;
	for (i = 0; i < test_vectors_count; i++) {
		if (test_vectors[i].error == PROXY_ERROR_NONE)
			continue;
		test_vector_load(&test_vectors[i], &buf);
		check_invalid_prefixes(&test_vectors[i], &buf);
		count++;
	}
	assert_true(count > 0);
}

/* A receiver that reads exactly what NEED_MORE asks for, as one that
   must not consume the client's first bytes does, stops right at the
   end of the header. */
static void test_split_read_what_is_needed(void **state)
{
	struct test_buf buf;
	struct answer answer;
	unsigned int i;

	(void)state;
	for (i = 0; i < test_vectors_count; i++) {
		const struct test_vector *vector = &test_vectors[i];
		size_t have = 0;

		if (vector->error != PROXY_ERROR_NONE)
			continue;
		test_vector_load(vector, &buf);
		for (;;) {
			decode_copy(buf.data, have, &answer);
			if (answer.result != PROXY_RESULT_NEED_MORE)
				break;
			have += answer.need;
			assert_in_range(have, 1, vector->length);
		}
		assert_int_equal(answer.result, PROXY_RESULT_COMPLETE);
		assert_int_equal(have, vector->length);
	}
}

/* What the client sends after the header never changes the answer. */
static void test_split_data_after(void **state)
{
	static const char data[] = "A1 NOOP\r\n\r\n\r\n\0\r\nQUIT\n";
	struct test_buf buf;
	struct answer answer;
	unsigned int i;

	(void)state;
	for (i = 0; i < test_vectors_count; i++) {
		const struct test_vector *vector = &test_vectors[i];

		test_vector_load(vector, &buf);
		memcpy(buf.data + buf.size, data, sizeof(data));
		decode_copy(buf.data, buf.size + sizeof(data), &answer);
		if (vector->error == PROXY_ERROR_NONE) {
			assert_int_equal(answer.result, PROXY_RESULT_COMPLETE);
			assert_int_equal(answer.length, vector->length);
		} else {
			assert_int_equal(answer.result, PROXY_RESULT_INVALID);
			assert_int_equal(answer.error, vector->error);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_valid),
		cmocka_unit_test(test_split_invalid),
		cmocka_unit_test(test_split_read_what_is_needed),
		cmocka_unit_test(test_split_data_after),
	};

	return test_run(tests);
}
