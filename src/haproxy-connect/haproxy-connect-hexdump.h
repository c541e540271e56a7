#ifndef HAPROXY_CONNECT_HEXDUMP_H
#define HAPROXY_CONNECT_HEXDUMP_H

#include <stddef.h>
#include <stdio.h>

/* Lines of 16 bytes as hexdump -C writes them, offsets counted from
   offset, so that the pieces of a split header line up. */
void hc_hexdump(FILE *out, const unsigned char *data, size_t size,
		size_t offset);

#endif
