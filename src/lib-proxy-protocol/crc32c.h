#ifndef CRC32C_H
#define CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC32c (Castagnoli, RFC 4960 appendix B), as the PROXY v2 CRC32C TLV
   uses it. Chainable: crc32c(crc32c(0, a), b) == crc32c(0, a || b). */
uint32_t crc32c(uint32_t crc, const void *data, size_t size);

/* The two implementations crc32c() picks from, exposed for tests and
   benchmarks. crc32c_hw() may only be called if crc32c_hw_available(). */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t size);
uint32_t crc32c_hw(uint32_t crc, const void *data, size_t size);
bool crc32c_hw_available(void);

#endif
