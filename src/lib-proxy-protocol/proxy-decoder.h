#ifndef PROXY_DECODER_H
#define PROXY_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy-protocol.h"

/* An incremental PROXY protocol v1/v2 decoder. It is given every byte
   received so far and answers complete, need more or invalid. It never
   reads past the buffer, never allocates, and answers the same however the
   bytes were split: a prefix of a header never gets an answer that the
   whole header would contradict. Decoded strings point into the caller's
   buffer; nothing is NUL-terminated. */

enum proxy_result {
	PROXY_RESULT_INVALID = -1,
	PROXY_RESULT_NEED_MORE = 0,
	PROXY_RESULT_COMPLETE = 1,
};

/* Stable codes: proxy_error_name() gives each a token for logs and events,
   proxy_error_reason() a sentence. */
enum proxy_error {
	PROXY_ERROR_NONE = 0,
	/* Starts with neither "PROXY" nor the v2 signature. */
	PROXY_ERROR_NOT_PROXY,

	/* No CRLF within the first 107 bytes. */
	PROXY_ERROR_V1_TOO_LONG,
	/* A CR not followed by LF, or an LF without CR. */
	PROXY_ERROR_V1_BAD_LINE_END,
	/* Fields not separated by exactly one space, or too many/few. */
	PROXY_ERROR_V1_BAD_SYNTAX,
	/* Protocol other than TCP4, TCP6 or UNKNOWN. */
	PROXY_ERROR_V1_BAD_PROTOCOL,
	/* Not an address of the announced family. */
	PROXY_ERROR_V1_BAD_ADDRESS,
	/* One IPv4 and one IPv6 address, which no protocol allows: written
	   by nginx when its client's address and its own differ in family
	   (nginx issue 1609). */
	PROXY_ERROR_V1_MIXED_FAMILIES,
	/* Not a decimal 0..65535 without leading zeros. */
	PROXY_ERROR_V1_BAD_PORT,

	/* Version nibble other than 2. */
	PROXY_ERROR_V2_BAD_VERSION,
	/* Command other than LOCAL or PROXY. */
	PROXY_ERROR_V2_BAD_COMMAND,
	/* Address family nibble above 3. */
	PROXY_ERROR_V2_BAD_FAMILY,
	/* Transport nibble above 2. */
	PROXY_ERROR_V2_BAD_TRANSPORT,
	/* Length smaller than the family's address block. */
	PROXY_ERROR_V2_SHORT_ADDRESS,
	/* A TLV (or SSL sub-TLV) runs past the end of its parent. */
	PROXY_ERROR_V2_TLV_TRUNCATED,
	/* CRC32C not 4 bytes, SSL shorter than 5, UNIQUE_ID over 128. */
	PROXY_ERROR_V2_BAD_TLV_LENGTH,
	/* A TLV that can occur only once was repeated. */
	PROXY_ERROR_V2_DUPLICATE_TLV,
	/* The CRC32C TLV does not match the header. */
	PROXY_ERROR_V2_CRC_MISMATCH,

	PROXY_ERROR_COUNT
};

/* A byte string inside the decoded buffer. data == NULL: absent. */
struct proxy_bytes {
	const unsigned char *data;
	size_t size;
};

struct proxy_endpoint {
	/* Network byte order: 4 bytes for INET, 16 for INET6. */
	unsigned char addr[16];
	uint16_t port;
	/* AF_UNIX: the 108-byte path field as sent. */
	struct proxy_bytes path;
};

struct proxy_ssl {
	bool present;
	/* enum proxy_ssl_client bits */
	uint8_t client;
	/* 0 when a client certificate was presented and verified. */
	uint32_t verify;
	struct proxy_bytes version, cn, cipher, sig_alg, key_alg;
	struct proxy_bytes group, sig_scheme, client_cert;
	/* All sub-TLVs, for proxy_tlv_iter_init(). */
	struct proxy_bytes tlvs;
};

struct proxy_header {
	/* 1 or 2 */
	unsigned int version;
	/* v1 UNKNOWN decodes as LOCAL: use the connection's own endpoints.
	   A v2 LOCAL whose block does not decode (unknown family, short
	   address, bad TLVs) is still COMPLETE, with the block dropped: the
	   spec wants LOCAL accepted. Only a CRC32C mismatch rejects it. */
	enum proxy_command command;
	enum proxy_family family;
	enum proxy_transport transport;
	/* Filled for INET, INET6 and UNIX. */
	struct proxy_endpoint src, dst;
	/* Bytes the header occupies, CRLF or TLVs included. */
	size_t length;

	/* v2 only. All TLVs, for proxy_tlv_iter_init(); the ones below
	   are the spec's, already checked. */
	struct proxy_bytes tlvs;
	struct proxy_bytes alpn, authority, unique_id, netns;
	/* A CRC32C TLV was present and matched. */
	bool crc32c;
	struct proxy_ssl ssl;
};

struct proxy_tlv {
	uint8_t type;
	struct proxy_bytes value;
};

struct proxy_tlv_iter {
	const unsigned char *pos, *end;
};

/* Decode the first size bytes of a connection. On COMPLETE *hdr_r is
   filled. On NEED_MORE *need_r is how many more bytes are needed at least;
   once a v2 header's length is known it is exact. On INVALID *error_r says
   why. Any of the outputs may not be touched for other results. */
enum proxy_result
proxy_decode(const void *data, size_t size, struct proxy_header *hdr_r,
	     size_t *need_r, enum proxy_error *error_r);

/* How the first bytes of a connection compare to the two signatures,
   "PROXY " (v1) and the 12 bytes of v2: what tells a PROXY header from a
   client that speaks its own protocol, whatever the bytes' segmenting. */
enum proxy_signature {
	/* No signature starts with these bytes. */
	PROXY_SIGNATURE_NONE,
	/* Too few bytes to tell (none, or a proper prefix of one). */
	PROXY_SIGNATURE_PARTIAL,
	/* A whole signature: what follows is a header, valid or not. */
	PROXY_SIGNATURE_FOUND,
};

enum proxy_signature proxy_signature_match(const void *data, size_t size);

/* The value of hex digit c, either case; -1 if c is none. */
int proxy_hex_digit(unsigned char c);

const char *proxy_error_name(enum proxy_error error);
const char *proxy_error_reason(enum proxy_error error);

/* Walk a TLV area: header.tlvs or header.ssl.tlvs. */
void proxy_tlv_iter_init(struct proxy_tlv_iter *iter,
			 const struct proxy_bytes *area);
/* Returns 1 and the next TLV, 0 at the end, -1 if the next TLV would run
   past the area (never for an area of a COMPLETE header). */
int proxy_tlv_iter_next(struct proxy_tlv_iter *iter, struct proxy_tlv *tlv_r);

#endif
