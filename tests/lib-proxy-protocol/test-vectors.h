#ifndef TEST_VECTORS_H
#define TEST_VECTORS_H

#include "proxy-decoder.h"

/* The catalogue of decoder inputs shared by the unit tests, the fuzzer's
   seed corpus and the benchmark. No cmocka here: the corpus generator and
   the benchmark link it too. */

/* Room for the longest v2 header and a little application data. */
struct test_buf {
	unsigned char data[PROXY_V2_MAX_LENGTH + 64];
	size_t size;
};

struct test_vector {
	const char *name;
	/* The bytes: exactly one of these is set. text is for v1 lines,
	   hex ignores spaces, build is for inputs too long to spell. */
	const char *text;
	const char *hex;
	void (*build)(struct test_buf *buf);

	/* What the decoder must answer for the whole input: COMPLETE with
	   length when error is NONE, INVALID with error otherwise. */
	size_t length;
	enum proxy_error error;
};

extern const struct test_vector test_vectors[];
extern const unsigned int test_vectors_count;

/* Hex digits, spaces ignored, into out; returns the number of bytes.
   Aborts on anything else: a broken vector is a broken test. */
size_t test_hex_decode(const char *hex, unsigned char *out, size_t out_size);

/* NULL if no vector has this name. */
const struct test_vector *test_vector_find(const char *name);
/* Replace buf's contents with the vector's bytes. */
void test_vector_load(const struct test_vector *vector, struct test_buf *buf);

#endif
