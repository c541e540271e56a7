/* v2, the binary header: commands, families and transports, where the
   address block and the TLVs land, the length bound and how many bytes a
   partial header asks for. The invalid headers are in
   test-decoder-errors.c, the TLVs in test-decoder-tlv.c. */

#include "test-common.h"

static void assert_v2(const struct proxy_header *hdr, enum proxy_command cmd,
		      enum proxy_family family, enum proxy_transport transport)
{
	assert_int_equal(hdr->version, 2);
	assert_int_equal(hdr->command, cmd);
	assert_int_equal(hdr->family, family);
	assert_int_equal(hdr->transport, transport);
}

/* LOCAL is decoded like PROXY; the caller then uses its own endpoints.
   The length is honoured whatever follows the fixed part. */
static void test_v2_local(void **state)
{
	const struct proxy_header *hdr = decode_vector("v2 local");

	(void)state;
	assert_v2(hdr, PROXY_CMD_LOCAL, PROXY_AF_UNSPEC,
		  PROXY_TRANSPORT_UNSPEC);
	assert_at(&hdr->tlvs, 16, 0);

	hdr = decode_vector("v2 local with tlvs");
	assert_v2(hdr, PROXY_CMD_LOCAL, PROXY_AF_UNSPEC,
		  PROXY_TRANSPORT_UNSPEC);
	assert_at(&hdr->tlvs, 16, 8);

	hdr = decode_vector("v2 local with address");
	assert_v2(hdr, PROXY_CMD_LOCAL, PROXY_AF_INET, PROXY_TRANSPORT_STREAM);
	assert_at(&hdr->tlvs, 28, 0);
}

static void test_v2_tcp4(void **state)
{
	const struct proxy_header *hdr = decode_vector("v2 tcp4");

	(void)state;
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_INET, PROXY_TRANSPORT_STREAM);
	assert_addr(hdr->src.addr, "c0000201");
	assert_addr(hdr->dst.addr, "c6336416");
	assert_int_equal(hdr->src.port, 56324);
	assert_int_equal(hdr->dst.port, 443);
	assert_bytes(&hdr->src.path, NULL);
	assert_bytes(&hdr->dst.path, NULL);
	assert_at(&hdr->tlvs, 28, 0);
	assert_false(hdr->crc32c);
	assert_false(hdr->ssl.present);

	hdr = decode_vector("v2 tcp4 ports 0 and 65535");
	assert_int_equal(hdr->src.port, 0);
	assert_int_equal(hdr->dst.port, 65535);
}

static void test_v2_tcp6(void **state)
{
	const struct proxy_header *hdr = decode_vector("v2 tcp6");

	(void)state;
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_INET6,
		  PROXY_TRANSPORT_STREAM);
	assert_addr(hdr->src.addr, "20010db8 00000000 00000000 00000001");
	assert_addr(hdr->dst.addr, "20010db8 00000001 00000000 00000022");
	assert_int_equal(hdr->src.port, 56324);
	assert_int_equal(hdr->dst.port, 993);
	assert_at(&hdr->tlvs, 52, 0);
}

/* DGRAM is decoded and reported; refusing it is the caller's choice. */
static void test_v2_dgram(void **state)
{
	const struct proxy_header *hdr = decode_vector("v2 udp4");

	(void)state;
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_INET, PROXY_TRANSPORT_DGRAM);
	assert_addr(hdr->src.addr, "c0000201");
	assert_int_equal(hdr->dst.port, 443);

	hdr = decode_vector("v2 udp6");
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_INET6, PROXY_TRANSPORT_DGRAM);
	assert_addr(hdr->dst.addr, "20010db8 00000001 00000000 00000022");
	assert_int_equal(hdr->dst.port, 993);
}

/* The two 108-byte paths as sent, NUL padding included; TLVs after. */
static void test_v2_unix(void **state)
{
	static const char src[] = "/run/haproxy/imap.sock";
	const struct proxy_header *hdr = decode_vector("v2 unix stream");
	unsigned int i;

	(void)state;
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_UNIX, PROXY_TRANSPORT_STREAM);
	assert_at(&hdr->src.path, 16, PROXY_V2_UNIX_PATH_LENGTH);
	assert_at(&hdr->dst.path, 124, PROXY_V2_UNIX_PATH_LENGTH);
	assert_memory_equal(hdr->src.path.data, src, sizeof(src));
	for (i = sizeof(src); i < PROXY_V2_UNIX_PATH_LENGTH; i++)
		assert_int_equal(hdr->src.path.data[i], 0);
	assert_at(&hdr->tlvs, 232, 19);
	assert_bytes(&hdr->authority, "mail.example.org");

	hdr = decode_vector("v2 unix dgram");
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_UNIX, PROXY_TRANSPORT_DGRAM);
	assert_memory_equal(hdr->dst.path.data, "/dev/log", 9);
	assert_at(&hdr->tlvs, 232, 0);
}

/* PROXY with an unspecified family or transport: valid nibbles, so the
   header is decoded; there is no address block for UNSPEC. */
static void test_v2_unspec(void **state)
{
	const struct proxy_header *hdr = decode_vector("v2 proxy unspec");

	(void)state;
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_UNSPEC,
		  PROXY_TRANSPORT_UNSPEC);
	assert_at(&hdr->tlvs, 16, 0);

	hdr = decode_vector("v2 proxy unspec with tlv");
	assert_at(&hdr->tlvs, 16, 4);

	hdr = decode_vector("v2 unspec stream");
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_UNSPEC,
		  PROXY_TRANSPORT_STREAM);

	hdr = decode_vector("v2 inet unspec transport");
	assert_v2(hdr, PROXY_CMD_PROXY, PROXY_AF_INET, PROXY_TRANSPORT_UNSPEC);
	assert_addr(hdr->src.addr, "c0000201");
	assert_int_equal(hdr->src.port, 56324);
}

static void test_v2_max_length(void **state)
{
	const struct proxy_header *hdr = decode_vector("v2 max length");
	const struct test_buf *buf = load_vector("v2 max length");

	(void)state;
	assert_int_equal(hdr->length, PROXY_V2_FIXED_LENGTH + 0xffff);
	assert_at(&hdr->tlvs, 28, 0xffff - PROXY_V2_INET_ADDR_LENGTH);
	assert_need_more(buf->data, PROXY_V2_FIXED_LENGTH, 0xffff);
	assert_need_more(buf->data, PROXY_V2_MAX_LENGTH - 1, 1);
}

static void test_v2_need_more(void **state)
{
	const struct test_buf *buf;

	(void)state;
	/* Until the length is known: the fixed part at least. */
	assert_need_more("\r", 1, 15);
	assert_need_more(PROXY_V2_SIGNATURE, 12, 4);
	assert_need_more(PROXY_V2_SIGNATURE "\x21", 13, 3);
	assert_need_more(PROXY_V2_SIGNATURE "\x21\x11", 14, 2);
	assert_need_more(PROXY_V2_SIGNATURE "\x21\x11\x00", 15, 1);

	/* Then exactly what the length says. */
	buf = load_vector("v2 tcp4");
	assert_need_more(buf->data, 16, 12);
	assert_need_more(buf->data, 27, 1);
	buf = load_vector("v2 tcp6");
	assert_need_more(buf->data, 16, 36);
	assert_need_more(buf->data, 51, 1);
	buf = load_vector("v2 unix stream");
	assert_need_more(buf->data, 16, 235);
	buf = load_vector("haproxy vector");
	assert_need_more(buf->data, 100, 30);
}

/* The header ends where its length says: what follows is the client's,
   a TLS ClientHello on an ssl=yes listener included. */
static void test_v2_then_data(void **state)
{
	(void)state;
	assert_int_equal(decode_vector("v2 tcp4 then data")->length, 28);
	assert_int_equal(decode_vector("v2 tcp4 then tls")->length, 28);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_local),
		cmocka_unit_test(test_v2_tcp4),
		cmocka_unit_test(test_v2_tcp6),
		cmocka_unit_test(test_v2_dgram),
		cmocka_unit_test(test_v2_unix),
		cmocka_unit_test(test_v2_unspec),
		cmocka_unit_test(test_v2_max_length),
		cmocka_unit_test(test_v2_need_more),
		cmocka_unit_test(test_v2_then_data),
	};

	return test_run(tests);
}
