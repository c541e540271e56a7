/* haproxy-text.c, the plugin's own printing of addresses and wire bytes,
   linked with the Dovecot it was built for: an address reads exactly as
   that Dovecot's net_ip2addr() writes it, whatever the address, scope ID
   included; bytes from the wire come out printable and cut where told. */

#include "lib.h"
#include "net.h"
#include "haproxy-text.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define N_ELEMENTS_OF(array) (sizeof(array) / sizeof((array)[0]))

static void assert_like_dovecot(const struct ip_addr *ip)
{
	assert_string_equal(haproxy_ip_str(ip), net_ip2addr(ip));
}

static void assert_text_like_dovecot(const char *text)
{
	struct ip_addr ip;

	i_zero(&ip);
	assert_int_equal(net_addr2ip(text, &ip), 0);
	assert_like_dovecot(&ip);
}

static void test_ip_str_edges(void **state)
{
	static const char *const addresses[] = {
		"0.0.0.0", "1.2.3.4", "10.0.0.1", "99.100.109.110",
		"255.255.255.255",
		"::", "::1", "1::", "2001:db8::1", "2001:db8:0:0:1:0:0:1",
		"1:0:0:1:0:0:0:1", "1:0:1:0:1:0:1:0", "0:1:0:1:0:1:0:1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "abcd:ef01::",
		"fe80::1",
		/* Written with a dotted quad by inet_ntop(). */
		"::ffff:1.2.3.4", "::1.2.3.4", "::ffff:0.0.0.0",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < N_ELEMENTS_OF(addresses); i++)
		assert_text_like_dovecot(addresses[i]);
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
	for (i = 0; i < N_ELEMENTS_OF(addresses); i++) {
		i_zero(&ip);
		if (net_addr2ip(addresses[i], &ip) < 0) {
			assert_int_equal(net_addr2ip(t_strcut(addresses[i], '%'),
						     &ip), 0);
		}
		assert_like_dovecot(&ip);
	}
}

/* A fixed sequence: a failure reproduces. */
static unsigned int test_random_state = 1;

static unsigned int test_random(void)
{
	test_random_state = test_random_state * 1103515245 + 12345;
	return test_random_state >> 8;
}

static void test_ip_str_random(void **state)
{
	struct ip_addr ip;
	unsigned int i, j;

	(void)state;
	for (i = 0; i < 20000; i++) {
		i_zero(&ip);
		if (i % 4 == 0) {
			ip.family = AF_INET;
			ip.u.ip4.s_addr = test_random();
		} else {
			unsigned char *bytes = (unsigned char *)&ip.u.ip6;

			ip.family = AF_INET6;
			/* Zero groups often, to make runs of them. */
			for (j = 0; j < 8; j++) {
				unsigned int group = test_random() % 3 == 0 ?
					test_random() & 0xffff : 0;

				bytes[2 * j] = group >> 8;
				bytes[2 * j + 1] = group & 0xff;
			}
		}
		T_BEGIN {
			assert_like_dovecot(&ip);
		} T_END;
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
		cmocka_unit_test(test_ip_str_edges),
		cmocka_unit_test(test_ip_str_scope),
		cmocka_unit_test(test_ip_str_random),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_hex_byte),
	};
	int ret;

	lib_init();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	lib_deinit();
	return ret;
}
