/* --hexdump: what was sent, readable on a terminal. */

#include "haproxy-connect-hexdump.h"

#define BYTES_PER_LINE 16

void hc_hexdump(FILE *out, const unsigned char *data, size_t size,
		size_t offset)
{
	size_t line, i;

	for (line = 0; line < size; line += BYTES_PER_LINE) {
		fprintf(out, "%08zx ", offset + line);
		for (i = 0; i < BYTES_PER_LINE; i++) {
			if (i % 8 == 0)
				fputc(' ', out);
			if (line + i < size)
				fprintf(out, "%02x ", data[line + i]);
			else
				fputs("   ", out);
		}
		fputs(" |", out);
		for (i = 0; i < BYTES_PER_LINE && line + i < size; i++) {
			unsigned char c = data[line + i];

			fputc(c >= 0x20 && c < 0x7f ? c : '.', out);
		}
		fputs("|\n", out);
	}
}
