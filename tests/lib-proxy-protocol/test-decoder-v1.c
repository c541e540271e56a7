/* v1, the text header: what a valid line decodes to, the 107-byte bound
   and how many bytes a partial line asks for. The invalid lines are in
   test-decoder-errors.c. */

#include "test-common.h"

#include <string.h>

static void assert_tcp4(const struct proxy_header *hdr)
{
	assert_int_equal(hdr->version, 1);
	assert_int_equal(hdr->command, PROXY_CMD_PROXY);
	assert_int_equal(hdr->family, PROXY_AF_INET);
	assert_int_equal(hdr->transport, PROXY_TRANSPORT_STREAM);
}

static void assert_no_v2_fields(const struct proxy_header *hdr)
{
	assert_bytes(&hdr->tlvs, NULL);
	assert_bytes(&hdr->alpn, NULL);
	assert_bytes(&hdr->authority, NULL);
	assert_bytes(&hdr->unique_id, NULL);
	assert_bytes(&hdr->netns, NULL);
	assert_bytes(&hdr->src.path, NULL);
	assert_bytes(&hdr->dst.path, NULL);
	assert_false(hdr->crc32c);
	assert_false(hdr->ssl.present);
}

static void test_v1_tcp4(void **state)
{
	const struct proxy_header *hdr = decode_vector("v1 tcp4");

	(void)state;
	assert_tcp4(hdr);
	assert_addr(hdr->src.addr, "c0000201");
	assert_addr(hdr->dst.addr, "c6336416");
	assert_int_equal(hdr->src.port, 56324);
	assert_int_equal(hdr->dst.port, 443);
	assert_no_v2_fields(hdr);
}

static void test_v1_tcp4_bounds(void **state)
{
	const struct proxy_header *hdr = decode_vector("v1 tcp4 longest");

	(void)state;
	assert_tcp4(hdr);
	assert_addr(hdr->src.addr, "ffffffff");
	assert_addr(hdr->dst.addr, "ffffffff");
	assert_int_equal(hdr->src.port, 65535);
	assert_int_equal(hdr->dst.port, 65535);

	/* A single 0 is not a leading zero; port 0 is valid. */
	hdr = decode_vector("v1 tcp4 zeros");
	assert_tcp4(hdr);
	assert_addr(hdr->src.addr, "00000000");
	assert_addr(hdr->dst.addr, "00000000");
	assert_int_equal(hdr->src.port, 0);
	assert_int_equal(hdr->dst.port, 0);
}

static void test_v1_tcp6(void **state)
{
	const struct proxy_header *hdr = decode_vector("v1 tcp6");

	(void)state;
	assert_int_equal(hdr->version, 1);
	assert_int_equal(hdr->command, PROXY_CMD_PROXY);
	assert_int_equal(hdr->family, PROXY_AF_INET6);
	assert_int_equal(hdr->transport, PROXY_TRANSPORT_STREAM);
	assert_addr(hdr->src.addr, "20010db8 00000000 00000000 00000001");
	assert_addr(hdr->dst.addr, "20010db8 00000001 00000000 00000022");
	assert_int_equal(hdr->src.port, 56324);
	assert_int_equal(hdr->dst.port, 993);
	assert_no_v2_fields(hdr);
}

static void test_v1_tcp6_forms(void **state)
{
	static const struct {
		const char *vector, *src, *dst;
	} forms[] = {
		{ "v1 tcp6 longest",
		  "ffffffff ffffffff ffffffff ffffffff",
		  "ffffffff ffffffff ffffffff ffffffff" },
		{ "v1 tcp6 unspecified",
		  "00000000 00000000 00000000 00000000",
		  "00000000 00000000 00000000 00000000" },
		{ "v1 tcp6 loopback",
		  "00000000 00000000 00000000 00000001",
		  "00000000 00000000 00000000 00000001" },
		{ "v1 tcp6 gap at end",
		  "00010000 00000000 00000000 00000000",
		  "fe800000 00000000 00000000 00000000" },
		{ "v1 tcp6 gap of one group",
		  "00010002 00030004 00050006 00070000",
		  "00000002 00030004 00050006 00070008" },
		{ "v1 tcp6 eight groups",
		  "20010db8 00000000 00000000 00000001",
		  "20010db8 000a000b 000c000d 000e000f" },
		{ "v1 tcp6 embedded ipv4",
		  "00000000 00000000 0000ffff c0000201",
		  "0064ff9b 00000000 00000000 c6336416" },
		{ "v1 tcp6 six groups and ipv4",
		  "00010002 00030004 00050006 c0000201",
		  "00000000 00000000 00000000 00000001" },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(forms); i++) {
		const struct proxy_header *hdr = decode_vector(forms[i].vector);

		assert_int_equal(hdr->family, PROXY_AF_INET6);
		assert_addr(hdr->src.addr, forms[i].src);
		assert_addr(hdr->dst.addr, forms[i].dst);
	}
}

/* UNKNOWN is the connection's own endpoints: it decodes as LOCAL. */
static void test_v1_unknown(void **state)
{
	static const char *const vectors[] = {
		"v1 unknown", "v1 unknown 107 bytes", "v1 unknown then junk",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(vectors); i++) {
		const struct proxy_header *hdr = decode_vector(vectors[i]);

		assert_int_equal(hdr->version, 1);
		assert_int_equal(hdr->command, PROXY_CMD_LOCAL);
		assert_int_equal(hdr->family, PROXY_AF_UNSPEC);
		assert_int_equal(hdr->transport, PROXY_TRANSPORT_UNSPEC);
		assert_no_v2_fields(hdr);
	}
}

/* The longest line is 107 bytes with its CRLF: one more is too long,
   and a line is too long as soon as 107 bytes hold no CRLF. */
static void test_v1_length_bound(void **state)
{
	const struct test_buf *line;
	struct proxy_header hdr;
	enum proxy_error error;
	size_t need;

	(void)state;
	assert_int_equal(decode_vector("v1 unknown 107 bytes")->length,
			 PROXY_V1_MAX_LENGTH);

	line = load_vector("v1 108 bytes");
	assert_int_equal(line->size, PROXY_V1_MAX_LENGTH + 1);
	assert_need_more(line->data, PROXY_V1_MAX_LENGTH - 1, 2);
	assert_int_equal(proxy_decode(line->data, PROXY_V1_MAX_LENGTH, &hdr,
				      &need, &error), PROXY_RESULT_INVALID);
	assert_int_equal(error, PROXY_ERROR_V1_TOO_LONG);
}

static void test_v1_need_more(void **state)
{
	static const char tcp4[] =
		"PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\n";
	const struct test_buf *longest;

	(void)state;
	/* Until a CR, at least CRLF and at least the shortest line. */
	assert_need_more("", 0, PROXY_V1_MIN_LENGTH);
	assert_need_more("P", 1, 14);
	assert_need_more("PROXY", 5, 10);
	assert_need_more("PROXY UNKNOWN", 13, 2);
	assert_need_more(tcp4, 12, 3);
	assert_need_more(tcp4, 13, 2);
	assert_need_more(tcp4, strlen(tcp4) - 2, 2);
	/* After a CR, its LF. */
	assert_need_more("PROXY UNKNOWN\r", 14, 1);
	assert_need_more(tcp4, strlen(tcp4) - 1, 1);

	longest = load_vector("v1 unknown 107 bytes");
	assert_need_more(longest->data, PROXY_V1_MAX_LENGTH - 2, 2);
	assert_need_more(longest->data, PROXY_V1_MAX_LENGTH - 1, 1);
}

/* The spec: no address is decoded before the CRLF is in. */
static void test_v1_addresses_wait_for_crlf(void **state)
{
	static const char *const vectors[] = {
		"v1 ipv4 256", "v1 ipv6 two gaps", "v1 port 65536",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(vectors); i++) {
		const struct test_buf *line = load_vector(vectors[i]);

		assert_need_more(line->data, line->size - 2, 2);
	}
}

/* The header ends at its CRLF: what follows is the client's. */
static void test_v1_then_data(void **state)
{
	const struct proxy_header *hdr = decode_vector("v1 tcp4 then data");

	(void)state;
	assert_tcp4(hdr);
	assert_int_equal(hdr->length, 46);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_tcp4),
		cmocka_unit_test(test_v1_tcp4_bounds),
		cmocka_unit_test(test_v1_tcp6),
		cmocka_unit_test(test_v1_tcp6_forms),
		cmocka_unit_test(test_v1_unknown),
		cmocka_unit_test(test_v1_length_bound),
		cmocka_unit_test(test_v1_need_more),
		cmocka_unit_test(test_v1_addresses_wait_for_crlf),
		cmocka_unit_test(test_v1_then_data),
	};

	return test_run(tests);
}
