/* What came instead of a PROXY header, named from its first bytes: every
   kind, the bytes at the edges of each, and what a partial read says. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "haproxy-diagnosis.h"

static enum haproxy_diagnosis diagnose(const char *data, const char *protocol)
{
	return haproxy_diagnose((const unsigned char *)data, strlen(data),
				protocol);
}

static const char *what(const char *data, const char *protocol)
{
	return haproxy_diagnosis_what(diagnose(data, protocol),
				      (const unsigned char *)data,
				      strlen(data), protocol);
}

static void test_silent(void **state)
{
	(void)state;
	assert_int_equal(haproxy_diagnose(NULL, 0, "imap"),
			 HAPROXY_DIAGNOSIS_SILENT);
	assert_null(haproxy_diagnosis_what(HAPROXY_DIAGNOSIS_SILENT, NULL, 0,
					   "imap"));
	/* Only a peer that had to send a header gets the advice. */
	assert_non_null(strstr(haproxy_diagnosis_advice(
		HAPROXY_DIAGNOSIS_SILENT, true), "send-proxy-v2"));
	assert_null(haproxy_diagnosis_advice(HAPROXY_DIAGNOSIS_SILENT, false));
}

static void test_proxy_signature(void **state)
{
	static const unsigned char v2[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a, 0x21, 0x11
	};
	size_t size;

	(void)state;
	assert_int_equal(diagnose("PROXY TCP4 ", "imap"),
			 HAPROXY_DIAGNOSIS_PROXY_HEADER);
	assert_string_equal(what("PROXY TCP4 ", "imap"), "a PROXY v1 header");
	assert_int_equal(haproxy_diagnose(v2, sizeof(v2), "imap"),
			 HAPROXY_DIAGNOSIS_PROXY_HEADER);
	assert_string_equal(haproxy_diagnosis_what(
		HAPROXY_DIAGNOSIS_PROXY_HEADER, v2, sizeof(v2), "imap"),
		"a PROXY v2 header");
	/* Only a whole signature is one. */
	for (size = 1; size < 12; size++) {
		assert_int_not_equal(haproxy_diagnose(v2, size, "imap"),
				     HAPROXY_DIAGNOSIS_PROXY_HEADER);
	}
	assert_int_equal(diagnose("PROXY", "imap"), HAPROXY_DIAGNOSIS_OTHER);
	/* From a trusted peer a header is no mistake; from another one it
	   is the proxy's address missing from the list. */
	assert_null(haproxy_diagnosis_advice(HAPROXY_DIAGNOSIS_PROXY_HEADER,
					     true));
	assert_non_null(strstr(haproxy_diagnosis_advice(
		HAPROXY_DIAGNOSIS_PROXY_HEADER, false),
		"haproxy_trusted_networks"));
}

static void test_tls_client_hello(void **state)
{
	/* A record header and the start of a ClientHello, as OpenSSL
	   sends it. */
	static const unsigned char hello[] = {
		0x16, 0x03, 0x01, 0x02, 0x00, 0x01
	};
	static const unsigned char sslv2_version[] = { 0x16, 0x02, 0x00 };
	static const unsigned char unknown_minor[] = { 0x16, 0x03, 0x05 };
	size_t size;

	(void)state;
	for (size = 1; size <= sizeof(hello); size++) {
		assert_int_equal(haproxy_diagnose(hello, size, "imap"),
				 HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO);
	}
	assert_string_equal(haproxy_diagnosis_what(
		HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO, hello, sizeof(hello),
		"imap"), "a TLS ClientHello");
	assert_int_equal(haproxy_diagnose(sslv2_version, 3, "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(haproxy_diagnose(unknown_minor, 3, "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	/* Trusted: the proxy passes TLS through without a header. Not
	   trusted: a client on the wrong port. */
	assert_non_null(strstr(haproxy_diagnosis_advice(
		HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO, true), "send-proxy-v2"));
	assert_non_null(strstr(haproxy_diagnosis_advice(
		HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO, false),
		"haproxy_direct_networks"));
}

static void test_http_request(void **state)
{
	(void)state;
	assert_int_equal(diagnose("GET / HTTP/1.0\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_HTTP_REQUEST);
	assert_int_equal(diagnose("OPTIONS / HTTP/1.1\r\n", "pop3"),
			 HAPROXY_DIAGNOSIS_HTTP_REQUEST);
	assert_int_equal(diagnose("head / HTTP/1.0\r\n", "sieve"),
			 HAPROXY_DIAGNOSIS_HTTP_REQUEST);
	assert_string_equal(what("GET / HTTP/1.0\r\n", "imap"),
			    "an HTTP request");
	/* A method is a whole word, and it is known only once the byte
	   after it has come. */
	assert_int_equal(diagnose("GETX / HTTP/1.0\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose("GET", "imap"), HAPROXY_DIAGNOSIS_OTHER);
	assert_non_null(strstr(haproxy_diagnosis_advice(
		HAPROXY_DIAGNOSIS_HTTP_REQUEST, true), "check-send-proxy"));
}

static void test_client_commands(void **state)
{
	(void)state;
	assert_int_equal(diagnose("a1 LOGIN alice secret\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_CLIENT_COMMAND);
	assert_string_equal(what("a1 LOGIN alice secret\r\n", "imap"),
			    "an IMAP command");
	assert_int_equal(diagnose("1 capability\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_CLIENT_COMMAND);
	assert_string_equal(what("USER alice\r\n", "pop3"), "a POP3 command");
	assert_string_equal(what("CAPA\r\n", "pop3"), "a POP3 command");
	assert_string_equal(what("EHLO client.example\r\n", "submission"),
			    "an SMTP command");
	assert_string_equal(what("AUTHENTICATE \"PLAIN\"\r\n", "sieve"),
			    "a ManageSieve command");
	/* Commands of another protocol, or of no protocol the plugin
	   knows, are just bytes. */
	assert_int_equal(diagnose("USER alice\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose("a1 LOGIN alice secret\r\n", "pop3"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose("LHLO client\r\n", "lmtp"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose("QUITTER\r\n", "pop3"),
			 HAPROXY_DIAGNOSIS_OTHER);
}

static void test_imap_tags(void **state)
{
	(void)state;
	/* IMAP commands come after a tag of atom characters. */
	assert_int_equal(diagnose("LOGIN alice secret\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose(" LOGIN alice secret\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose("a( LOGIN alice secret\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose("+ LOGIN alice secret\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	/* Unlike an atom, a tag may hold ']'. */
	assert_int_equal(diagnose("a] LOGIN alice secret\r\n", "imap"),
			 HAPROXY_DIAGNOSIS_CLIENT_COMMAND);
	assert_int_equal(diagnose("a1", "imap"), HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose("a1 NOOP", "imap"), HAPROXY_DIAGNOSIS_OTHER);
	assert_int_equal(diagnose("a1 NOOP\r", "imap"),
			 HAPROXY_DIAGNOSIS_CLIENT_COMMAND);
}

static void test_tokens(void **state)
{
	static const struct {
		enum haproxy_diagnosis diagnosis;
		const char *token;
	} tokens[] = {
		{ HAPROXY_DIAGNOSIS_OTHER, "other" },
		{ HAPROXY_DIAGNOSIS_SILENT, "silent" },
		{ HAPROXY_DIAGNOSIS_PROXY_HEADER, "proxy_header" },
		{ HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO, "tls_client_hello" },
		{ HAPROXY_DIAGNOSIS_HTTP_REQUEST, "http_request" },
		{ HAPROXY_DIAGNOSIS_CLIENT_COMMAND, "client_command" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		assert_string_equal(haproxy_diagnosis_token(tokens[i].diagnosis),
				    tokens[i].token);
	}
	assert_int_equal(diagnose("\x01\x02\x03", "imap"),
			 HAPROXY_DIAGNOSIS_OTHER);
	assert_null(what("\x01\x02\x03", "imap"));
	assert_null(haproxy_diagnosis_advice(HAPROXY_DIAGNOSIS_OTHER, true));
}

/* Decoder errors with a usual cause get it; the others say enough. */
static void test_error_advice(void **state)
{
	const char *advice =
		haproxy_error_advice(PROXY_ERROR_V1_MIXED_FAMILIES);

	(void)state;
	assert_non_null(strstr(advice, "mixed address families"));
	assert_non_null(strstr(advice, "nginx"));
	assert_null(haproxy_error_advice(PROXY_ERROR_V1_BAD_ADDRESS));
	assert_null(haproxy_error_advice(PROXY_ERROR_V2_CRC_MISMATCH));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_proxy_signature),
		cmocka_unit_test(test_tls_client_hello),
		cmocka_unit_test(test_http_request),
		cmocka_unit_test(test_client_commands),
		cmocka_unit_test(test_imap_tags),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_error_advice),
	};

	/* TAP is what build-aux/tap-driver.sh reads. */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
