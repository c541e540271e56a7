/* Every input the decoder tests know, with the answer the spec
   (doc/proxy-protocol.txt in haproxy/haproxy) requires for it. */

#include "test-vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT(s) .text = (s)
#define HEX(s) .hex = (s)
#define BUILD(f) .build = (f)
#define COMPLETE(n) .length = (n)
#define INVALID(e) .error = PROXY_ERROR_##e

#define FFFF8 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
#define SIG "0d0a0d0a 000d0a51 5549540a "
/* 192.0.2.1:56324 -> 198.51.100.22:443 */
#define TCP4_ADDR "c0000201 c6336416 dc04 01bb "
/* [2001:db8::1]:56324 -> [2001:db8:0:1::22]:993 */
#define TCP6_ADDR "20010db8 00000000 00000000 00000001 " \
	"20010db8 00000001 00000000 00000022 dc04 03e1 "
/* AUTHORITY "mail.example.org" */
#define AUTHORITY_TLV "02 0010 6d61696c 2e657861 6d706c65 2e6f7267 "
/* A header HAProxy sent (aio-libs/aiosmtpd#174): TCP4 127.0.0.1:45138 ->
   127.0.0.1:25253, CRC32C 0x54fdc6ff, AUTHORITY, UNIQUE_ID and SSL with
   VERSION, KEY_ALG, SIG_ALG and CIPHER; then 39 bytes of application data. */
#define HAPROXY_HEAD SIG "21 11 0072 7f000001 7f000001 b052 62a5 03 0004 "
#define HAPROXY_TAIL "02 0009 415554484f52495459 05 0009 554e495155455f4944 " \
	"20 0044 01 00000000 21 0007 544c5376312e32 25 0007 52534134303936 " \
	"24 000a 5253412d534841323536 " \
	"23 001b 45434448452d5253412d4145533235362d47434d2d534841333834 " \
	"5465737420646174612074686174206973206e6f742070617274206f66" \
	"2050524f585976322e0a"

static void buf_append(struct test_buf *buf, const void *data, size_t size)
{
	if (size > sizeof(buf->data) - buf->size) {
		fprintf(stderr, "test vector longer than struct test_buf\n");
		abort();
	}
	memcpy(buf->data + buf->size, data, size);
	buf->size += size;
}

static void buf_append_hex(struct test_buf *buf, const char *hex)
{
	buf->size += test_hex_decode(hex, buf->data + buf->size,
				     sizeof(buf->data) - buf->size);
}

static void buf_fill(struct test_buf *buf, unsigned char byte, size_t count)
{
	while (count-- > 0)
		buf_append(buf, &byte, 1);
}

/* Set the v2 length field to cover everything appended so far. */
static void buf_v2_seal(struct test_buf *buf)
{
	size_t length = buf->size - PROXY_V2_FIXED_LENGTH;

	buf->data[14] = (unsigned char)(length >> 8);
	buf->data[15] = (unsigned char)length;
}

static void buf_unix_path(struct test_buf *buf, const char *path)
{
	buf_append(buf, path, strlen(path));
	buf_fill(buf, 0, PROXY_V2_UNIX_PATH_LENGTH - strlen(path));
}

static void build_v2_unix_stream(struct test_buf *buf)
{
	buf_append_hex(buf, SIG "21 31 0000");
	buf_unix_path(buf, "/run/haproxy/imap.sock");
	buf_unix_path(buf, "/run/dovecot/login/imap");
	buf_append_hex(buf, AUTHORITY_TLV);
	buf_v2_seal(buf);
}

static void build_v2_unix_dgram(struct test_buf *buf)
{
	buf_append_hex(buf, SIG "21 32 0000");
	buf_unix_path(buf, "/run/syslog.sock");
	buf_unix_path(buf, "/dev/log");
	buf_v2_seal(buf);
}

static void build_v2_unix_short(struct test_buf *buf)
{
	buf_append_hex(buf, SIG "21 31 0000");
	buf_fill(buf, 0, PROXY_V2_UNIX_ADDR_LENGTH - 1);
	buf_v2_seal(buf);
}

/* 16 + 65535 bytes: the address and one NOOP TLV filling the rest. */
static void build_v2_max_length(struct test_buf *buf)
{
	size_t noop = 0xffff - PROXY_V2_INET_ADDR_LENGTH -
		PROXY_TLV_HEADER_LENGTH;

	buf_append_hex(buf, SIG "21 11 0000" TCP4_ADDR "04");
	buf_fill(buf, (unsigned char)(noop >> 8), 1);
	buf_fill(buf, (unsigned char)noop, 1);
	buf_fill(buf, 0, noop);
	buf_v2_seal(buf);
}

static void build_unique_id(struct test_buf *buf, unsigned char size)
{
	buf_append_hex(buf, SIG "21 11 0000" TCP4_ADDR "05 00");
	buf_fill(buf, size, 1);
	buf_fill(buf, 'u', size);
	buf_v2_seal(buf);
}

static void build_unique_id_128(struct test_buf *buf)
{
	build_unique_id(buf, PROXY_TLV_UNIQUE_ID_MAX_LENGTH);
}

static void build_unique_id_129(struct test_buf *buf)
{
	build_unique_id(buf, PROXY_TLV_UNIQUE_ID_MAX_LENGTH + 1);
}

const struct test_vector test_vectors[] = {
	/* v1, valid */
	{ "v1 tcp4",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  COMPLETE(46) },
	{ "v1 tcp4 then data",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\n"
	       "A1 CAPABILITY\r\n"), COMPLETE(46) },
	{ "v1 tcp4 longest",
	  TEXT("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"),
	  COMPLETE(56) },
	{ "v1 tcp4 zeros", TEXT("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n"),
	  COMPLETE(32) },
	{ "v1 tcp6",
	  TEXT("PROXY TCP6 2001:db8::1 2001:db8:0:1::22 56324 993\r\n"),
	  COMPLETE(51) },
	{ "v1 tcp6 longest",
	  TEXT("PROXY TCP6 " FFFF8 " " FFFF8 " 65535 65535\r\n"),
	  COMPLETE(104) },
	{ "v1 tcp6 unspecified", TEXT("PROXY TCP6 :: :: 0 0\r\n"),
	  COMPLETE(22) },
	{ "v1 tcp6 loopback", TEXT("PROXY TCP6 ::1 ::1 143 143\r\n"),
	  COMPLETE(28) },
	{ "v1 tcp6 gap at end", TEXT("PROXY TCP6 1:: fe80:: 1 2\r\n"),
	  COMPLETE(27) },
	{ "v1 tcp6 gap of one group",
	  TEXT("PROXY TCP6 1:2:3:4:5:6:7:: ::2:3:4:5:6:7:8 1 2\r\n"),
	  COMPLETE(48) },
	{ "v1 tcp6 eight groups",
	  TEXT("PROXY TCP6 2001:0db8:0000:0000:0000:0000:0000:0001 "
	       "2001:DB8:A:B:C:D:E:F 1 2\r\n"), COMPLETE(77) },
	{ "v1 tcp6 embedded ipv4",
	  TEXT("PROXY TCP6 ::ffff:192.0.2.1 64:ff9b::198.51.100.22 1 2\r\n"),
	  COMPLETE(56) },
	{ "v1 tcp6 six groups and ipv4",
	  TEXT("PROXY TCP6 1:2:3:4:5:6:192.0.2.1 ::1 1 2\r\n"),
	  COMPLETE(42) },
	{ "v1 unknown", TEXT("PROXY UNKNOWN\r\n"), COMPLETE(15) },
	/* The spec's worst case: the longest line a receiver must take. */
	{ "v1 unknown 107 bytes",
	  TEXT("PROXY UNKNOWN " FFFF8 " " FFFF8 " 65535 65535\r\n"),
	  COMPLETE(107) },
	/* Whatever follows UNKNOWN is ignored. */
	{ "v1 unknown then junk",
	  TEXT("PROXY UNKNOWN anything  at\tall \r\n"), COMPLETE(33) },

	/* v1, invalid */
	{ "not proxy imap", TEXT("A1 LOGIN user pass\r\n"),
	  INVALID(NOT_PROXY) },
	{ "not proxy lower case",
	  TEXT("proxy TCP4 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(NOT_PROXY) },
	{ "not proxy PROX",
	  TEXT("PROX TCP4 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(NOT_PROXY) },
	{ "not proxy tls", HEX("16 0301 00f4 01 0000f0 0303"),
	  INVALID(NOT_PROXY) },
	{ "not proxy nul", HEX("00"), INVALID(NOT_PROXY) },
	{ "v1 108 bytes",
	  TEXT("PROXY UNKNOWN " FFFF8 " " FFFF8 " 65535 655350\r\n"),
	  INVALID(V1_TOO_LONG) },
	{ "v1 no CRLF",
	  TEXT("PROXY TCP4 1111111111111111111111111111111111111111"
	       "111111111111111111111111111111111111111111111111111111111111"),
	  INVALID(V1_TOO_LONG) },
	/* Valid addresses, but the line cannot fit in 107 bytes. */
	{ "v1 tcp6 embedded ipv4 too long",
	  TEXT("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 "
	       "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n"),
	  INVALID(V1_TOO_LONG) },
	{ "v1 lone CR",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\rA1 NOOP\r\n"),
	  INVALID(V1_BAD_LINE_END) },
	{ "v1 lone LF",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\n"),
	  INVALID(V1_BAD_LINE_END) },
	{ "v1 CR CR LF",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\r\n"),
	  INVALID(V1_BAD_LINE_END) },
	{ "v1 LF CR",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\n\r"),
	  INVALID(V1_BAD_LINE_END) },
	{ "v1 unknown lone LF", TEXT("PROXY UNKNOWN\n"),
	  INVALID(V1_BAD_LINE_END) },
	{ "v1 PROXYx",
	  TEXT("PROXYx TCP4 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 PROXY tab",
	  TEXT("PROXY\tTCP4 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 no protocol", TEXT("PROXY \r\n"), INVALID(V1_BAD_SYNTAX) },
	{ "v1 space before protocol",
	  TEXT("PROXY  TCP4 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 empty source",
	  TEXT("PROXY TCP4  192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 double space",
	  TEXT("PROXY TCP4 192.0.2.1  198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 empty source port",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22  443\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 empty destination port",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324  443\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 trailing space",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443 \r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 tab between addresses",
	  TEXT("PROXY TCP4 192.0.2.1\t198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 missing port",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 extra field",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 443 0\r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 protocol only", TEXT("PROXY TCP4\r\n"), INVALID(V1_BAD_SYNTAX) },
	{ "v1 protocol and space", TEXT("PROXY TCP4 \r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 source only", TEXT("PROXY TCP4 192.0.2.1 \r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 addresses only",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 \r\n"),
	  INVALID(V1_BAD_SYNTAX) },
	{ "v1 TCP5", TEXT("PROXY TCP5 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_PROTOCOL) },
	{ "v1 lower case tcp4",
	  TEXT("PROXY tcp4 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_PROTOCOL) },
	{ "v1 UDP4", TEXT("PROXY UDP4 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_PROTOCOL) },
	{ "v1 UNKNOWNX", TEXT("PROXY UNKNOWNX\r\n"), INVALID(V1_BAD_PROTOCOL) },
	{ "v1 unknown tab", TEXT("PROXY UNKNOWN\tjunk\r\n"),
	  INVALID(V1_BAD_PROTOCOL) },
	{ "v1 tab after protocol",
	  TEXT("PROXY TCP4\t192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_PROTOCOL) },
	/* "PROXY TCP4" NUL " 192.0.2.1 198.51.100.22 56324 443" CRLF */
	{ "v1 NUL in protocol",
	  HEX("50524f5859 20 54435034 00 20 3139322e302e322e31 20 "
	      "3139382e35312e3130302e3232 20 3536333234 20 343433 0d0a"),
	  INVALID(V1_BAD_PROTOCOL) },
	{ "v1 ipv4 leading zero",
	  TEXT("PROXY TCP4 192.0.2.01 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 000",
	  TEXT("PROXY TCP4 192.000.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 256",
	  TEXT("PROXY TCP4 192.0.2.256 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 three parts",
	  TEXT("PROXY TCP4 192.0.2 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 five parts",
	  TEXT("PROXY TCP4 192.0.2.1.5 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 empty part",
	  TEXT("PROXY TCP4 192..2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 trailing dot",
	  TEXT("PROXY TCP4 192.0.2.1. 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 sign",
	  TEXT("PROXY TCP4 192.0.2.+1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 hex",
	  TEXT("PROXY TCP4 0xc0.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 name",
	  TEXT("PROXY TCP4 localhost 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	/* "PROXY TCP4 192.0.2.1" NUL " 198.51.100.22 56324 443" CRLF */
	{ "v1 NUL in address",
	  HEX("50524f5859 20 54435034 20 3139322e302e322e31 00 20 "
	      "3139382e35312e3130302e3232 20 3536333234 20 343433 0d0a"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv4 in tcp6",
	  TEXT("PROXY TCP6 192.0.2.1 198.51.100.22 56324 443\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 in tcp4",
	  TEXT("PROXY TCP4 2001:db8::1 2001:db8:0:1::22 56324 993\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	/* nginx with realip (nginx issue 1609): the client's address from a
	   PROXY header it received, its own from its socket. */
	{ "v1 mixed families",
	  TEXT("PROXY TCP4 192.0.2.1 2001:db8:0:1::22 56324 993\r\n"),
	  INVALID(V1_MIXED_FAMILIES) },
	{ "v1 mixed families tcp6",
	  TEXT("PROXY TCP6 2001:db8::1 127.0.0.1 1234 8083\r\n"),
	  INVALID(V1_MIXED_FAMILIES) },
	{ "v1 mixed families ipv6 source in tcp4",
	  TEXT("PROXY TCP4 2001:db8::1 127.0.0.1 1234 8083\r\n"),
	  INVALID(V1_MIXED_FAMILIES) },
	{ "v1 mixed families ipv4 destination in tcp6",
	  TEXT("PROXY TCP6 ::1 198.51.100.22 56324 993\r\n"),
	  INVALID(V1_MIXED_FAMILIES) },
	/* An IPv4 address and one of neither family. */
	{ "v1 ipv4 and a name in tcp6",
	  TEXT("PROXY TCP6 192.0.2.1 localhost 56324 993\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 and a bad ipv4 in tcp4",
	  TEXT("PROXY TCP4 2001:db8::1 127.0.0.256 1234 8083\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 five digits",
	  TEXT("PROXY TCP6 2001:db8::12345 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 two gaps", TEXT("PROXY TCP6 1::2::3 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 three colons", TEXT("PROXY TCP6 1:::2 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 seven groups", TEXT("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 nine groups",
	  TEXT("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	/* "::" stands for at least one group: no room after eight. */
	{ "v1 ipv6 eight groups then gap",
	  TEXT("PROXY TCP6 1:2:3:4:5:6:7:8:: ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 gap then eight groups",
	  TEXT("PROXY TCP6 ::1:2:3:4:5:6:7:8 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 leading colon",
	  TEXT("PROXY TCP6 :1:2:3:4:5:6:7:8 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 trailing colon", TEXT("PROXY TCP6 1::2: ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 single colon", TEXT("PROXY TCP6 : ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 zone", TEXT("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 brackets", TEXT("PROXY TCP6 [2001:db8::1] ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 bad digit", TEXT("PROXY TCP6 2001:db8::g ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 seven groups and ipv4",
	  TEXT("PROXY TCP6 1:2:3:4:5:6:7:192.0.2.1 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 gap leaves no room for ipv4",
	  TEXT("PROXY TCP6 1:2:3:4:5:6::192.0.2.1 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 embedded ipv4 leading zero",
	  TEXT("PROXY TCP6 ::ffff:192.0.2.01 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 ipv6 embedded ipv4 not last",
	  TEXT("PROXY TCP6 ::192.0.2.1:1 ::1 1 2\r\n"),
	  INVALID(V1_BAD_ADDRESS) },
	{ "v1 port leading zero",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 056324 443\r\n"),
	  INVALID(V1_BAD_PORT) },
	{ "v1 port 00", TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 00 443\r\n"),
	  INVALID(V1_BAD_PORT) },
	{ "v1 port 65536",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 65536 443\r\n"),
	  INVALID(V1_BAD_PORT) },
	{ "v1 port 99999",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 99999 443\r\n"),
	  INVALID(V1_BAD_PORT) },
	{ "v1 port six digits",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 100000 443\r\n"),
	  INVALID(V1_BAD_PORT) },
	{ "v1 port negative",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 -1 443\r\n"),
	  INVALID(V1_BAD_PORT) },
	{ "v1 port plus",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 +443 443\r\n"),
	  INVALID(V1_BAD_PORT) },
	{ "v1 port hex",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 0x1bb 443\r\n"),
	  INVALID(V1_BAD_PORT) },
	{ "v1 destination port",
	  TEXT("PROXY TCP4 192.0.2.1 198.51.100.22 56324 4a\r\n"),
	  INVALID(V1_BAD_PORT) },
	/* "PROXY TCP4 192.0.2.1 198.51.100.22 56324 44" NUL "3" CRLF */
	{ "v1 NUL in port",
	  HEX("50524f5859 20 54435034 20 3139322e302e322e31 20 "
	      "3139382e35312e3130302e3232 20 3536333234 20 3434 00 33 0d0a"),
	  INVALID(V1_BAD_PORT) },

	/* v2 fixed part and addresses, valid */
	{ "v2 local", HEX(SIG "20 00 0000"), COMPLETE(16) },
	/* The length must be honoured for LOCAL too. */
	{ "v2 local with tlvs", HEX(SIG "20 00 0008 04 0001 00 e0 0001 01"),
	  COMPLETE(24) },
	{ "v2 local with address", HEX(SIG "20 11 000c" TCP4_ADDR),
	  COMPLETE(28) },
	/* LOCAL discards its block, family included: nothing in it can
	   make the header invalid. */
	{ "v2 local family 4", HEX(SIG "20 40 0000"), COMPLETE(16) },
	{ "v2 local transport 15", HEX(SIG "20 0f 0000"), COMPLETE(16) },
	{ "v2 local tcp4 no address", HEX(SIG "20 11 0000"), COMPLETE(16) },
	{ "v2 local truncated tlv", HEX(SIG "20 00 0004 04 0005 00 00"),
	  COMPLETE(20) },
	{ "v2 tcp4", HEX(SIG "21 11 000c" TCP4_ADDR), COMPLETE(28) },
	{ "v2 tcp4 then data",
	  HEX(SIG "21 11 000c" TCP4_ADDR "4131204e4f4f500d0a"), COMPLETE(28) },
	{ "v2 tcp4 then tls",
	  HEX(SIG "21 11 000c" TCP4_ADDR "16 0301 00f4 01 0000f0 0303"),
	  COMPLETE(28) },
	{ "v2 tcp4 ports 0 and 65535",
	  HEX(SIG "21 11 000c c0000201 c6336416 0000 ffff"), COMPLETE(28) },
	{ "v2 udp4", HEX(SIG "21 12 000c" TCP4_ADDR), COMPLETE(28) },
	{ "v2 tcp6", HEX(SIG "21 21 0024" TCP6_ADDR), COMPLETE(52) },
	{ "v2 udp6", HEX(SIG "21 22 0024" TCP6_ADDR), COMPLETE(52) },
	{ "v2 unix stream", BUILD(build_v2_unix_stream), COMPLETE(251) },
	{ "v2 unix dgram", BUILD(build_v2_unix_dgram), COMPLETE(232) },
	{ "v2 proxy unspec", HEX(SIG "21 00 0000"), COMPLETE(16) },
	{ "v2 proxy unspec with tlv", HEX(SIG "21 00 0004 04 0001 00"),
	  COMPLETE(20) },
	{ "v2 unspec stream", HEX(SIG "21 01 0000"), COMPLETE(16) },
	{ "v2 inet unspec transport", HEX(SIG "21 10 000c" TCP4_ADDR),
	  COMPLETE(28) },
	{ "v2 max length", BUILD(build_v2_max_length),
	  COMPLETE(PROXY_V2_MAX_LENGTH) },

	/* v2 fixed part and addresses, invalid */
	{ "v2 signature byte 2", HEX("0d0d"), INVALID(NOT_PROXY) },
	{ "v2 signature NUL", HEX("0d0a0d0a 01"), INVALID(NOT_PROXY) },
	{ "v2 signature QUIS", HEX("0d0a0d0a 000d0a51 55495300"),
	  INVALID(NOT_PROXY) },
	{ "v2 signature last byte",
	  HEX("0d0a0d0a 000d0a51 5549540d 21 11 000c" TCP4_ADDR),
	  INVALID(NOT_PROXY) },
	{ "v2 CRLF then v1", HEX("0d0a 50524f5859 20"), INVALID(NOT_PROXY) },
	{ "v2 version 0", HEX(SIG "01 11 000c" TCP4_ADDR),
	  INVALID(V2_BAD_VERSION) },
	{ "v2 version 1", HEX(SIG "11 11 000c" TCP4_ADDR),
	  INVALID(V2_BAD_VERSION) },
	{ "v2 version 3", HEX(SIG "31 11 000c" TCP4_ADDR),
	  INVALID(V2_BAD_VERSION) },
	{ "v2 version 15", HEX(SIG "f1 11 000c" TCP4_ADDR),
	  INVALID(V2_BAD_VERSION) },
	/* Checked in byte order: version first. */
	{ "v2 bad version and family", HEX(SIG "11 41 000c" TCP4_ADDR),
	  INVALID(V2_BAD_VERSION) },
	{ "v2 command 2", HEX(SIG "22 11 000c" TCP4_ADDR),
	  INVALID(V2_BAD_COMMAND) },
	{ "v2 command 15", HEX(SIG "2f 11 000c" TCP4_ADDR),
	  INVALID(V2_BAD_COMMAND) },
	{ "v2 family 4", HEX(SIG "21 41 000c" TCP4_ADDR),
	  INVALID(V2_BAD_FAMILY) },
	{ "v2 family 15", HEX(SIG "21 f1 000c" TCP4_ADDR),
	  INVALID(V2_BAD_FAMILY) },
	{ "v2 transport 3", HEX(SIG "21 13 000c" TCP4_ADDR),
	  INVALID(V2_BAD_TRANSPORT) },
	{ "v2 transport 15", HEX(SIG "21 1f 000c" TCP4_ADDR),
	  INVALID(V2_BAD_TRANSPORT) },
	{ "v2 tcp4 short", HEX(SIG "21 11 000b c0000201 c6336416 dc04 01"),
	  INVALID(V2_SHORT_ADDRESS) },
	{ "v2 tcp4 no address", HEX(SIG "21 11 0000"),
	  INVALID(V2_SHORT_ADDRESS) },
	{ "v2 tcp6 short",
	  HEX(SIG "21 21 0023 20010db8 00000000 00000000 00000001 "
	      "20010db8 00000001 00000000 00000022 dc04 03"),
	  INVALID(V2_SHORT_ADDRESS) },
	{ "v2 unix short", BUILD(build_v2_unix_short),
	  INVALID(V2_SHORT_ADDRESS) },

	/* v2 TLVs, valid; each ends exactly at the header's end. */
	{ "tlv alpn", HEX(SIG "21 11 0013" TCP4_ADDR "01 0004 696d6170"),
	  COMPLETE(35) },
	{ "tlv authority", HEX(SIG "21 11 001f" TCP4_ADDR AUTHORITY_TLV),
	  COMPLETE(47) },
	{ "tlv unique id",
	  HEX(SIG "21 11 0018" TCP4_ADDR "05 0009 554e495155455f4944"),
	  COMPLETE(40) },
	{ "tlv unique id empty", HEX(SIG "21 11 000f" TCP4_ADDR "05 0000"),
	  COMPLETE(31) },
	{ "tlv unique id 128 bytes", BUILD(build_unique_id_128),
	  COMPLETE(159) },
	{ "tlv netns", HEX(SIG "21 11 0012" TCP4_ADDR "30 0003 726564"),
	  COMPLETE(34) },
	/* NOOP may repeat. */
	{ "tlv noop", HEX(SIG "21 11 0015" TCP4_ADDR "04 0000 04 0003 000000"),
	  COMPLETE(37) },
	/* Application (0xE0-0xEF, repeated), experimental (0xF0-0xF7),
	   future (0xF8-0xFF) and unassigned types: all skipped. */
	{ "tlv custom and reserved",
	  HEX(SIG "21 11 0037" TCP4_ADDR "e0 0001 01 ea 0002 0102 ee 0000 "
	      "ef 0001 ff e0 0000 f0 0000 f7 0001 00 f8 0002 0000 ff 0000 "
	      "00 0000 06 0000 31 0000"), COMPLETE(71) },
	/* client SSL|CERT_CONN|CERT_SESS, verify 0, every sub-TLV once:
	   VERSION "TLSv1.3", CN "alice", CIPHER "TLS_AES_256_GCM_SHA384",
	   SIG_ALG "RSA-SHA256", KEY_ALG "RSA2048", GROUP "X25519",
	   SIG_SCHEME "ecdsa_secp256r1_sha256", CLIENT_CERT 30 03 02 01 01. */
	{ "tlv ssl",
	  HEX(SIG "21 11 0080" TCP4_ADDR "20 0071 07 00000000 "
	      "21 0007 544c5376312e33 22 0005 616c696365 "
	      "23 0016 544c535f4145535f3235365f47434d5f534841333834 "
	      "24 000a 5253412d534841323536 25 0007 52534132303438 "
	      "26 0006 583235353139 "
	      "27 0016 65636473615f7365637032353672315f736861323536 "
	      "28 0005 3003020101"), COMPLETE(144) },
	/* The fixed part alone; verify is big-endian. */
	{ "tlv ssl verify",
	  HEX(SIG "21 11 0014" TCP4_ADDR "20 0005 00 01020304"),
	  COMPLETE(36) },
	{ "tlv ssl unknown sub-tlvs",
	  HEX(SIG "21 11 001f" TCP4_ADDR "20 0010 01 00000000 "
	      "29 0000 20 0000 21 0002 7631"), COMPLETE(47) },
	{ "v2 local crc32c", HEX(SIG "20 00 0007 03 0004 a9b87e8f"),
	  COMPLETE(23) },
	{ "haproxy vector", HEX(HAPROXY_HEAD "54fdc6ff" HAPROXY_TAIL),
	  COMPLETE(130) },
	/* TCP6 with AUTHORITY, UNIQUE_ID, SSL (VERSION, CN "alice") and
	   CRC32C 0xa8c0ceb3: what a TLS-terminating HAProxy sends. */
	{ "v2 tcp6 full",
	  HEX(SIG "21 21 007f" TCP6_ADDR "03 0004 a8c0ceb3" AUTHORITY_TLV
	      "05 0024 34663163396132652d376433352d346238652d"
	      "396336312d306132623363346435653666 "
	      "20 0017 07 00000000 21 0007 544c5376312e33 22 0005 616c696365"),
	  COMPLETE(143) },

	/* v2 TLVs, invalid */
	{ "tlv overrun", HEX(SIG "21 11 0013" TCP4_ADDR "01 0005 696d6170"),
	  INVALID(V2_TLV_TRUNCATED) },
	{ "tlv one byte", HEX(SIG "21 11 000d" TCP4_ADDR "04"),
	  INVALID(V2_TLV_TRUNCATED) },
	{ "tlv two bytes", HEX(SIG "21 11 000e" TCP4_ADDR "04 00"),
	  INVALID(V2_TLV_TRUNCATED) },
	{ "tlv overrun after good",
	  HEX(SIG "21 11 0016" TCP4_ADDR "01 0004 696d6170 04 0001"),
	  INVALID(V2_TLV_TRUNCATED) },
	/* The CN claims 5 bytes; the SSL TLV holds 3, the header more. */
	{ "tlv ssl sub-tlv overrun",
	  HEX(SIG "21 11 001f" TCP4_ADDR "20 000b 01 00000000 22 0005 616c69 "
	      "04 0002 6365"), INVALID(V2_TLV_TRUNCATED) },
	{ "tlv ssl sub-tlv header cut",
	  HEX(SIG "21 11 0016" TCP4_ADDR "20 0007 01 00000000 2200"),
	  INVALID(V2_TLV_TRUNCATED) },
	{ "tlv crc32c 3 bytes",
	  HEX(SIG "21 11 0012" TCP4_ADDR "03 0003 000000"),
	  INVALID(V2_BAD_TLV_LENGTH) },
	{ "tlv crc32c 5 bytes",
	  HEX(SIG "21 11 0014" TCP4_ADDR "03 0005 0000000000"),
	  INVALID(V2_BAD_TLV_LENGTH) },
	{ "tlv crc32c empty", HEX(SIG "21 11 000f" TCP4_ADDR "03 0000"),
	  INVALID(V2_BAD_TLV_LENGTH) },
	{ "tlv ssl 4 bytes",
	  HEX(SIG "21 11 0013" TCP4_ADDR "20 0004 01 000000"),
	  INVALID(V2_BAD_TLV_LENGTH) },
	{ "tlv ssl empty", HEX(SIG "21 11 000f" TCP4_ADDR "20 0000"),
	  INVALID(V2_BAD_TLV_LENGTH) },
	{ "tlv unique id 129 bytes", BUILD(build_unique_id_129),
	  INVALID(V2_BAD_TLV_LENGTH) },
	{ "tlv alpn twice",
	  HEX(SIG "21 11 0018" TCP4_ADDR "01 0004 696d6170 01 0002 6832"),
	  INVALID(V2_DUPLICATE_TLV) },
	{ "tlv authority twice",
	  HEX(SIG "21 11 0014" TCP4_ADDR "02 0001 61 02 0001 61"),
	  INVALID(V2_DUPLICATE_TLV) },
	{ "tlv unique id twice",
	  HEX(SIG "21 11 0014" TCP4_ADDR "05 0001 31 05 0001 32"),
	  INVALID(V2_DUPLICATE_TLV) },
	{ "tlv netns twice",
	  HEX(SIG "21 11 0014" TCP4_ADDR "30 0001 61 30 0001 62"),
	  INVALID(V2_DUPLICATE_TLV) },
	{ "tlv crc32c twice",
	  HEX(SIG "21 11 001a" TCP4_ADDR "03 0004 00000000 03 0004 00000000"),
	  INVALID(V2_DUPLICATE_TLV) },
	{ "tlv ssl twice",
	  HEX(SIG "21 11 001c" TCP4_ADDR "20 0005 00 00000000 "
	      "20 0005 00 00000000"), INVALID(V2_DUPLICATE_TLV) },
	{ "tlv ssl cn twice",
	  HEX(SIG "21 11 001c" TCP4_ADDR "20 000d 01 00000000 "
	      "22 0001 61 22 0001 62"), INVALID(V2_DUPLICATE_TLV) },
	{ "tlv ssl client cert twice",
	  HEX(SIG "21 11 001c" TCP4_ADDR "20 000d 07 00000000 "
	      "28 0001 30 28 0001 30"), INVALID(V2_DUPLICATE_TLV) },
	/* TLVs are checked in order: the repeat comes before the cut. */
	{ "tlv errors in order",
	  HEX(SIG "21 11 0015" TCP4_ADDR "05 0001 31 05 0001 32 04"),
	  INVALID(V2_DUPLICATE_TLV) },
	{ "haproxy vector bad crc32c",
	  HEX(HAPROXY_HEAD "54fdc6fe" HAPROXY_TAIL), INVALID(V2_CRC_MISMATCH) },
	/* One bit of the source port flipped. */
	{ "haproxy vector altered",
	  HEX(SIG "21 11 0072 7f000001 7f000001 b053 62a5 03 0004 54fdc6ff"
	      HAPROXY_TAIL), INVALID(V2_CRC_MISMATCH) },
	{ "v2 local crc32c zero", HEX(SIG "20 00 0007 03 0004 00000000"),
	  INVALID(V2_CRC_MISMATCH) },
};

const unsigned int test_vectors_count =
	sizeof(test_vectors) / sizeof(test_vectors[0]);

size_t test_hex_decode(const char *hex, unsigned char *out, size_t out_size)
{
	size_t size = 0;
	int high = -1;

	for (; *hex != '\0'; hex++) {
		int digit = proxy_hex_digit(*hex);

		if (*hex == ' ')
			continue;
		if (digit < 0 || (high < 0 && size == out_size)) {
			fprintf(stderr, "bad test hex at \"%s\"\n", hex);
			abort();
		}
		if (high < 0) {
			high = digit;
		} else {
			out[size++] = (unsigned char)(high << 4 | digit);
			high = -1;
		}
	}
	if (high >= 0) {
		fprintf(stderr, "odd number of hex digits\n");
		abort();
	}
	return size;
}

const struct test_vector *test_vector_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < test_vectors_count; i++) {
		if (strcmp(test_vectors[i].name, name) == 0)
			return &test_vectors[i];
	}
	return NULL;
}

void test_vector_load(const struct test_vector *vector, struct test_buf *buf)
{
	buf->size = 0;
	if (vector->text != NULL)
		buf_append(buf, vector->text, strlen(vector->text));
	else if (vector->hex != NULL)
		buf_append_hex(buf, vector->hex);
	else
		vector->build(buf);
}
