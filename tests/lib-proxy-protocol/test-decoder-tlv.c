/* v2 TLVs: the spec's types decoded into their fields, the others left
   for the iterator, SSL and its sub-TLVs, CRC32C, and the iterator's own
   bounds. The invalid TLVs are in test-decoder-errors.c. */

#include "test-common.h"

#define MAX_TLVS 16

struct tlv_list {
	unsigned int count;
	uint8_t types[MAX_TLVS];
	size_t sizes[MAX_TLVS];
};

/* Walk an area of a COMPLETE header, which must end cleanly. */
static void walk_tlvs(const struct proxy_bytes *area, struct tlv_list *list_r)
{
	struct proxy_tlv_iter iter;
	struct proxy_tlv tlv;
	int ret;

	list_r->count = 0;
	proxy_tlv_iter_init(&iter, area);
	while ((ret = proxy_tlv_iter_next(&iter, &tlv)) > 0) {
		assert_in_range(list_r->count, 0, MAX_TLVS - 1);
		list_r->types[list_r->count] = tlv.type;
		list_r->sizes[list_r->count] = tlv.value.size;
		list_r->count++;
	}
	assert_int_equal(ret, 0);
}

static void assert_no_tlv_fields(const struct proxy_header *hdr)
{
	assert_bytes(&hdr->alpn, NULL);
	assert_bytes(&hdr->authority, NULL);
	assert_bytes(&hdr->unique_id, NULL);
	assert_bytes(&hdr->netns, NULL);
	assert_false(hdr->crc32c);
	assert_false(hdr->ssl.present);
}

static void test_tlv_none(void **state)
{
	const struct proxy_header *hdr = decode_vector("v2 tcp4");
	struct tlv_list list;

	(void)state;
	assert_no_tlv_fields(hdr);
	walk_tlvs(&hdr->tlvs, &list);
	assert_int_equal(list.count, 0);
	/* No SSL TLV: an absent area, which the iterator takes too. */
	assert_bytes(&hdr->ssl.tlvs, NULL);
	walk_tlvs(&hdr->ssl.tlvs, &list);
	assert_int_equal(list.count, 0);
}

static void test_tlv_alpn(void **state)
{
	const struct proxy_header *hdr = decode_vector("tlv alpn");

	(void)state;
	assert_bytes(&hdr->alpn, "imap");
	assert_at(&hdr->alpn, 31, 4);
	assert_bytes(&hdr->authority, NULL);
}

static void test_tlv_authority(void **state)
{
	const struct proxy_header *hdr = decode_vector("tlv authority");

	(void)state;
	assert_bytes(&hdr->authority, "mail.example.org");
	assert_bytes(&hdr->alpn, NULL);
}

static void test_tlv_unique_id(void **state)
{
	const struct proxy_header *hdr = decode_vector("tlv unique id");
	unsigned int i;

	(void)state;
	assert_bytes(&hdr->unique_id, "UNIQUE_ID");

	/* Empty but present. */
	hdr = decode_vector("tlv unique id empty");
	assert_at(&hdr->unique_id, 31, 0);

	hdr = decode_vector("tlv unique id 128 bytes");
	assert_at(&hdr->unique_id, 31, PROXY_TLV_UNIQUE_ID_MAX_LENGTH);
	for (i = 0; i < PROXY_TLV_UNIQUE_ID_MAX_LENGTH; i++)
		assert_int_equal(hdr->unique_id.data[i], 'u');
}

static void test_tlv_netns(void **state)
{
	const struct proxy_header *hdr = decode_vector("tlv netns");

	(void)state;
	assert_bytes(&hdr->netns, "red");
}

/* NOOP is padding: it may repeat and sets no field. */
static void test_tlv_noop(void **state)
{
	const struct proxy_header *hdr = decode_vector("tlv noop");
	struct tlv_list list;

	(void)state;
	assert_no_tlv_fields(hdr);
	walk_tlvs(&hdr->tlvs, &list);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.types[0], PROXY_TLV_NOOP);
	assert_int_equal(list.sizes[0], 0);
	assert_int_equal(list.types[1], PROXY_TLV_NOOP);
	assert_int_equal(list.sizes[1], 3);
}

/* Application, experimental, future and unassigned types are skipped by
   the decoder and reached, in order, by the iterator. */
static void test_tlv_skipped_types(void **state)
{
	static const uint8_t types[] = {
		0xe0, 0xea, 0xee, 0xef, 0xe0, 0xf0, 0xf7, 0xf8, 0xff,
		0x00, 0x06, 0x31,
	};
	static const size_t sizes[] = { 1, 2, 0, 1, 0, 0, 1, 2, 0, 0, 0, 0 };
	const struct proxy_header *hdr =
		decode_vector("tlv custom and reserved");
	struct tlv_list list;
	unsigned int i;

	(void)state;
	assert_no_tlv_fields(hdr);
	walk_tlvs(&hdr->tlvs, &list);
	assert_int_equal(list.count, sizeof(types));
	for (i = 0; i < sizeof(types); i++) {
		assert_int_equal(list.types[i], types[i]);
		assert_int_equal(list.sizes[i], sizes[i]);
	}
}

static void test_tlv_ssl(void **state)
{
	const struct proxy_header *hdr = decode_vector("tlv ssl");
	struct tlv_list list;
	unsigned int i;

	(void)state;
	assert_true(hdr->ssl.present);
	assert_int_equal(hdr->ssl.client, PROXY_SSL_CLIENT_SSL |
			 PROXY_SSL_CLIENT_CERT_CONN |
			 PROXY_SSL_CLIENT_CERT_SESS);
	assert_int_equal(hdr->ssl.verify, 0);
	assert_bytes(&hdr->ssl.version, "TLSv1.3");
	assert_bytes(&hdr->ssl.cn, "alice");
	assert_bytes(&hdr->ssl.cipher, "TLS_AES_256_GCM_SHA384");
	assert_bytes(&hdr->ssl.sig_alg, "RSA-SHA256");
	assert_bytes(&hdr->ssl.key_alg, "RSA2048");
	assert_bytes(&hdr->ssl.group, "X25519");
	assert_bytes(&hdr->ssl.sig_scheme, "ecdsa_secp256r1_sha256");
	assert_bytes(&hdr->ssl.client_cert, "\x30\x03\x02\x01\x01");

	/* Sub-TLVs follow client and verify; the iterator reaches them. */
	assert_at(&hdr->ssl.tlvs, 36, 108);
	walk_tlvs(&hdr->ssl.tlvs, &list);
	assert_int_equal(list.count, 8);
	for (i = 0; i < list.count; i++)
		assert_int_equal(list.types[i], PROXY_TLV_SSL_VERSION + i);
}

/* verify is a big-endian 32-bit field; no sub-TLV is needed. */
static void test_tlv_ssl_verify(void **state)
{
	const struct proxy_header *hdr = decode_vector("tlv ssl verify");

	(void)state;
	assert_true(hdr->ssl.present);
	assert_int_equal(hdr->ssl.client, 0);
	assert_int_equal(hdr->ssl.verify, 0x01020304);
	assert_at(&hdr->ssl.tlvs, 36, 0);
	assert_bytes(&hdr->ssl.version, NULL);
	assert_bytes(&hdr->ssl.cn, NULL);
	assert_bytes(&hdr->ssl.client_cert, NULL);
}

static void test_tlv_ssl_unknown_sub_tlvs(void **state)
{
	const struct proxy_header *hdr =
		decode_vector("tlv ssl unknown sub-tlvs");
	struct tlv_list list;

	(void)state;
	assert_bytes(&hdr->ssl.version, "v1");
	walk_tlvs(&hdr->ssl.tlvs, &list);
	assert_int_equal(list.count, 3);
	assert_int_equal(list.types[0], 0x29);
	assert_int_equal(list.types[1], PROXY_TLV_SSL);
	assert_int_equal(list.types[2], PROXY_TLV_SSL_VERSION);
}

/* crc32c is set only when a CRC32C TLV was there and matched. */
static void test_tlv_crc32c(void **state)
{
	(void)state;
	assert_true(decode_vector("v2 local crc32c")->crc32c);
	assert_true(decode_vector("haproxy vector")->crc32c);
	assert_true(decode_vector("v2 tcp6 full")->crc32c);
	assert_false(decode_vector("tlv alpn")->crc32c);
}

/* The header HAProxy sent in aio-libs/aiosmtpd#174, followed by data
   that belongs to the client. */
static void test_tlv_haproxy_vector(void **state)
{
	const struct proxy_header *hdr = decode_vector("haproxy vector");

	(void)state;
	assert_int_equal(load_vector("haproxy vector")->size, 169);
	assert_int_equal(hdr->length, 130);
	assert_int_equal(hdr->version, 2);
	assert_int_equal(hdr->command, PROXY_CMD_PROXY);
	assert_int_equal(hdr->family, PROXY_AF_INET);
	assert_int_equal(hdr->transport, PROXY_TRANSPORT_STREAM);
	assert_addr(hdr->src.addr, "7f000001");
	assert_addr(hdr->dst.addr, "7f000001");
	assert_int_equal(hdr->src.port, 45138);
	assert_int_equal(hdr->dst.port, 25253);
	assert_true(hdr->crc32c);
	assert_bytes(&hdr->authority, "AUTHORITY");
	assert_bytes(&hdr->unique_id, "UNIQUE_ID");
	assert_bytes(&hdr->alpn, NULL);
	assert_true(hdr->ssl.present);
	assert_int_equal(hdr->ssl.client, PROXY_SSL_CLIENT_SSL);
	assert_int_equal(hdr->ssl.verify, 0);
	assert_bytes(&hdr->ssl.version, "TLSv1.2");
	assert_bytes(&hdr->ssl.key_alg, "RSA4096");
	assert_bytes(&hdr->ssl.sig_alg, "RSA-SHA256");
	assert_bytes(&hdr->ssl.cipher, "ECDHE-RSA-AES256-GCM-SHA384");
	assert_bytes(&hdr->ssl.cn, NULL);
}

static void test_tlv_tcp6_full(void **state)
{
	const struct proxy_header *hdr = decode_vector("v2 tcp6 full");

	(void)state;
	assert_int_equal(hdr->family, PROXY_AF_INET6);
	assert_true(hdr->crc32c);
	assert_bytes(&hdr->authority, "mail.example.org");
	assert_bytes(&hdr->unique_id, "4f1c9a2e-7d35-4b8e-9c61-0a2b3c4d5e6f");
	assert_int_equal(hdr->ssl.client, PROXY_SSL_CLIENT_SSL |
			 PROXY_SSL_CLIENT_CERT_CONN |
			 PROXY_SSL_CLIENT_CERT_SESS);
	assert_bytes(&hdr->ssl.version, "TLSv1.3");
	assert_bytes(&hdr->ssl.cn, "alice");
}

/* On an area of its own the iterator stops at the first TLV that does
   not fit, and takes a TLV that ends exactly at the end. */
static void test_tlv_iterator_bounds(void **state)
{
	static const struct {
		const char *data;
		size_t size;
		int first;
	} areas[] = {
		{ "", 0, 0 },
		{ "\x04", 1, -1 },
		{ "\x04\x00", 2, -1 },
		{ "\x01\x00\x05imap", 7, -1 },
		{ "\x01\x00\x04imap", 7, 1 },
	};
	struct proxy_tlv_iter iter;
	struct proxy_tlv tlv;
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(areas); i++) {
		struct proxy_bytes area = {
			(const unsigned char *)areas[i].data, areas[i].size
		};

		proxy_tlv_iter_init(&iter, &area);
		assert_int_equal(proxy_tlv_iter_next(&iter, &tlv),
				 areas[i].first);
	}
	assert_int_equal(tlv.type, PROXY_TLV_ALPN);
	assert_int_equal(tlv.value.size, 4);
	assert_memory_equal(tlv.value.data, "imap", 4);
	assert_int_equal(proxy_tlv_iter_next(&iter, &tlv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlv_none),
		cmocka_unit_test(test_tlv_alpn),
		cmocka_unit_test(test_tlv_authority),
		cmocka_unit_test(test_tlv_unique_id),
		cmocka_unit_test(test_tlv_netns),
		cmocka_unit_test(test_tlv_noop),
		cmocka_unit_test(test_tlv_skipped_types),
		cmocka_unit_test(test_tlv_ssl),
		cmocka_unit_test(test_tlv_ssl_verify),
		cmocka_unit_test(test_tlv_ssl_unknown_sub_tlvs),
		cmocka_unit_test(test_tlv_crc32c),
		cmocka_unit_test(test_tlv_haproxy_vector),
		cmocka_unit_test(test_tlv_tcp6_full),
		cmocka_unit_test(test_tlv_iterator_bounds),
	};

	return test_run(tests);
}
