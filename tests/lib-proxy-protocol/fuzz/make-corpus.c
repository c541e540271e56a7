/* Write the unit tests' catalogue of decoder inputs, valid and invalid,
   into a directory as the fuzzer's seed corpus: one file per vector, named
   after it. "make fuzz-corpus" runs it on tests/lib-proxy-protocol/fuzz/corpus. */

#include "test-vectors.h"

#include <stdio.h>
#include <string.h>

static struct test_buf buf;

static int write_vector(const char *dir, const struct test_vector *vector)
{
	char path[512], *p;
	FILE *file;
	int len;

	len = snprintf(path, sizeof(path), "%s/%s", dir, vector->name);
	if (len < 0 || (size_t)len >= sizeof(path)) {
		fprintf(stderr, "%s: path too long\n", dir);
		return -1;
	}
	for (p = path + strlen(dir) + 1; *p != '\0'; p++) {
		if (*p == ' ')
			*p = '-';
	}

	test_vector_load(vector, &buf);
	file = fopen(path, "wb");
	if (file == NULL || fwrite(buf.data, 1, buf.size, file) != buf.size ||
	    fclose(file) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc != 2) {
		fprintf(stderr, "Usage: %s DIRECTORY\n", argv[0]);
		return 2;
	}
	for (i = 0; i < test_vectors_count; i++) {
		if (write_vector(argv[1], &test_vectors[i]) < 0)
			return 1;
	}
	return 0;
}
