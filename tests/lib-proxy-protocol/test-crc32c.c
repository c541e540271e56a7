/* CRC32C against published values, and the dispatching crc32c() against
   the table implementation. The SSE4.2 one is in test-crc32c-hw.c. */

#include "test-common.h"
#include "crc32c.h"

#include <string.h>

typedef uint32_t crc32c_func(uint32_t crc, const void *data, size_t size);

static crc32c_func *const implementations[] = { crc32c_sw, crc32c };

static void test_crc32c_check_value(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(implementations); i++) {
		assert_int_equal(implementations[i](0, "123456789", 9),
				 0xe3069283);
		assert_int_equal(implementations[i](0, "", 0), 0);
		/* Nothing to add: the running value comes back. */
		assert_int_equal(implementations[i](0xe3069283, "", 0),
				 0xe3069283);
	}
}

/* RFC 3720 appendix B.4: 32 bytes of 00, of ff, 00..1f and 1f..00. */
static void test_crc32c_rfc3720(void **state)
{
	unsigned char zeros[32], ones[32], up[32], down[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < 32; i++) {
		zeros[i] = 0;
		ones[i] = 0xff;
		up[i] = (unsigned char)i;
		down[i] = (unsigned char)(31 - i);
	}
	for (i = 0; i < N_ELEMENTS(implementations); i++) {
		assert_int_equal(implementations[i](0, zeros, 32), 0x8a9136aa);
		assert_int_equal(implementations[i](0, ones, 32), 0x62a8ab43);
		assert_int_equal(implementations[i](0, up, 32), 0x46dd794e);
		assert_int_equal(implementations[i](0, down, 32), 0x113fdb5c);
	}
}

/* The spec's CRC: the whole header with the checksum field zeroed. */
static void test_crc32c_haproxy_header(void **state)
{
	unsigned char header[130];
	unsigned int i;

	(void)state;
	memcpy(header, load_vector("haproxy vector")->data, sizeof(header));
	memset(header + 31, 0, 4);
	for (i = 0; i < N_ELEMENTS(implementations); i++)
		assert_int_equal(implementations[i](0, header, sizeof(header)),
				 0x54fdc6ff);
}

/* crc(crc(a), b) == crc(a || b) at every split point. */
static void test_crc32c_chaining(void **state)
{
	unsigned char data[300];
	unsigned int i, split;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)test_random();
	for (i = 0; i < N_ELEMENTS(implementations); i++) {
		uint32_t whole = implementations[i](0, data, sizeof(data));

		for (split = 0; split <= sizeof(data); split++) {
			uint32_t crc = implementations[i](0, data, split);

			crc = implementations[i](crc, data + split,
						 sizeof(data) - split);
			assert_int_equal(crc, whole);
		}
	}
}

static void test_crc32c_dispatch_matches_sw(void **state)
{
	unsigned char data[1100];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)test_random();
	for (i = 0; i < 1000; i++) {
		size_t offset = test_random() % 16;
		size_t size = test_random() % (sizeof(data) - offset);
		uint32_t seed = test_random();

		assert_int_equal(crc32c(seed, data + offset, size),
				 crc32c_sw(seed, data + offset, size));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_check_value),
		cmocka_unit_test(test_crc32c_rfc3720),
		cmocka_unit_test(test_crc32c_haproxy_header),
		cmocka_unit_test(test_crc32c_chaining),
		cmocka_unit_test(test_crc32c_dispatch_matches_sw),
	};

	return test_run(tests);
}
