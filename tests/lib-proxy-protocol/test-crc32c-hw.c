/* The SSE4.2 CRC32C against the table one, over lengths around its 8-byte
   steps and every alignment. Skipped where the CPU lacks the instruction. */

#include "test-common.h"
#include "crc32c.h"

#include <stdio.h>

static void test_crc32c_hw_check_value(void **state)
{
	(void)state;
	assert_int_equal(crc32c_hw(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c_hw(0, "", 0), 0);
}

static void test_crc32c_hw_matches_sw(void **state)
{
	unsigned char data[1100];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)test_random();
	/* Every length up to a few words, then random ones. */
	for (i = 0; i < 2000; i++) {
		size_t offset = test_random() % 16;
		size_t size = i < 40 ? i : test_random() % (sizeof(data) - 16);
		uint32_t seed = test_random();

		assert_int_equal(crc32c_hw(seed, data + offset, size),
				 crc32c_sw(seed, data + offset, size));
	}
}

static void test_crc32c_hw_chaining(void **state)
{
	unsigned char data[100];
	uint32_t whole;
	unsigned int i, split;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)test_random();
	whole = crc32c_sw(0, data, sizeof(data));
	for (split = 0; split <= sizeof(data); split++) {
		uint32_t crc = crc32c_hw(0, data, split);

		crc = crc32c_hw(crc, data + split, sizeof(data) - split);
		assert_int_equal(crc, whole);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_hw_check_value),
		cmocka_unit_test(test_crc32c_hw_matches_sw),
		cmocka_unit_test(test_crc32c_hw_chaining),
	};

	if (!crc32c_hw_available()) {
		printf("1..0 # SKIP no SSE4.2 crc32 instruction on this CPU\n");
		return 0;
	}
	return test_run(tests);
}
