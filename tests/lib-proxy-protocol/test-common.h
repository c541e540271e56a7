#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test-vectors.h"

#define N_ELEMENTS(array) (sizeof(array) / sizeof((array)[0]))

/* cmocka's TAP output is what build-aux/tap-driver.sh reads. */
#define test_run(tests) \
	(cmocka_set_message_output(CM_OUTPUT_TAP), \
	 cmocka_run_group_tests(tests, NULL, NULL))

/* The named catalogue vector; fails the test if there is none. The buffer
   is shared: it holds the vector until the next load. */
#define load_vector(name) test_load_vector(name, __FILE__, __LINE__)
const struct test_buf *
test_load_vector(const char *name, const char *file, int line);

/* Load and decode the named vector, which must be COMPLETE with the length
   the catalogue gives. The header points into load_vector()'s buffer. */
#define decode_vector(name) test_decode_vector(name, __FILE__, __LINE__)
const struct proxy_header *
test_decode_vector(const char *name, const char *file, int line);

/* The first size bytes of data must give NEED_MORE, need bytes more. */
#define assert_need_more(data, size, need) \
	test_assert_need_more(data, size, need, __FILE__, __LINE__)
void test_assert_need_more(const void *data, size_t size, size_t need,
			   const char *file, int line);

/* bytes holds exactly str, or is absent when str is NULL. */
#define assert_bytes(bytes, str) \
	test_assert_bytes(bytes, str, __FILE__, __LINE__)
void test_assert_bytes(const struct proxy_bytes *bytes, const char *str,
		       const char *file, int line);

/* bytes lies in the loaded vector at offset, size bytes long. */
#define assert_at(bytes, offset, size) \
	test_assert_at(bytes, offset, size, __FILE__, __LINE__)
void test_assert_at(const struct proxy_bytes *bytes, size_t offset,
		    size_t size, const char *file, int line);

/* An address field holds exactly the bytes spelled in hex. */
#define assert_addr(addr, hex) \
	test_assert_addr(addr, hex, __FILE__, __LINE__)
void test_assert_addr(const unsigned char addr[16], const char *hex,
		      const char *file, int line);

/* A fixed pseudo-random sequence: failures reproduce. */
uint32_t test_random(void);

#endif
