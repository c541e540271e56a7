/* PROXY protocol v1 and v2 decoder: doc/proxy-protocol.txt in
   haproxy/haproxy is the reference, and every check below is one of its
   rules. Each decision depends only on bytes already seen, which is what
   makes the answer independent of how the input was split. */

#include "proxy-decoder.h"
#include "crc32c.h"

#include <string.h>

static const struct {
	const char *name;
	const char *reason;
} proxy_errors[PROXY_ERROR_COUNT] = {
	[PROXY_ERROR_NONE] = { "none", "No error" },
	[PROXY_ERROR_NOT_PROXY] = { "not_proxy",
		"Not a PROXY protocol header" },
	[PROXY_ERROR_V1_TOO_LONG] = { "v1_too_long",
		"v1 header has no CRLF within 107 bytes" },
	[PROXY_ERROR_V1_BAD_LINE_END] = { "v1_bad_line_end",
		"v1 header has a CR or LF that is not a CRLF" },
	[PROXY_ERROR_V1_BAD_SYNTAX] = { "v1_bad_syntax",
		"v1 header fields are not separated by single spaces" },
	[PROXY_ERROR_V1_BAD_PROTOCOL] = { "v1_bad_protocol",
		"v1 protocol is not TCP4, TCP6 or UNKNOWN" },
	[PROXY_ERROR_V1_BAD_ADDRESS] = { "v1_bad_address",
		"v1 address is not valid for its protocol" },
	[PROXY_ERROR_V1_MIXED_FAMILIES] = { "v1_mixed_families",
		"v1 addresses are one IPv4 and one IPv6 address" },
	[PROXY_ERROR_V1_BAD_PORT] = { "v1_bad_port",
		"v1 port is not a number 0-65535" },
	[PROXY_ERROR_V2_BAD_VERSION] = { "v2_bad_version",
		"v2 version is not 2" },
	[PROXY_ERROR_V2_BAD_COMMAND] = { "v2_bad_command",
		"v2 command is neither LOCAL nor PROXY" },
	[PROXY_ERROR_V2_BAD_FAMILY] = { "v2_bad_family",
		"v2 address family is unknown" },
	[PROXY_ERROR_V2_BAD_TRANSPORT] = { "v2_bad_transport",
		"v2 transport protocol is unknown" },
	[PROXY_ERROR_V2_SHORT_ADDRESS] = { "v2_short_address",
		"v2 length is too short for the address block" },
	[PROXY_ERROR_V2_TLV_TRUNCATED] = { "v2_tlv_truncated",
		"v2 TLV runs past the end of the header" },
	[PROXY_ERROR_V2_BAD_TLV_LENGTH] = { "v2_bad_tlv_length",
		"v2 TLV length is invalid for its type" },
	[PROXY_ERROR_V2_DUPLICATE_TLV] = { "v2_duplicate_tlv",
		"v2 TLV that may occur once is repeated" },
	[PROXY_ERROR_V2_CRC_MISMATCH] = { "v2_crc_mismatch",
		"v2 CRC32C does not match the header" },
};

const char *proxy_error_name(enum proxy_error error)
{
	if ((unsigned int)error >= PROXY_ERROR_COUNT)
		return "unknown";
	return proxy_errors[error].name;
}

const char *proxy_error_reason(enum proxy_error error)
{
	if ((unsigned int)error >= PROXY_ERROR_COUNT)
		return "Unknown error";
	return proxy_errors[error].reason;
}

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static enum proxy_result
proxy_fail(enum proxy_error *error_r, enum proxy_error error)
{
	*error_r = error;
	return PROXY_RESULT_INVALID;
}

void proxy_tlv_iter_init(struct proxy_tlv_iter *iter,
			 const struct proxy_bytes *area)
{
	iter->pos = area->data;
	iter->end = area->data == NULL ? NULL : area->data + area->size;
}

int proxy_tlv_iter_next(struct proxy_tlv_iter *iter, struct proxy_tlv *tlv_r)
{
	size_t left = (size_t)(iter->end - iter->pos);
	size_t length;

	if (left == 0)
		return 0;
	if (left < PROXY_TLV_HEADER_LENGTH)
		return -1;
	length = be16(iter->pos + 1);
	if (length > left - PROXY_TLV_HEADER_LENGTH)
		return -1;
	tlv_r->type = iter->pos[0];
	tlv_r->value.data = iter->pos + PROXY_TLV_HEADER_LENGTH;
	tlv_r->value.size = length;
	iter->pos += PROXY_TLV_HEADER_LENGTH + length;
	return 1;
}

/* Whether p starts with signature, or could once more bytes come. */
static enum proxy_signature
signature_match(const unsigned char *p, size_t size,
		const char *signature, size_t length)
{
	if (memcmp(p, signature, size < length ? size : length) != 0)
		return PROXY_SIGNATURE_NONE;
	return size < length ? PROXY_SIGNATURE_PARTIAL : PROXY_SIGNATURE_FOUND;
}

/* v1 */

struct proxy_token {
	const unsigned char *data;
	size_t size;
};

static bool token_equals(const struct proxy_token *token, const char *str)
{
	return token->size == strlen(str) &&
		memcmp(token->data, str, token->size) == 0;
}

/* Split off the next space-terminated field; an empty one means two
   spaces in a row or a space at the end. */
static bool
token_next(const unsigned char **pos, const unsigned char *end,
	   struct proxy_token *token_r)
{
	const unsigned char *p = *pos;
	const unsigned char *space = memchr(p, ' ', (size_t)(end - p));

	token_r->data = p;
	token_r->size = (size_t)((space == NULL ? end : space) - p);
	*pos = space == NULL ? end : space + 1;
	return token_r->size > 0;
}

/* Decimal without leading zeros, at most max. */
static bool
parse_decimal(const unsigned char *s, size_t size, unsigned int max,
	      unsigned int *value_r)
{
	unsigned int value = 0;
	size_t i;

	if (size == 0 || size > 5 || (s[0] == '0' && size > 1))
		return false;
	for (i = 0; i < size; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		value = value * 10 + (unsigned int)(s[i] - '0');
	}
	if (value > max)
		return false;
	*value_r = value;
	return true;
}

static bool parse_ipv4(const unsigned char *s, size_t size, unsigned char out[4])
{
	const unsigned char *end = s + size;
	unsigned int i, value;

	for (i = 0; i < 4; i++) {
		const unsigned char *dot = i < 3 ? memchr(s, '.', (size_t)(end - s)) : end;

		if (dot == NULL || (size_t)(dot - s) > 3 ||
		    !parse_decimal(s, (size_t)(dot - s), 255, &value))
			return false;
		out[i] = (unsigned char)value;
		s = dot + 1;
	}
	return true;
}

int proxy_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 4291 text form: groups of 1-4 hex digits, at most one "::", an
   optional dotted IPv4 tail. No zone, no brackets. */
static bool parse_ipv6(const unsigned char *s, size_t size, unsigned char out[16])
{
	unsigned int words[8], count = 0, gap = 8, i;
	size_t pos = 0;

	if (size >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		pos = 2;
	}
	while (pos < size) {
		size_t start = pos;
		unsigned int value = 0;

		while (pos < size && pos - start < 4 && proxy_hex_digit(s[pos]) >= 0)
			value = value * 16 + (unsigned int)proxy_hex_digit(s[pos++]);
		if (pos == start)
			return false;
		if (pos < size && s[pos] == '.') {
			unsigned char ip4[4];

			if (count > 6 ||
			    !parse_ipv4(s + start, size - start, ip4))
				return false;
			words[count++] = (unsigned int)(ip4[0] << 8 | ip4[1]);
			words[count++] = (unsigned int)(ip4[2] << 8 | ip4[3]);
			break;
		}
		if (count == 8)
			return false;
		words[count++] = value;
		if (pos == size)
			break;
		if (s[pos++] != ':' || pos == size)
			return false;
		if (s[pos] == ':') {
			/* A second "::", or one after eight groups. */
			if (gap != 8 || count == 8)
				return false;
			gap = count;
			pos++;
		}
	}
	/* "::" stands for at least one group of zeros. */
	if (gap == 8 ? count != 8 : count > 7)
		return false;

	memset(out, 0, 16);
	for (i = 0; i < count; i++) {
		unsigned int at = i < gap ? i : 8 - count + i;

		out[at * 2] = (unsigned char)(words[i] >> 8);
		out[at * 2 + 1] = (unsigned char)words[i];
	}
	return true;
}

static bool
parse_v1_address(enum proxy_family family, const struct proxy_token *token,
		 struct proxy_endpoint *endpoint)
{
	if (family == PROXY_AF_INET)
		return parse_ipv4(token->data, token->size, endpoint->addr);
	return parse_ipv6(token->data, token->size, endpoint->addr);
}

/* Why two addresses are not both of the announced family: an IPv4 and
   an IPv6 one are a sender's mistake of its own. */
static enum proxy_error
v1_address_error(const struct proxy_token *src, const struct proxy_token *dst)
{
	unsigned char addr[16];
	bool src4 = parse_ipv4(src->data, src->size, addr);
	bool dst4 = parse_ipv4(dst->data, dst->size, addr);

	if ((src4 && !dst4 && parse_ipv6(dst->data, dst->size, addr)) ||
	    (dst4 && !src4 && parse_ipv6(src->data, src->size, addr)))
		return PROXY_ERROR_V1_MIXED_FAMILIES;
	return PROXY_ERROR_V1_BAD_ADDRESS;
}

static bool
parse_v1_port(const struct proxy_token *token, struct proxy_endpoint *endpoint)
{
	unsigned int port;

	if (!parse_decimal(token->data, token->size, 65535, &port))
		return false;
	endpoint->port = (uint16_t)port;
	return true;
}

/* The line without its CRLF, known to start with "PROXY ". */
static enum proxy_result
parse_v1_line(const unsigned char *line, size_t size,
	      struct proxy_header *hdr, enum proxy_error *error_r)
{
	const unsigned char *pos = line + 6, *end = line + size;
	struct proxy_token proto, src, dst, sport, dport;

	memset(hdr, 0, sizeof(*hdr));
	hdr->version = 1;
	hdr->length = size + 2;

	if (!token_next(&pos, end, &proto))
		return proxy_fail(error_r, PROXY_ERROR_V1_BAD_SYNTAX);
	if (token_equals(&proto, "UNKNOWN")) {
		/* Whatever follows UNKNOWN is to be ignored. */
		hdr->command = PROXY_CMD_LOCAL;
		return PROXY_RESULT_COMPLETE;
	}
	if (token_equals(&proto, "TCP4"))
		hdr->family = PROXY_AF_INET;
	else if (token_equals(&proto, "TCP6"))
		hdr->family = PROXY_AF_INET6;
	else
		return proxy_fail(error_r, PROXY_ERROR_V1_BAD_PROTOCOL);
	hdr->command = PROXY_CMD_PROXY;
	hdr->transport = PROXY_TRANSPORT_STREAM;

	if (pos == end || !token_next(&pos, end, &src) ||
	    pos == end || !token_next(&pos, end, &dst) ||
	    pos == end || !token_next(&pos, end, &sport) ||
	    pos == end || !token_next(&pos, end, &dport) ||
	    dport.data + dport.size != end)
		return proxy_fail(error_r, PROXY_ERROR_V1_BAD_SYNTAX);
	if (!parse_v1_address(hdr->family, &src, &hdr->src) ||
	    !parse_v1_address(hdr->family, &dst, &hdr->dst))
		return proxy_fail(error_r, v1_address_error(&src, &dst));
	if (!parse_v1_port(&sport, &hdr->src) ||
	    !parse_v1_port(&dport, &hdr->dst))
		return proxy_fail(error_r, PROXY_ERROR_V1_BAD_PORT);
	return PROXY_RESULT_COMPLETE;
}

static enum proxy_result
decode_v1(const unsigned char *p, size_t size, struct proxy_header *hdr_r,
	  size_t *need_r, enum proxy_error *error_r)
{
	static const char prefix[] = PROXY_V1_SIGNATURE;
	size_t i, end = size < PROXY_V1_MAX_LENGTH ? size : PROXY_V1_MAX_LENGTH;

	/* One pass, left to right, deciding at the first byte that can. */
	for (i = 0; i < end; i++) {
		if (i < sizeof(prefix) - 1 && p[i] != (unsigned char)prefix[i]) {
			return proxy_fail(error_r, i < 5 ?
					  PROXY_ERROR_NOT_PROXY :
					  PROXY_ERROR_V1_BAD_SYNTAX);
		}
		if (p[i] == '\n')
			return proxy_fail(error_r, PROXY_ERROR_V1_BAD_LINE_END);
		if (p[i] != '\r')
			continue;
		if (i + 2 > PROXY_V1_MAX_LENGTH)
			return proxy_fail(error_r, PROXY_ERROR_V1_TOO_LONG);
		if (i + 1 == size) {
			*need_r = size < PROXY_V1_MIN_LENGTH ?
				PROXY_V1_MIN_LENGTH - size : 1;
			return PROXY_RESULT_NEED_MORE;
		}
		if (p[i + 1] != '\n')
			return proxy_fail(error_r, PROXY_ERROR_V1_BAD_LINE_END);
		return parse_v1_line(p, i, hdr_r, error_r);
	}
	if (end == PROXY_V1_MAX_LENGTH)
		return proxy_fail(error_r, PROXY_ERROR_V1_TOO_LONG);
	*need_r = size + 2 < PROXY_V1_MIN_LENGTH ? PROXY_V1_MIN_LENGTH - size : 2;
	return PROXY_RESULT_NEED_MORE;
}

/* v2 */

static bool
parse_ssl(const struct proxy_bytes *value, struct proxy_ssl *ssl,
	  enum proxy_error *error_r)
{
	struct proxy_bytes *const subtypes[] = {
		&ssl->version, &ssl->cn, &ssl->cipher, &ssl->sig_alg,
		&ssl->key_alg, &ssl->group, &ssl->sig_scheme,
		&ssl->client_cert,
	};
	struct proxy_tlv_iter iter;
	struct proxy_tlv tlv;
	int ret;

	if (value->size < PROXY_TLV_SSL_FIXED_LENGTH) {
		*error_r = PROXY_ERROR_V2_BAD_TLV_LENGTH;
		return false;
	}
	ssl->present = true;
	ssl->client = value->data[0];
	ssl->verify = be32(value->data + 1);
	ssl->tlvs.data = value->data + PROXY_TLV_SSL_FIXED_LENGTH;
	ssl->tlvs.size = value->size - PROXY_TLV_SSL_FIXED_LENGTH;

	proxy_tlv_iter_init(&iter, &ssl->tlvs);
	while ((ret = proxy_tlv_iter_next(&iter, &tlv)) > 0) {
		unsigned int idx = (unsigned int)tlv.type - PROXY_TLV_SSL_VERSION;

		if (idx >= sizeof(subtypes) / sizeof(subtypes[0]))
			continue;
		if (subtypes[idx]->data != NULL) {
			*error_r = PROXY_ERROR_V2_DUPLICATE_TLV;
			return false;
		}
		*subtypes[idx] = tlv.value;
	}
	if (ret < 0) {
		*error_r = PROXY_ERROR_V2_TLV_TRUNCATED;
		return false;
	}
	return true;
}

/* The spec's CRC: over the whole header with the checksum field zeroed. */
static bool
crc32c_matches(const unsigned char *header, size_t size,
	       const unsigned char *field)
{
	static const unsigned char zero[PROXY_TLV_CRC32C_LENGTH];
	size_t before = (size_t)(field - header);
	size_t after = size - before - PROXY_TLV_CRC32C_LENGTH;
	uint32_t crc;

	crc = crc32c(0, header, before);
	crc = crc32c(crc, zero, sizeof(zero));
	crc = crc32c(crc, field + PROXY_TLV_CRC32C_LENGTH, after);
	return crc == be32(field);
}

static enum proxy_result
parse_tlvs(const unsigned char *header, struct proxy_header *hdr,
	   enum proxy_error *error_r)
{
	const unsigned char *crc_field = NULL;
	struct proxy_tlv_iter iter;
	struct proxy_tlv tlv;
	int ret;

	proxy_tlv_iter_init(&iter, &hdr->tlvs);
	while ((ret = proxy_tlv_iter_next(&iter, &tlv)) > 0) {
		struct proxy_bytes *slot;

		switch (tlv.type) {
		case PROXY_TLV_ALPN:
			slot = &hdr->alpn;
			break;
		case PROXY_TLV_AUTHORITY:
			slot = &hdr->authority;
			break;
		case PROXY_TLV_UNIQUE_ID:
			if (tlv.value.size > PROXY_TLV_UNIQUE_ID_MAX_LENGTH)
				return proxy_fail(error_r, PROXY_ERROR_V2_BAD_TLV_LENGTH);
			slot = &hdr->unique_id;
			break;
		case PROXY_TLV_NETNS:
			slot = &hdr->netns;
			break;
		case PROXY_TLV_CRC32C:
			if (tlv.value.size != PROXY_TLV_CRC32C_LENGTH)
				return proxy_fail(error_r, PROXY_ERROR_V2_BAD_TLV_LENGTH);
			if (crc_field != NULL)
				return proxy_fail(error_r, PROXY_ERROR_V2_DUPLICATE_TLV);
			crc_field = tlv.value.data;
			continue;
		case PROXY_TLV_SSL:
			if (hdr->ssl.present)
				return proxy_fail(error_r, PROXY_ERROR_V2_DUPLICATE_TLV);
			if (!parse_ssl(&tlv.value, &hdr->ssl, error_r))
				return PROXY_RESULT_INVALID;
			continue;
		default:
			/* NOOP, application, experimental and unknown types:
			   left to proxy_tlv_iter_next() callers. */
			continue;
		}
		if (slot->data != NULL)
			return proxy_fail(error_r, PROXY_ERROR_V2_DUPLICATE_TLV);
		*slot = tlv.value;
	}
	if (ret < 0)
		return proxy_fail(error_r, PROXY_ERROR_V2_TLV_TRUNCATED);
	if (crc_field != NULL) {
		if (!crc32c_matches(header, hdr->length, crc_field))
			return proxy_fail(error_r, PROXY_ERROR_V2_CRC_MISMATCH);
		hdr->crc32c = true;
	}
	return PROXY_RESULT_COMPLETE;
}

static size_t v2_address_length(enum proxy_family family)
{
	switch (family) {
	case PROXY_AF_INET:
		return PROXY_V2_INET_ADDR_LENGTH;
	case PROXY_AF_INET6:
		return PROXY_V2_INET6_ADDR_LENGTH;
	case PROXY_AF_UNIX:
		return PROXY_V2_UNIX_ADDR_LENGTH;
	case PROXY_AF_UNSPEC:
		break;
	}
	return 0;
}

/* The address block and TLVs of a complete v2 header. */
static enum proxy_result
parse_v2_block(const unsigned char *p, size_t length, struct proxy_header *hdr,
	       enum proxy_error *error_r)
{
	const unsigned char *addr = p + PROXY_V2_FIXED_LENGTH;
	size_t addr_length, ip_size;

	memset(hdr, 0, sizeof(*hdr));
	hdr->version = 2;
	hdr->command = (enum proxy_command)(p[12] & 0x0f);
	hdr->family = (enum proxy_family)(p[13] >> 4);
	hdr->transport = (enum proxy_transport)(p[13] & 0x0f);
	hdr->length = length;

	addr_length = v2_address_length(hdr->family);
	if (length - PROXY_V2_FIXED_LENGTH < addr_length)
		return proxy_fail(error_r, PROXY_ERROR_V2_SHORT_ADDRESS);

	switch (hdr->family) {
	case PROXY_AF_INET:
	case PROXY_AF_INET6:
		/* Source and destination address, then their ports. */
		ip_size = (addr_length - 4) / 2;
		memcpy(hdr->src.addr, addr, ip_size);
		memcpy(hdr->dst.addr, addr + ip_size, ip_size);
		hdr->src.port = be16(addr + 2 * ip_size);
		hdr->dst.port = be16(addr + 2 * ip_size + 2);
		break;
	case PROXY_AF_UNIX:
		hdr->src.path.data = addr;
		hdr->src.path.size = PROXY_V2_UNIX_PATH_LENGTH;
		hdr->dst.path.data = addr + PROXY_V2_UNIX_PATH_LENGTH;
		hdr->dst.path.size = PROXY_V2_UNIX_PATH_LENGTH;
		break;
	case PROXY_AF_UNSPEC:
		break;
	}
	hdr->tlvs.data = addr + addr_length;
	hdr->tlvs.size = length - PROXY_V2_FIXED_LENGTH - addr_length;
	return parse_tlvs(p, hdr, error_r);
}

/* A complete v2 header of the given length, fixed part already checked. */
static enum proxy_result
parse_v2(const unsigned char *p, size_t length, struct proxy_header *hdr,
	 enum proxy_error *error_r)
{
	if (parse_v2_block(p, length, hdr, error_r) == PROXY_RESULT_COMPLETE)
		return PROXY_RESULT_COMPLETE;
	/* A checksum that does not match may have turned PROXY into
	   LOCAL: it condemns any header. */
	if (hdr->command != PROXY_CMD_LOCAL ||
	    *error_r == PROXY_ERROR_V2_CRC_MISMATCH)
		return PROXY_RESULT_INVALID;
	/* A LOCAL receiver "must accept this connection as valid" and
	   "discard the protocol block including the family": what could
	   not be decoded is dropped, not held against the header. */
	memset(hdr, 0, sizeof(*hdr));
	hdr->version = 2;
	hdr->command = PROXY_CMD_LOCAL;
	hdr->length = length;
	return PROXY_RESULT_COMPLETE;
}

static enum proxy_result
decode_v2(const unsigned char *p, size_t size, struct proxy_header *hdr_r,
	  size_t *need_r, enum proxy_error *error_r)
{
	size_t length;

	if (signature_match(p, size, PROXY_V2_SIGNATURE,
			    PROXY_V2_SIGNATURE_LENGTH) == PROXY_SIGNATURE_NONE)
		return proxy_fail(error_r, PROXY_ERROR_NOT_PROXY);
	if (size > 12) {
		if ((p[12] >> 4) != PROXY_V2_VERSION)
			return proxy_fail(error_r, PROXY_ERROR_V2_BAD_VERSION);
		if ((p[12] & 0x0f) > PROXY_CMD_PROXY)
			return proxy_fail(error_r, PROXY_ERROR_V2_BAD_COMMAND);
	}
	/* LOCAL ignores the family byte, so only PROXY is judged by it. */
	if (size > 13 && (p[12] & 0x0f) == PROXY_CMD_PROXY) {
		if ((p[13] >> 4) > PROXY_AF_UNIX)
			return proxy_fail(error_r, PROXY_ERROR_V2_BAD_FAMILY);
		if ((p[13] & 0x0f) > PROXY_TRANSPORT_DGRAM)
			return proxy_fail(error_r, PROXY_ERROR_V2_BAD_TRANSPORT);
	}
	if (size < PROXY_V2_FIXED_LENGTH) {
		*need_r = PROXY_V2_FIXED_LENGTH - size;
		return PROXY_RESULT_NEED_MORE;
	}
	length = PROXY_V2_FIXED_LENGTH + be16(p + 14);
	if (size < length) {
		*need_r = length - size;
		return PROXY_RESULT_NEED_MORE;
	}
	return parse_v2(p, length, hdr_r, error_r);
}

enum proxy_signature proxy_signature_match(const void *data, size_t size)
{
	const unsigned char *p = data;

	if (size == 0)
		return PROXY_SIGNATURE_PARTIAL;
	/* The first byte tells the signatures apart, as in proxy_decode(). */
	if (p[0] == 'P') {
		return signature_match(p, size, PROXY_V1_SIGNATURE,
				       PROXY_V1_SIGNATURE_LENGTH);
	}
	if (p[0] == '\r') {
		return signature_match(p, size, PROXY_V2_SIGNATURE,
				       PROXY_V2_SIGNATURE_LENGTH);
	}
	return PROXY_SIGNATURE_NONE;
}

enum proxy_result
proxy_decode(const void *data, size_t size, struct proxy_header *hdr_r,
	     size_t *need_r, enum proxy_error *error_r)
{
	const unsigned char *p = data;

	if (size == 0) {
		*need_r = PROXY_V1_MIN_LENGTH;
		return PROXY_RESULT_NEED_MORE;
	}
	/* The first byte tells the versions apart. */
	if (p[0] == 'P')
		return decode_v1(p, size, hdr_r, need_r, error_r);
	if (p[0] == '\r')
		return decode_v2(p, size, hdr_r, need_r, error_r);
	return proxy_fail(error_r, PROXY_ERROR_NOT_PROXY);
}
