/* How fast the decoder takes typical headers, and CRC32C's throughput in
   both implementations. It prints figures and judges nothing: timings
   depend on the machine. */

#include "proxy-decoder.h"
#include "crc32c.h"
#include "test-vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Each figure is the median of this many runs. */
#define RUNS 9
/* A run lasts at least this long, so that the clock's cost vanishes. */
#define RUN_MIN_NSECS 20000000ULL
#define CRC_BUFFER_SIZE 65536

typedef void bench_func(const void *context, unsigned long count);

/* Results go here so that the compiler keeps the work that made them. */
static volatile size_t bench_sink;

static unsigned long long now_nsecs(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		perror("clock_gettime");
		exit(1);
	}
	return (unsigned long long)ts.tv_sec * 1000000000ULL +
		(unsigned long long)ts.tv_nsec;
}

static unsigned long long
time_run(bench_func *func, const void *context, unsigned long count)
{
	unsigned long long start = now_nsecs();

	func(context, count);
	return now_nsecs() - start;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median time of one call of func's body, in ns. */
static double median_nsecs(bench_func *func, const void *context)
{
	double per_call[RUNS];
	unsigned long count = 1;
	unsigned int i;

	while (time_run(func, context, count) < RUN_MIN_NSECS)
		count *= 2;
	for (i = 0; i < RUNS; i++) {
		unsigned long long nsecs = time_run(func, context, count);

		per_call[i] = (double)nsecs / count;
	}
	qsort(per_call, RUNS, sizeof(per_call[0]), compare_doubles);
	return per_call[RUNS / 2];
}

static void decode_loop(const void *context, unsigned long count)
{
	const struct test_buf *buf = context;
	struct proxy_header hdr;
	enum proxy_error error;
	size_t need;

	while (count-- > 0) {
		if (proxy_decode(buf->data, buf->size, &hdr, &need,
				 &error) != PROXY_RESULT_COMPLETE)
			abort();
		bench_sink += hdr.length;
	}
}

struct crc_context {
	uint32_t (*func)(uint32_t crc, const void *data, size_t size);
	const unsigned char *data;
};

static void crc_loop(const void *context, unsigned long count)
{
	const struct crc_context *ctx = context;

	while (count-- > 0)
		bench_sink += ctx->func(0, ctx->data, CRC_BUFFER_SIZE);
}

static void bench_decoder(void)
{
	static const struct {
		const char *label, *vector;
	} headers[] = {
		{ "v1 TCP4", "v1 tcp4" },
		{ "v1 TCP6", "v1 tcp6" },
		{ "v2 TCP4", "v2 tcp4" },
		{ "v2 TCP6", "v2 tcp6" },
		{ "v2 TCP6 + AUTHORITY, UNIQUE_ID, SSL/CN, CRC32C",
		  "v2 tcp6 full" },
	};
	static struct test_buf buf;
	unsigned int i;

	printf("decoder: ns per header, median of %d runs\n", RUNS);
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		test_vector_load(test_vector_find(headers[i].vector), &buf);
		printf("  %-48s %4zu bytes %8.1f ns\n", headers[i].label,
		       buf.size, median_nsecs(decode_loop, &buf));
	}
}

static void bench_crc32c(void)
{
	static unsigned char data[CRC_BUFFER_SIZE];
	struct crc_context sw = { crc32c_sw, data }, hw = { crc32c_hw, data };
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 1);
	printf("crc32c: %d-byte buffer, median of %d runs\n",
	       CRC_BUFFER_SIZE, RUNS);
	printf("  %-8s %8.2f GB/s\n", "table",
	       CRC_BUFFER_SIZE / median_nsecs(crc_loop, &sw));
	if (crc32c_hw_available()) {
		printf("  %-8s %8.2f GB/s\n", "SSE4.2",
		       CRC_BUFFER_SIZE / median_nsecs(crc_loop, &hw));
	} else {
		printf("  %-8s no SSE4.2 on this CPU\n", "SSE4.2");
	}
}

int main(void)
{
	bench_decoder();
	bench_crc32c();
	return 0;
}
