/* PROXY protocol v1 and v2 encoder. One pass: every byte goes through
   writer_put(), which copies only what fits and counts everything, so the
   same code answers both "here is the header" and "this much room is
   needed". Fields whose value is known only at the end (lengths, CRC32C)
   are patched in place once the rest is written. */

#include "proxy-encoder.h"
#include "crc32c.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

struct writer {
	unsigned char *buf;
	size_t size, pos;
	/* A value exceeded a 16-bit length field. */
	bool too_long;
};

static void writer_put(struct writer *w, const void *data, size_t size)
{
	if (size > 0 && w->pos <= w->size && size <= w->size - w->pos)
		memcpy(w->buf + w->pos, data, size);
	w->pos += size;
}

static void writer_put_u8(struct writer *w, uint8_t value)
{
	writer_put(w, &value, 1);
}

static void writer_put_be16(struct writer *w, uint16_t value)
{
	const unsigned char be[2] = { (unsigned char)(value >> 8),
				      (unsigned char)value };

	writer_put(w, be, sizeof(be));
}

static void writer_put_be32(struct writer *w, uint32_t value)
{
	const unsigned char be[4] = {
		(unsigned char)(value >> 24), (unsigned char)(value >> 16),
		(unsigned char)(value >> 8), (unsigned char)value };

	writer_put(w, be, sizeof(be));
}

/* Overwrite a 16-bit length written earlier as a placeholder. */
static void writer_patch_be16(struct writer *w, size_t at, size_t value)
{
	if (value > UINT16_MAX) {
		w->too_long = true;
		return;
	}
	if (at + 2 <= w->size) {
		w->buf[at] = (unsigned char)(value >> 8);
		w->buf[at + 1] = (unsigned char)value;
	}
}

static void
writer_put_tlv(struct writer *w, uint8_t type, const struct proxy_bytes *value)
{
	if (value->data == NULL)
		return;
	if (value->size > UINT16_MAX) {
		/* Not counted: pos must not wrap around. */
		w->too_long = true;
		return;
	}
	writer_put_u8(w, type);
	writer_put_be16(w, (uint16_t)value->size);
	writer_put(w, value->data, value->size);
}

static bool ssl_has_fields(const struct proxy_ssl *ssl)
{
	return ssl->client != 0 || ssl->verify != 0 ||
		ssl->version.data != NULL || ssl->cn.data != NULL ||
		ssl->cipher.data != NULL || ssl->sig_alg.data != NULL ||
		ssl->key_alg.data != NULL || ssl->group.data != NULL ||
		ssl->sig_scheme.data != NULL || ssl->client_cert.data != NULL;
}

static bool has_tlvs(const struct proxy_header *hdr, size_t extra_count)
{
	return extra_count > 0 || hdr->crc32c || hdr->ssl.present ||
		hdr->alpn.data != NULL || hdr->authority.data != NULL ||
		hdr->unique_id.data != NULL || hdr->netns.data != NULL;
}

/* v1 */

static bool
v1_address(enum proxy_family family, const struct proxy_endpoint *endpoint,
	   char *str, size_t size)
{
	int af = family == PROXY_AF_INET ? AF_INET : AF_INET6;

	return inet_ntop(af, endpoint->addr, str, (socklen_t)size) != NULL;
}

static size_t
encode_v1(const struct proxy_header *hdr, struct writer *w,
	  const char **error_r)
{
	char line[PROXY_V1_MAX_LENGTH + 1];
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int length;

	if (hdr->command == PROXY_CMD_LOCAL) {
		writer_put(w, "PROXY UNKNOWN\r\n", 15);
		return w->pos;
	}
	if (hdr->family != PROXY_AF_INET && hdr->family != PROXY_AF_INET6) {
		*error_r = "v1 carries only INET and INET6 addresses";
		return 0;
	}
	if (hdr->transport != PROXY_TRANSPORT_STREAM) {
		*error_r = "v1 carries only STREAM (TCP) connections";
		return 0;
	}
	if (!v1_address(hdr->family, &hdr->src, src, sizeof(src)) ||
	    !v1_address(hdr->family, &hdr->dst, dst, sizeof(dst))) {
		*error_r = "address cannot be written as text";
		return 0;
	}
	length = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
			  hdr->family == PROXY_AF_INET ? "TCP4" : "TCP6",
			  src, dst, hdr->src.port, hdr->dst.port);
	/* The longest TCP6 line is 104 bytes. */
	if (length < 0 || (size_t)length >= sizeof(line)) {
		*error_r = "v1 line longer than 107 bytes";
		return 0;
	}
	writer_put(w, line, (size_t)length);
	return w->pos;
}

/* v2 */

static void
put_unix_path(struct writer *w, const struct proxy_bytes *path)
{
	static const unsigned char zero[PROXY_V2_UNIX_PATH_LENGTH];
	size_t size = path->data == NULL ? 0 : path->size;

	writer_put(w, path->data, size);
	writer_put(w, zero, PROXY_V2_UNIX_PATH_LENGTH - size);
}

static void put_addresses(const struct proxy_header *hdr, struct writer *w)
{
	size_t ip_size = hdr->family == PROXY_AF_INET ? 4 : 16;

	switch (hdr->family) {
	case PROXY_AF_INET:
	case PROXY_AF_INET6:
		writer_put(w, hdr->src.addr, ip_size);
		writer_put(w, hdr->dst.addr, ip_size);
		writer_put_be16(w, hdr->src.port);
		writer_put_be16(w, hdr->dst.port);
		break;
	case PROXY_AF_UNIX:
		put_unix_path(w, &hdr->src.path);
		put_unix_path(w, &hdr->dst.path);
		break;
	case PROXY_AF_UNSPEC:
		break;
	}
}

static void put_ssl(const struct proxy_ssl *ssl, struct writer *w)
{
	size_t start = w->pos;

	writer_put_u8(w, PROXY_TLV_SSL);
	writer_put_be16(w, 0);
	writer_put_u8(w, ssl->client);
	writer_put_be32(w, ssl->verify);
	writer_put_tlv(w, PROXY_TLV_SSL_VERSION, &ssl->version);
	writer_put_tlv(w, PROXY_TLV_SSL_CN, &ssl->cn);
	writer_put_tlv(w, PROXY_TLV_SSL_KEY_ALG, &ssl->key_alg);
	writer_put_tlv(w, PROXY_TLV_SSL_SIG_ALG, &ssl->sig_alg);
	writer_put_tlv(w, PROXY_TLV_SSL_CIPHER, &ssl->cipher);
	writer_put_tlv(w, PROXY_TLV_SSL_GROUP, &ssl->group);
	writer_put_tlv(w, PROXY_TLV_SSL_SIG_SCHEME, &ssl->sig_scheme);
	writer_put_tlv(w, PROXY_TLV_SSL_CLIENT_CERT, &ssl->client_cert);
	writer_patch_be16(w, start + 1,
			  w->pos - start - PROXY_TLV_HEADER_LENGTH);
}

static bool
v2_check(const struct proxy_header *hdr, const char **error_r)
{
	if ((unsigned int)hdr->family > PROXY_AF_UNIX) {
		*error_r = "address family is unknown";
		return false;
	}
	if ((unsigned int)hdr->transport > PROXY_TRANSPORT_DGRAM) {
		*error_r = "transport protocol is unknown";
		return false;
	}
	if (hdr->family == PROXY_AF_UNIX &&
	    (hdr->src.path.size > PROXY_V2_UNIX_PATH_LENGTH ||
	     hdr->dst.path.size > PROXY_V2_UNIX_PATH_LENGTH)) {
		*error_r = "UNIX path longer than 108 bytes";
		return false;
	}
	if (hdr->unique_id.data != NULL &&
	    hdr->unique_id.size > PROXY_TLV_UNIQUE_ID_MAX_LENGTH) {
		*error_r = "UNIQUE_ID longer than 128 bytes";
		return false;
	}
	return true;
}

static size_t
encode_v2(const struct proxy_header *hdr, const struct proxy_tlv *extra,
	  size_t extra_count, struct writer *w, const char **error_r)
{
	static const unsigned char zero_crc[PROXY_TLV_CRC32C_LENGTH];
	const struct proxy_bytes crc_value = { zero_crc, sizeof(zero_crc) };
	size_t i, crc_at = 0;

	if (!v2_check(hdr, error_r))
		return 0;

	writer_put(w, PROXY_V2_SIGNATURE, PROXY_V2_SIGNATURE_LENGTH);
	writer_put_u8(w, (uint8_t)(PROXY_V2_VERSION << 4 | hdr->command));
	writer_put_u8(w, (uint8_t)(hdr->family << 4 | hdr->transport));
	writer_put_be16(w, 0);
	put_addresses(hdr, w);

	if (hdr->crc32c) {
		crc_at = w->pos + PROXY_TLV_HEADER_LENGTH;
		writer_put_tlv(w, PROXY_TLV_CRC32C, &crc_value);
	}
	writer_put_tlv(w, PROXY_TLV_ALPN, &hdr->alpn);
	writer_put_tlv(w, PROXY_TLV_AUTHORITY, &hdr->authority);
	writer_put_tlv(w, PROXY_TLV_UNIQUE_ID, &hdr->unique_id);
	if (hdr->ssl.present)
		put_ssl(&hdr->ssl, w);
	writer_put_tlv(w, PROXY_TLV_NETNS, &hdr->netns);
	for (i = 0; i < extra_count && !w->too_long; i++) {
		writer_put_tlv(w, extra[i].type, &extra[i].value);
		if (w->pos > PROXY_V2_MAX_LENGTH)
			w->too_long = true;
	}

	writer_patch_be16(w, PROXY_V2_SIGNATURE_LENGTH + 2,
			  w->pos - PROXY_V2_FIXED_LENGTH);
	if (w->too_long) {
		*error_r = "v2 header longer than 16 + 65535 bytes";
		return 0;
	}
	/* The field is still zero, as the checksum is defined. */
	if (hdr->crc32c && w->pos <= w->size) {
		uint32_t crc = crc32c(0, w->buf, w->pos);

		w->buf[crc_at] = (unsigned char)(crc >> 24);
		w->buf[crc_at + 1] = (unsigned char)(crc >> 16);
		w->buf[crc_at + 2] = (unsigned char)(crc >> 8);
		w->buf[crc_at + 3] = (unsigned char)crc;
	}
	return w->pos;
}

size_t proxy_encode(const struct proxy_header *hdr,
		    const struct proxy_tlv *extra, size_t extra_count,
		    void *buf, size_t size, const char **error_r)
{
	struct writer w = { .buf = buf, .size = size };

	if (hdr->command != PROXY_CMD_LOCAL && hdr->command != PROXY_CMD_PROXY) {
		*error_r = "command is neither LOCAL nor PROXY";
		return 0;
	}
	if (!hdr->ssl.present && ssl_has_fields(&hdr->ssl)) {
		*error_r = "SSL fields set without the SSL TLV";
		return 0;
	}
	switch (hdr->version) {
	case 1:
		if (has_tlvs(hdr, extra_count)) {
			*error_r = "v1 carries no TLV";
			return 0;
		}
		return encode_v1(hdr, &w, error_r);
	case 2:
		return encode_v2(hdr, extra, extra_count, &w, error_r);
	default:
		*error_r = "version is neither 1 nor 2";
		return 0;
	}
}
