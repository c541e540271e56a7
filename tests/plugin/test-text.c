/* haproxy_ip_str(), which writes the addresses of every header's event and
   log line without printf(), against the C library's inet_ntop(): RFC
   5952's examples, the edges of "::" and of embedded IPv4, and random
   addresses whose groups are often zero, so that runs of zero groups of
   every length and place come up. It pins the README's "Logs and events":
   the lines name the peer as rip, and on Dovecot 2.3 the events' address
   fields (remote_ip, src_ip, ...) are these strings, which must read as
   Dovecot's own do; a link-local address keeps its interface as Dovecot
   2.4's net_ip2addr() writes it. Bytes from the wire come out printable
   and cut where told. It uses Dovecot's data stack, so this test links
   libdovecot. */

#include "lib.h"
#include "net.h"
#include "haproxy-text.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>

#define RANDOM_ADDRESSES 200000

/* A fixed pseudo-random sequence (xorshift32): failures reproduce. */
static uint32_t test_random(void)
{
	static uint32_t state = 2463534242u;

	state ^= state << 13;
	state ^= state >> 17;
	state ^= state << 5;
	return state;
}

/* The plugin's text of ip, copied out of the data stack (an assertion
   that fails must not leave a frame open). */
static const char *ip_str(const struct ip_addr *ip)
{
	static char str[INET6_ADDRSTRLEN];

	T_BEGIN {
		i_strocpy(str, haproxy_ip_str(ip), sizeof(str));
	} T_END;
	return str;
}

/* ip formatted by the plugin must be what inet_ntop() writes. */
static void assert_like_inet_ntop(const struct ip_addr *ip)
{
	char expected[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(ip->family, &ip->u, expected,
				  sizeof(expected)));
	assert_string_equal(ip_str(ip), expected);
}

static struct ip_addr ip6_parse(const char *str)
{
	struct ip_addr ip;

	i_zero(&ip);
	ip.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, str, &ip.u.ip6), 1);
	return ip;
}

/* RFC 5952, section 4: the canonical text of each address, written here
   as the RFC prints it, whatever spelling goes in. */
static void test_rfc5952(void **state)
{
	static const struct {
		const char *in, *canonical;
	} cases[] = {
		/* 4.1: no leading zeros */
		{ "2001:0db8::0001", "2001:db8::1" },
		/* 4.2.1: "::" as long as possible */
		{ "2001:db8:0:0:0:0:2:1", "2001:db8::2:1" },
		/* 4.2.2: never for a single zero group */
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		/* 4.2.3: the longest run; the first of equal ones */
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		/* 4.3: lower case */
		{ "2001:DB8::ABCD", "2001:db8::abcd" },
		/* the edges */
		{ "::", "::" },
		{ "::1", "::1" },
		{ "1::", "1::" },
		{ "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0" },
		{ "::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		/* 5: IPv4-mapped with a dotted quad */
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct ip_addr ip = ip6_parse(cases[i].in);

		assert_string_equal(ip_str(&ip), cases[i].canonical);
		assert_like_inet_ntop(&ip);
	}
}

/* Where inet_ntop() writes a dotted quad at the end: every address of
   the first 96 zero bits or ::ffff:0:0/96, and those just outside. */
static void test_embedded_ipv4(void **state)
{
	static const char *const cases[] = {
		"::2", "::ffff", "::1:0", "::1:2", "::ffff:0", "::ffff:1",
		"::ffff:0:0", "::ffff:0:1", "::ffff:1:0", "::fffe:1:2",
		"::1:ffff:1:2", "0:0:0:0:1::", "::1:0:0", "::ffff:ffff:ffff",
		"::1:0:1:2", "1::ffff:1:2",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct ip_addr ip = ip6_parse(cases[i]);

		assert_like_inet_ntop(&ip);
	}
}

/* A 16-bit group: zero half of the time, else of a random width, so that
   leading zeros of each count are left out. */
static uint16_t random_group(void)
{
	uint32_t r = test_random();

	if ((r & 1) != 0)
		return 0;
	return (uint16_t)((r >> 8) >> ((r >> 1) % 16));
}

static void test_random_ipv6(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < RANDOM_ADDRESSES; i++) {
		struct ip_addr ip;

		i_zero(&ip);
		ip.family = AF_INET6;
		for (j = 0; j < 8; j++) {
			uint16_t group = random_group();

			ip.u.ip6.s6_addr[2 * j] = group >> 8;
			ip.u.ip6.s6_addr[2 * j + 1] = group & 0xff;
		}
		/* Now and then the prefixes inet_ntop() treats apart. */
		if (i % 16 == 0)
			memset(ip.u.ip6.s6_addr, 0, 10 + (i / 16) % 3);
		if (i % 32 == 0)
			memset(ip.u.ip6.s6_addr + 10, 0xff, 2);
		assert_like_inet_ntop(&ip);
	}
}

static void test_random_ipv4(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < RANDOM_ADDRESSES; i++) {
		struct ip_addr ip;
		uint32_t r = test_random();

		i_zero(&ip);
		ip.family = AF_INET;
		/* Octets of one, two and three digits alike. */
		for (j = 0; j < 4; j++) {
			unsigned int width = (r >> (8 * j)) % 3;

			((unsigned char *)&ip.u.ip4)[j] = width == 0 ?
				(r >> (8 * j + 2)) % 10 : width == 1 ?
				10 + (r >> (8 * j + 2)) % 90 :
				100 + (r >> (8 * j + 2)) % 156;
		}
		assert_like_inet_ntop(&ip);
	}
}

/* IPv6 in brackets, so that its last group is not read as the port. */
static void test_ip_port(void **state)
{
	struct ip_addr ip6 = ip6_parse("2001:db8::1"), ip4;
	char str[64];

	(void)state;
	i_zero(&ip4);
	ip4.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", &ip4.u.ip4), 1);
	T_BEGIN {
		i_strocpy(str, haproxy_ip_port_str(&ip6, 143), sizeof(str));
	} T_END;
	assert_string_equal(str, "[2001:db8::1]:143");
	T_BEGIN {
		i_strocpy(str, haproxy_ip_port_str(&ip4, 65535), sizeof(str));
	} T_END;
	assert_string_equal(str, "192.0.2.1:65535");
}

/* ip as the Dovecot built against writes it. */
static void assert_like_dovecot(const struct ip_addr *ip)
{
	assert_string_equal(ip_str(ip), net_ip2addr(ip));
}

/* A link-local address keeps its interface, as a peer's address from
   accept() has it on Dovecot 2.4. 2.3's struct ip_addr has no place for
   it, and its net_addr2ip() refuses the text: the address alone then. */
static void test_ip_str_scope(void **state)
{
	static const char *const addresses[] = {
		"fe80::1%lo", "fe80::a:b:c:d%lo", "2001:db8::1%lo",
	};
	struct ip_addr ip;
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(addresses); i++) {
		i_zero(&ip);
		if (net_addr2ip(addresses[i], &ip) < 0) {
			assert_int_equal(net_addr2ip(t_strcut(addresses[i], '%'),
						     &ip), 0);
		}
		assert_like_dovecot(&ip);
	}
}

static void test_escape(void **state)
{
	(void)state;
	assert_string_equal(haproxy_escape("plain text", 10, 64),
			    "plain text");
	assert_string_equal(haproxy_escape("a\tb\\c\"d\x7f\xff", 9, 64),
			    "a\\x09b\\x5cc\\x22d\\x7f\\xff");
	assert_string_equal(haproxy_escape("\0\r\n", 3, 64),
			    "\\x00\\x0d\\x0a");
	/* Cut after max bytes, escaped or not. */
	assert_string_equal(haproxy_escape("abcdef", 6, 4), "abcd...");
	assert_string_equal(haproxy_escape("\x01\x02\x03", 3, 2),
			    "\\x01\\x02...");
	assert_string_equal(haproxy_escape("ab\x01", 3, 2), "ab...");
	assert_string_equal(haproxy_escape("", 0, 4), "");
}

static void test_hex_byte(void **state)
{
	(void)state;
	assert_string_equal(p_haproxy_hex_byte(pool_datastack_create(),
					       "haproxy_tlv_", 0xe5),
			    "haproxy_tlv_0xe5");
	assert_string_equal(p_haproxy_hex_byte(pool_datastack_create(), "",
					       0x0a), "0x0a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5952),
		cmocka_unit_test(test_embedded_ipv4),
		cmocka_unit_test(test_random_ipv6),
		cmocka_unit_test(test_random_ipv4),
		cmocka_unit_test(test_ip_port),
		cmocka_unit_test(test_ip_str_scope),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_hex_byte),
	};
	int ret;

	lib_init();
	/* TAP is what build-aux/tap-driver.sh reads. */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	lib_deinit();
	return ret;
}
