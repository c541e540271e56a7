/* The encoder against the decoder: every header kind is encoded, decoded,
   and must come back with the same fields; a few byte-exact vectors pin the
   wire format, and the bounds (65535 bytes, buffer size) are probed at
   their edges. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proxy-encoder.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static unsigned char buf[PROXY_HEADER_MAX_LENGTH + 1];

#define BYTES(str) ((struct proxy_bytes){ (const unsigned char *)(str), \
					  sizeof(str) - 1 })

static const unsigned char ip4_src[4] = { 192, 0, 2, 1 };
static const unsigned char ip4_dst[4] = { 198, 51, 100, 2 };
static const unsigned char ip6_src[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const unsigned char ip6_dst[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0x02 };

static void
set_endpoints(struct proxy_header *hdr, enum proxy_family family)
{
	hdr->family = family;
	switch (family) {
	case PROXY_AF_INET:
		memcpy(hdr->src.addr, ip4_src, sizeof(ip4_src));
		memcpy(hdr->dst.addr, ip4_dst, sizeof(ip4_dst));
		break;
	case PROXY_AF_INET6:
		memcpy(hdr->src.addr, ip6_src, sizeof(ip6_src));
		memcpy(hdr->dst.addr, ip6_dst, sizeof(ip6_dst));
		break;
	case PROXY_AF_UNIX:
		hdr->src.path = BYTES("/run/client.sock");
		hdr->dst.path = BYTES("/run/dovecot/imap-login");
		break;
	case PROXY_AF_UNSPEC:
		return;
	}
	hdr->src.port = 56324;
	hdr->dst.port = 993;
}

static struct proxy_header
header(unsigned int version, enum proxy_command command,
       enum proxy_family family, enum proxy_transport transport)
{
	struct proxy_header hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = version;
	hdr.command = command;
	hdr.transport = transport;
	set_endpoints(&hdr, family);
	return hdr;
}

static struct proxy_header v2_inet(void)
{
	return header(2, PROXY_CMD_PROXY, PROXY_AF_INET, PROXY_TRANSPORT_STREAM);
}

static void set_all_ssl(struct proxy_ssl *ssl)
{
	ssl->present = true;
	ssl->client = PROXY_SSL_CLIENT_SSL | PROXY_SSL_CLIENT_CERT_CONN |
		PROXY_SSL_CLIENT_CERT_SESS;
	ssl->verify = 0x01020304;
	ssl->version = BYTES("TLSv1.3");
	ssl->cn = BYTES("alice@example.org");
	ssl->cipher = BYTES("TLS_AES_256_GCM_SHA384");
	ssl->sig_alg = BYTES("ECDSA-SHA256");
	ssl->key_alg = BYTES("EC256");
	ssl->group = BYTES("X25519");
	ssl->sig_scheme = BYTES("ecdsa_secp256r1_sha256");
	ssl->client_cert = BYTES("\x30\x82\x00\x00 not really DER");
}

static void set_all_tlvs(struct proxy_header *hdr)
{
	hdr->crc32c = true;
	hdr->alpn = BYTES("imap");
	hdr->authority = BYTES("mail.example.org");
	hdr->unique_id = BYTES("4E6F7420612072616E646F6D204944");
	hdr->netns = BYTES("blue");
	set_all_ssl(&hdr->ssl);
}

static size_t
encode_ok(const struct proxy_header *hdr, const struct proxy_tlv *extra,
	  size_t extra_count)
{
	const char *error = NULL;
	size_t length;

	length = proxy_encode(hdr, extra, extra_count, buf, sizeof(buf), &error);
	if (length == 0)
		fail_msg("proxy_encode failed: %s", error);
	assert_true(length <= sizeof(buf));
	return length;
}

static void
encode_fails(const struct proxy_header *hdr, const struct proxy_tlv *extra,
	     size_t extra_count)
{
	const char *error = NULL;

	assert_int_equal(proxy_encode(hdr, extra, extra_count, buf,
				      sizeof(buf), &error), 0);
	assert_non_null(error);
}

static void
decode_ok(size_t length, struct proxy_header *hdr_r)
{
	enum proxy_error error = PROXY_ERROR_NONE;
	size_t need = 0;
	enum proxy_result result;

	result = proxy_decode(buf, length, hdr_r, &need, &error);
	if (result != PROXY_RESULT_COMPLETE)
		fail_msg("decode: result %d, error %s", result,
			 proxy_error_name(error));
	assert_int_equal(hdr_r->length, length);
}

static void
assert_bytes_equal(const struct proxy_bytes *got,
		   const struct proxy_bytes *expected)
{
	if (expected->data == NULL) {
		assert_null(got->data);
		return;
	}
	assert_non_null(got->data);
	assert_int_equal(got->size, expected->size);
	assert_memory_equal(got->data, expected->data, expected->size);
}

/* A UNIX path comes back as the whole 108-byte field, NUL-padded. */
static void
assert_path_equal(const struct proxy_bytes *got,
		  const struct proxy_bytes *expected)
{
	size_t i;

	assert_int_equal(got->size, PROXY_V2_UNIX_PATH_LENGTH);
	assert_memory_equal(got->data, expected->data, expected->size);
	for (i = expected->size; i < got->size; i++)
		assert_int_equal(got->data[i], 0);
}

static void
assert_endpoints_equal(const struct proxy_header *got,
		       const struct proxy_header *expected)
{
	switch (expected->family) {
	case PROXY_AF_INET:
		assert_memory_equal(got->src.addr, expected->src.addr, 4);
		assert_memory_equal(got->dst.addr, expected->dst.addr, 4);
		break;
	case PROXY_AF_INET6:
		assert_memory_equal(got->src.addr, expected->src.addr, 16);
		assert_memory_equal(got->dst.addr, expected->dst.addr, 16);
		break;
	case PROXY_AF_UNIX:
		assert_path_equal(&got->src.path, &expected->src.path);
		assert_path_equal(&got->dst.path, &expected->dst.path);
		return;
	case PROXY_AF_UNSPEC:
		return;
	}
	assert_int_equal(got->src.port, expected->src.port);
	assert_int_equal(got->dst.port, expected->dst.port);
}

static void
assert_ssl_equal(const struct proxy_ssl *got, const struct proxy_ssl *expected)
{
	assert_int_equal(got->present, expected->present);
	assert_int_equal(got->client, expected->client);
	assert_int_equal(got->verify, expected->verify);
	assert_bytes_equal(&got->version, &expected->version);
	assert_bytes_equal(&got->cn, &expected->cn);
	assert_bytes_equal(&got->cipher, &expected->cipher);
	assert_bytes_equal(&got->sig_alg, &expected->sig_alg);
	assert_bytes_equal(&got->key_alg, &expected->key_alg);
	assert_bytes_equal(&got->group, &expected->group);
	assert_bytes_equal(&got->sig_scheme, &expected->sig_scheme);
	assert_bytes_equal(&got->client_cert, &expected->client_cert);
}

static void
assert_fields_equal(const struct proxy_header *got,
		    const struct proxy_header *expected)
{
	assert_int_equal(got->version, expected->version);
	assert_int_equal(got->command, expected->command);
	assert_int_equal(got->family, expected->family);
	assert_int_equal(got->transport, expected->transport);
	assert_endpoints_equal(got, expected);
	assert_bytes_equal(&got->alpn, &expected->alpn);
	assert_bytes_equal(&got->authority, &expected->authority);
	assert_bytes_equal(&got->unique_id, &expected->unique_id);
	assert_bytes_equal(&got->netns, &expected->netns);
	assert_int_equal(got->crc32c, expected->crc32c);
	assert_ssl_equal(&got->ssl, &expected->ssl);
}

/* Encode, decode, compare; returns the encoded length. */
static size_t
round_trip(const struct proxy_header *hdr, const struct proxy_tlv *extra,
	   size_t extra_count, struct proxy_header *decoded_r)
{
	size_t length = encode_ok(hdr, extra, extra_count);

	decode_ok(length, decoded_r);
	assert_fields_equal(decoded_r, hdr);
	return length;
}

/* The types of a TLV area, in order; returns how many. */
static size_t
tlv_types(const struct proxy_bytes *area, uint8_t *types, size_t max)
{
	struct proxy_tlv_iter iter;
	struct proxy_tlv tlv;
	size_t count = 0;
	int ret;

	proxy_tlv_iter_init(&iter, area);
	while ((ret = proxy_tlv_iter_next(&iter, &tlv)) > 0) {
		assert_true(count < max);
		types[count++] = tlv.type;
	}
	assert_int_equal(ret, 0);
	return count;
}

/* v1 */

static void test_v1_tcp4(void **state)
{
	static const char expected[] =
		"PROXY TCP4 192.0.2.1 198.51.100.2 56324 993\r\n";
	struct proxy_header hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_INET,
					 PROXY_TRANSPORT_STREAM), decoded;
	size_t length;

	(void)state;
	length = round_trip(&hdr, NULL, 0, &decoded);
	assert_int_equal(length, sizeof(expected) - 1);
	assert_memory_equal(buf, expected, length);
}

static void test_v1_tcp6(void **state)
{
	static const char expected[] =
		"PROXY TCP6 2001:db8::1 2001:db8:ffff::abcd:2 56324 993\r\n";
	struct proxy_header hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_INET6,
					 PROXY_TRANSPORT_STREAM), decoded;
	size_t length;

	(void)state;
	length = round_trip(&hdr, NULL, 0, &decoded);
	assert_int_equal(length, sizeof(expected) - 1);
	assert_memory_equal(buf, expected, length);
}

/* The longest line the spec allows room for, and an IPv4-mapped address,
   which inet_ntop() writes with a dotted tail as HAProxy's line has it. */
static void test_v1_tcp6_longest(void **state)
{
	static const char expected[] =
		"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		"::ffff:127.0.0.7 65535 0\r\n";
	struct proxy_header hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_INET6,
					 PROXY_TRANSPORT_STREAM), decoded;
	size_t length;

	(void)state;
	memset(hdr.src.addr, 0xff, 16);
	memset(hdr.dst.addr, 0, 16);
	hdr.dst.addr[10] = hdr.dst.addr[11] = 0xff;
	hdr.dst.addr[12] = 127;
	hdr.dst.addr[15] = 7;
	hdr.src.port = 65535;
	hdr.dst.port = 0;
	length = round_trip(&hdr, NULL, 0, &decoded);
	assert_int_equal(length, sizeof(expected) - 1);
	assert_memory_equal(buf, expected, length);
	assert_true(length <= PROXY_V1_MAX_LENGTH);
}

static void test_v1_unknown(void **state)
{
	struct proxy_header hdr = header(1, PROXY_CMD_LOCAL, PROXY_AF_UNSPEC,
					 PROXY_TRANSPORT_UNSPEC), decoded;
	size_t length;

	(void)state;
	length = round_trip(&hdr, NULL, 0, &decoded);
	assert_int_equal(length, PROXY_V1_MIN_LENGTH);
	assert_memory_equal(buf, "PROXY UNKNOWN\r\n", length);
}

static void test_v1_rejects_what_it_cannot_carry(void **state)
{
	const struct proxy_tlv noop = { PROXY_TLV_NOOP, BYTES("") };
	struct proxy_header hdr;

	(void)state;
	hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_UNIX, PROXY_TRANSPORT_STREAM);
	encode_fails(&hdr, NULL, 0);
	hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_UNSPEC, PROXY_TRANSPORT_STREAM);
	encode_fails(&hdr, NULL, 0);
	hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_INET, PROXY_TRANSPORT_DGRAM);
	encode_fails(&hdr, NULL, 0);

	hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_INET, PROXY_TRANSPORT_STREAM);
	encode_fails(&hdr, &noop, 1);
	hdr.crc32c = true;
	encode_fails(&hdr, NULL, 0);
	hdr.crc32c = false;
	hdr.authority = BYTES("mail.example.org");
	encode_fails(&hdr, NULL, 0);
	hdr.authority.data = NULL;
	hdr.ssl.present = true;
	encode_fails(&hdr, NULL, 0);
}

/* v2 */

static size_t v2_address_length(enum proxy_family family)
{
	static const size_t lengths[] = {
		[PROXY_AF_UNSPEC] = 0,
		[PROXY_AF_INET] = PROXY_V2_INET_ADDR_LENGTH,
		[PROXY_AF_INET6] = PROXY_V2_INET6_ADDR_LENGTH,
		[PROXY_AF_UNIX] = PROXY_V2_UNIX_ADDR_LENGTH,
	};
	return lengths[family];
}

/* LOCAL and PROXY, every family, every transport. */
static void test_v2_every_address_kind(void **state)
{
	static const enum proxy_command commands[] = {
		PROXY_CMD_LOCAL, PROXY_CMD_PROXY };
	static const enum proxy_family families[] = {
		PROXY_AF_UNSPEC, PROXY_AF_INET, PROXY_AF_INET6, PROXY_AF_UNIX };
	static const enum proxy_transport transports[] = {
		PROXY_TRANSPORT_UNSPEC, PROXY_TRANSPORT_STREAM,
		PROXY_TRANSPORT_DGRAM };
	size_t c, f, t;

	(void)state;
	for (c = 0; c < N_ELEMENTS(commands); c++)
	for (f = 0; f < N_ELEMENTS(families); f++)
	for (t = 0; t < N_ELEMENTS(transports); t++) {
		struct proxy_header hdr = header(2, commands[c], families[f],
						 transports[t]), decoded;
		size_t length = round_trip(&hdr, NULL, 0, &decoded);

		assert_int_equal(length, PROXY_V2_FIXED_LENGTH +
				 v2_address_length(families[f]));
		assert_memory_equal(buf, PROXY_V2_SIGNATURE,
				    PROXY_V2_SIGNATURE_LENGTH);
		assert_int_equal(buf[12], 0x20 | commands[c]);
		assert_int_equal(buf[13], families[f] << 4 | transports[t]);
		assert_int_equal(decoded.tlvs.size, 0);
	}
}

/* The example of the spec: TCP over IPv4, no TLV. */
static void test_v2_inet_bytes(void **state)
{
	static const unsigned char expected[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
		192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0x03, 0xe1 };
	struct proxy_header hdr = v2_inet();

	(void)state;
	assert_int_equal(encode_ok(&hdr, NULL, 0), sizeof(expected));
	assert_memory_equal(buf, expected, sizeof(expected));
}

static void test_v2_unix_path_padding(void **state)
{
	struct proxy_header hdr = header(2, PROXY_CMD_PROXY, PROXY_AF_UNIX,
					 PROXY_TRANSPORT_STREAM);
	unsigned char long_path[PROXY_V2_UNIX_PATH_LENGTH + 1];
	size_t i;

	(void)state;
	assert_int_equal(encode_ok(&hdr, NULL, 0), PROXY_V2_FIXED_LENGTH +
			 PROXY_V2_UNIX_ADDR_LENGTH);
	assert_memory_equal(buf + 16, "/run/client.sock", 16);
	for (i = 16 + 16; i < 16 + PROXY_V2_UNIX_PATH_LENGTH; i++)
		assert_int_equal(buf[i], 0);

	/* A path that fills the field has no NUL, and one more is too long,
	   on either side. */
	memset(long_path, 'x', sizeof(long_path));
	hdr.src.path.data = long_path;
	hdr.src.path.size = PROXY_V2_UNIX_PATH_LENGTH;
	encode_ok(&hdr, NULL, 0);
	hdr.src.path.size++;
	encode_fails(&hdr, NULL, 0);
	hdr.src.path = BYTES("/run/client.sock");
	hdr.dst.path.data = long_path;
	hdr.dst.path.size = PROXY_V2_UNIX_PATH_LENGTH + 1;
	encode_fails(&hdr, NULL, 0);

	/* No path at all: the field is all NULs. */
	hdr.src.path.data = NULL;
	hdr.src.path.size = 0;
	hdr.dst.path = BYTES("/run/dovecot/imap-login");
	encode_ok(&hdr, NULL, 0);
	for (i = 16; i < 16 + PROXY_V2_UNIX_PATH_LENGTH; i++)
		assert_int_equal(buf[i], 0);
}

typedef void set_tlv_t(struct proxy_header *hdr);

static void set_alpn(struct proxy_header *hdr) { hdr->alpn = BYTES("imap"); }
static void set_authority(struct proxy_header *hdr) { hdr->authority = BYTES("example.org"); }
static void set_unique_id(struct proxy_header *hdr) { hdr->unique_id = BYTES("\x00\x01\xfe\xff"); }
static void set_netns(struct proxy_header *hdr) { hdr->netns = BYTES("blue"); }
static void set_crc32c(struct proxy_header *hdr) { hdr->crc32c = true; }
static void set_ssl(struct proxy_header *hdr) { hdr->ssl.present = true; }
static void set_ssl_all(struct proxy_header *hdr) { set_all_ssl(&hdr->ssl); }

/* v1 has no TLVs: each alone makes a header it cannot write. */
static void test_v1_rejects_each_tlv(void **state)
{
	static set_tlv_t *const set[] = {
		set_alpn, set_authority, set_unique_id, set_netns,
		set_crc32c, set_ssl,
	};
	struct proxy_header hdr;
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(set); i++) {
		hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_INET,
			     PROXY_TRANSPORT_STREAM);
		set[i](&hdr);
		encode_fails(&hdr, NULL, 0);
	}
}

/* Each TLV alone, on each family: it is the only TLV and decodes back. */
static void test_v2_each_tlv_alone(void **state)
{
	static const struct {
		set_tlv_t *set;
		uint8_t type;
	} cases[] = {
		{ set_alpn, PROXY_TLV_ALPN },
		{ set_authority, PROXY_TLV_AUTHORITY },
		{ set_unique_id, PROXY_TLV_UNIQUE_ID },
		{ set_netns, PROXY_TLV_NETNS },
		{ set_crc32c, PROXY_TLV_CRC32C },
		{ set_ssl, PROXY_TLV_SSL },
		{ set_ssl_all, PROXY_TLV_SSL },
	};
	static const enum proxy_family families[] = {
		PROXY_AF_UNSPEC, PROXY_AF_INET, PROXY_AF_INET6, PROXY_AF_UNIX };
	size_t i, f;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
	for (f = 0; f < N_ELEMENTS(families); f++) {
		struct proxy_header hdr = header(2, PROXY_CMD_PROXY, families[f],
						 PROXY_TRANSPORT_STREAM), decoded;
		uint8_t types[4];

		cases[i].set(&hdr);
		round_trip(&hdr, NULL, 0, &decoded);
		assert_int_equal(tlv_types(&decoded.tlvs, types, N_ELEMENTS(types)), 1);
		assert_int_equal(types[0], cases[i].type);
	}
}

/* The SSL TLV alone is its 5 fixed bytes: client and verify. */
static void test_v2_ssl_fixed_part(void **state)
{
	static const unsigned char expected[] = {
		PROXY_TLV_SSL, 0x00, 0x05, 0x07, 0x00, 0x00, 0x00, 0x14 };
	struct proxy_header hdr = v2_inet(), decoded;
	size_t length;

	(void)state;
	hdr.ssl.present = true;
	hdr.ssl.client = 0x07;
	hdr.ssl.verify = 20;
	length = round_trip(&hdr, NULL, 0, &decoded);
	assert_int_equal(length, 16 + 12 + sizeof(expected));
	assert_memory_equal(buf + 16 + 12, expected, sizeof(expected));
}

/* All together, in HAProxy's order, then the extra TLVs in the caller's. */
static void test_v2_all_tlvs_in_order(void **state)
{
	static const uint8_t expected_types[] = {
		PROXY_TLV_CRC32C, PROXY_TLV_ALPN, PROXY_TLV_AUTHORITY,
		PROXY_TLV_UNIQUE_ID, PROXY_TLV_SSL, PROXY_TLV_NETNS,
		PROXY_TLV_CUSTOM_MAX, PROXY_TLV_NOOP, PROXY_TLV_CUSTOM_MIN };
	static const uint8_t expected_ssl_types[] = {
		PROXY_TLV_SSL_VERSION, PROXY_TLV_SSL_CN, PROXY_TLV_SSL_KEY_ALG,
		PROXY_TLV_SSL_SIG_ALG, PROXY_TLV_SSL_CIPHER, PROXY_TLV_SSL_GROUP,
		PROXY_TLV_SSL_SIG_SCHEME, PROXY_TLV_SSL_CLIENT_CERT };
	const struct proxy_tlv extra[] = {
		{ PROXY_TLV_CUSTOM_MAX, BYTES("last custom") },
		{ PROXY_TLV_NOOP, BYTES("\0\0\0\0\0") },
		{ PROXY_TLV_CUSTOM_MIN, BYTES("") },
	};
	struct proxy_header hdr = header(2, PROXY_CMD_PROXY, PROXY_AF_INET6,
					 PROXY_TRANSPORT_STREAM), decoded;
	uint8_t types[16];
	struct proxy_tlv_iter iter;
	struct proxy_tlv tlv;
	size_t i, count;

	(void)state;
	set_all_tlvs(&hdr);
	round_trip(&hdr, extra, N_ELEMENTS(extra), &decoded);

	count = tlv_types(&decoded.tlvs, types, N_ELEMENTS(types));
	assert_int_equal(count, N_ELEMENTS(expected_types));
	assert_memory_equal(types, expected_types, count);
	count = tlv_types(&decoded.ssl.tlvs, types, N_ELEMENTS(types));
	assert_int_equal(count, N_ELEMENTS(expected_ssl_types));
	assert_memory_equal(types, expected_ssl_types, count);

	/* The extra TLVs come back byte for byte. */
	proxy_tlv_iter_init(&iter, &decoded.tlvs);
	for (i = 0; i < N_ELEMENTS(expected_types) - N_ELEMENTS(extra); i++)
		assert_int_equal(proxy_tlv_iter_next(&iter, &tlv), 1);
	for (i = 0; i < N_ELEMENTS(extra); i++) {
		assert_int_equal(proxy_tlv_iter_next(&iter, &tlv), 1);
		assert_int_equal(tlv.type, extra[i].type);
		assert_bytes_equal(&tlv.value, &extra[i].value);
	}
}

/* Absent is not empty: an empty string is an empty TLV. */
static void test_v2_empty_values(void **state)
{
	struct proxy_header hdr = v2_inet(), decoded;

	(void)state;
	hdr.alpn = BYTES("");
	hdr.authority = BYTES("");
	hdr.unique_id = BYTES("");
	hdr.netns = BYTES("");
	hdr.ssl.present = true;
	hdr.ssl.version = BYTES("");
	hdr.ssl.cn = BYTES("");
	assert_int_equal(round_trip(&hdr, NULL, 0, &decoded),
			 16 + 12 + 4 * 3 + 3 + 5 + 2 * 3);
}

static void test_v2_crc32c(void **state)
{
	struct proxy_header hdr = header(2, PROXY_CMD_PROXY, PROXY_AF_INET6,
					 PROXY_TRANSPORT_STREAM), decoded;
	enum proxy_error error = PROXY_ERROR_NONE;
	size_t length, need, i;

	(void)state;
	set_all_tlvs(&hdr);
	length = round_trip(&hdr, NULL, 0, &decoded);
	assert_true(decoded.crc32c);

	/* The checksum covers every byte: a flipped bit anywhere past the
	   fixed part is rejected, as a mismatch unless it broke the TLV
	   structure first. The last byte flipped is a TLV value's. Flipping
	   the CRC32C TLV's own type would only turn it into another TLV. */
	for (i = PROXY_V2_FIXED_LENGTH; i < length; i++) {
		if (i == PROXY_V2_FIXED_LENGTH + PROXY_V2_INET6_ADDR_LENGTH) {
			assert_int_equal(buf[i], PROXY_TLV_CRC32C);
			continue;
		}
		buf[i] ^= 0x40;
		assert_int_equal(proxy_decode(buf, length, &decoded, &need,
					      &error), PROXY_RESULT_INVALID);
		buf[i] ^= 0x40;
	}
	assert_int_equal(error, PROXY_ERROR_V2_CRC_MISMATCH);

	hdr.crc32c = false;
	assert_int_equal(round_trip(&hdr, NULL, 0, &decoded),
			 length - PROXY_TLV_HEADER_LENGTH - PROXY_TLV_CRC32C_LENGTH);
	assert_false(decoded.crc32c);
}

static void test_v2_unique_id_limit(void **state)
{
	unsigned char id[PROXY_TLV_UNIQUE_ID_MAX_LENGTH + 1];
	struct proxy_header hdr = v2_inet(), decoded;

	(void)state;
	memset(id, 'u', sizeof(id));
	hdr.unique_id.data = id;
	hdr.unique_id.size = PROXY_TLV_UNIQUE_ID_MAX_LENGTH;
	round_trip(&hdr, NULL, 0, &decoded);
	hdr.unique_id.size++;
	encode_fails(&hdr, NULL, 0);
}

/* The 16-bit length: 65535 bytes after the fixed part fit, one more not,
   whether it is the header, one TLV or the SSL TLV that overflows. */
static void test_v2_max_length(void **state)
{
	static unsigned char padding[PROXY_V2_MAX_LENGTH];
	const size_t fill = 65535 - PROXY_V2_INET_ADDR_LENGTH -
		PROXY_TLV_HEADER_LENGTH;
	struct proxy_tlv noop = { PROXY_TLV_NOOP, { padding, fill } };
	struct proxy_header hdr = v2_inet(), decoded;

	(void)state;
	assert_int_equal(round_trip(&hdr, &noop, 1, &decoded),
			 PROXY_V2_MAX_LENGTH);
	assert_int_equal(buf[14], 0xff);
	assert_int_equal(buf[15], 0xff);
	noop.value.size++;
	encode_fails(&hdr, &noop, 1);

	noop.value.size = 65536;
	hdr.family = PROXY_AF_UNSPEC;
	encode_fails(&hdr, &noop, 1);

	hdr.ssl.present = true;
	hdr.ssl.client_cert.data = padding;
	hdr.ssl.client_cert.size = 65535 - PROXY_TLV_SSL_FIXED_LENGTH -
		PROXY_TLV_HEADER_LENGTH - PROXY_TLV_HEADER_LENGTH;
	assert_int_equal(round_trip(&hdr, NULL, 0, &decoded),
			 PROXY_V2_MAX_LENGTH);
	hdr.ssl.client_cert.size++;
	encode_fails(&hdr, NULL, 0);
}

/* Many small TLVs past the limit: refused, the count never wraps. */
static void test_v2_too_many_tlvs(void **state)
{
	static const unsigned char value[40];
	static struct proxy_tlv many[2000];
	struct proxy_header hdr = v2_inet();
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(many); i++) {
		many[i].type = PROXY_TLV_NOOP;
		many[i].value.data = value;
		many[i].value.size = sizeof(value);
	}
	encode_fails(&hdr, many, N_ELEMENTS(many));
}

/* Too small a buffer: the answer is the size needed, and not one byte is
   written past the size given. */
static void
check_buffer_sizes(const struct proxy_header *hdr,
		   const struct proxy_tlv *extra, size_t extra_count)
{
	static unsigned char small[512 + 16];
	size_t length = encode_ok(hdr, extra, extra_count), size, i;
	const char *error = NULL;

	assert_true(length + 16 <= sizeof(small));
	/* No buffer at all: a question about the size. */
	assert_int_equal(proxy_encode(hdr, extra, extra_count, NULL, 0,
				      &error), length);
	for (size = 0; size <= length; size++) {
		memset(small, 0xa5, sizeof(small));
		assert_int_equal(proxy_encode(hdr, extra, extra_count, small,
					      size, &error), length);
		for (i = size; i < sizeof(small); i++)
			assert_int_equal(small[i], 0xa5);
	}
	assert_memory_equal(small, buf, length);
	assert_null(error);
}

static void test_buffer_too_small(void **state)
{
	const struct proxy_tlv extra = { PROXY_TLV_CUSTOM_MIN, BYTES("xyz") };
	struct proxy_header hdr;

	(void)state;
	hdr = header(1, PROXY_CMD_PROXY, PROXY_AF_INET6, PROXY_TRANSPORT_STREAM);
	check_buffer_sizes(&hdr, NULL, 0);
	hdr = header(1, PROXY_CMD_LOCAL, PROXY_AF_UNSPEC, PROXY_TRANSPORT_UNSPEC);
	check_buffer_sizes(&hdr, NULL, 0);
	hdr = header(2, PROXY_CMD_PROXY, PROXY_AF_INET6, PROXY_TRANSPORT_STREAM);
	set_all_tlvs(&hdr);
	check_buffer_sizes(&hdr, &extra, 1);
}

static void test_invalid_headers(void **state)
{
	static const size_t ssl_fields[] = {
		offsetof(struct proxy_ssl, version),
		offsetof(struct proxy_ssl, cn),
		offsetof(struct proxy_ssl, cipher),
		offsetof(struct proxy_ssl, sig_alg),
		offsetof(struct proxy_ssl, key_alg),
		offsetof(struct proxy_ssl, group),
		offsetof(struct proxy_ssl, sig_scheme),
		offsetof(struct proxy_ssl, client_cert),
	};
	struct proxy_header hdr;
	unsigned int i;

	(void)state;
	hdr = v2_inet();
	hdr.version = 3;
	encode_fails(&hdr, NULL, 0);
	hdr.version = 0;
	encode_fails(&hdr, NULL, 0);

	hdr = v2_inet();
	hdr.command = (enum proxy_command)2;
	encode_fails(&hdr, NULL, 0);
	hdr.version = 1;
	encode_fails(&hdr, NULL, 0);

	hdr = v2_inet();
	hdr.family = (enum proxy_family)4;
	encode_fails(&hdr, NULL, 0);

	hdr = v2_inet();
	hdr.transport = (enum proxy_transport)3;
	encode_fails(&hdr, NULL, 0);

	/* SSL fields are not dropped silently when the TLV is off: all of
	   them, or any one. */
	hdr = v2_inet();
	set_all_ssl(&hdr.ssl);
	hdr.ssl.present = false;
	encode_fails(&hdr, NULL, 0);
	for (i = 0; i < N_ELEMENTS(ssl_fields); i++) {
		hdr = v2_inet();
		*(struct proxy_bytes *)((char *)&hdr.ssl + ssl_fields[i]) =
			BYTES("x");
		encode_fails(&hdr, NULL, 0);
	}
	hdr = v2_inet();
	hdr.ssl.client = PROXY_SSL_CLIENT_SSL;
	encode_fails(&hdr, NULL, 0);
	hdr = v2_inet();
	hdr.ssl.verify = 1;
	encode_fails(&hdr, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_tcp4),
		cmocka_unit_test(test_v1_tcp6),
		cmocka_unit_test(test_v1_tcp6_longest),
		cmocka_unit_test(test_v1_unknown),
		cmocka_unit_test(test_v1_rejects_what_it_cannot_carry),
		cmocka_unit_test(test_v1_rejects_each_tlv),
		cmocka_unit_test(test_v2_every_address_kind),
		cmocka_unit_test(test_v2_inet_bytes),
		cmocka_unit_test(test_v2_unix_path_padding),
		cmocka_unit_test(test_v2_each_tlv_alone),
		cmocka_unit_test(test_v2_ssl_fixed_part),
		cmocka_unit_test(test_v2_all_tlvs_in_order),
		cmocka_unit_test(test_v2_empty_values),
		cmocka_unit_test(test_v2_crc32c),
		cmocka_unit_test(test_v2_unique_id_limit),
		cmocka_unit_test(test_v2_max_length),
		cmocka_unit_test(test_v2_too_many_tlvs),
		cmocka_unit_test(test_buffer_too_small),
		cmocka_unit_test(test_invalid_headers),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("proxy-encoder", tests, NULL, NULL);
}
