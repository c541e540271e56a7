/* libFuzzer harness for the plugin's path from a decoded header to what
   Dovecot and the login client get: haproxy_header_apply() fills the
   connection (addresses, secured, local name, certificate user name, ALPN)
   and the facts that become the client's event fields and forward
   fields. The plugin's own code runs, compiled with the fuzzer's
   instrumentation and linked with the Dovecot it is built for.

   Besides what ASan and UBSan catch, on any input that decodes:
   - a rejected header has a stable error code, and its sentence is
     printable;
   - the addresses read as that Dovecot's net_ip2addr() writes them;
   - a local name and a certificate user name are names: 1 to 255 bytes,
     no control character (no space in a host name); a certificate user
     name only from a certificate the proxy verified;
   - every fact's key is haproxy_ and lower case letters, digits and '_',
     no key twice, and every value printable ASCII, so that no escaping
     of Dovecot's can split a forward field or an event field;
   - the facts are bounded in number and size, and what reaches auth (local
     name, certificate user name, forward fields) stays under
     AUTH_BUDGET bytes, as the manual promises.
   Any broken promise aborts. */

#include "lib.h"
#include "array.h"
#include "net.h"
#include "login-common.h"
#include "haproxy-compat.h"
#include "proxy-decoder.h"
#include "haproxy-text.h"
#include "haproxy-client.h"
#include "haproxy-header.h"

#include <stdio.h>
#include <stdlib.h>

/* What reaches auth, at most: "all of it together under 2.5 KiB". */
#define AUTH_BUDGET 2560
/* Facts of a header, at most: 17 of the spec's TLVs, 6 endpoint IDs, 32
   other types and the count of the rest. */
#define FACTS_MAX (17 + 6 + 32 + 1)
/* The longest value: an escaped 256 bytes and "...". */
#define VALUE_MAX (256 * 4 + 3)

#define check(expr) \
	((expr) ? (void)0 : check_failed(#expr, __LINE__))

static void check_failed(const char *expr, int line)
{
	fprintf(stderr, "fuzz-plugin.c:%d: broken promise: %s\n", line, expr);
	abort();
}

static struct event *fuzz_event;

/* Debug lines are formatted, as with log_debug = category=haproxy, and
   dropped. */
static void ATTR_FORMAT(2, 0)
fuzz_log(const struct failure_context *ctx ATTR_UNUSED, const char *format,
	 va_list args)
{
	T_BEGIN {
		(void)t_strdup_vprintf(format, args);
	} T_END;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	lib_init();
	i_set_debug_handler(fuzz_log);
	i_set_info_handler(fuzz_log);
	i_set_error_handler(fuzz_log);
	fuzz_event = event_create(NULL);
	event_set_forced_debug(fuzz_event, TRUE);
	return 0;
}

static bool is_printable(const char *str)
{
	for (; *str != '\0'; str++) {
		if (*str < 0x20 || *str > 0x7e)
			return FALSE;
	}
	return TRUE;
}

static bool is_token(const char *str)
{
	if (*str == '\0')
		return FALSE;
	for (; *str != '\0'; str++) {
		if (!((*str >= 'a' && *str <= 'z') ||
		      (*str >= '0' && *str <= '9') || *str == '_'))
			return FALSE;
	}
	return TRUE;
}

/* A name: 1 to 255 bytes, no control character, and for a host name no
   space. Returns its length. */
static size_t check_name(const char *name, bool spaces)
{
	size_t len = strlen(name), i;

	check(len >= 1 && len <= 255);
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		check(c >= 0x20 && c != 0x7f);
		check(spaces || c != ' ');
	}
	return len;
}

static void check_address(const struct ip_addr *ip)
{
	check(strcmp(haproxy_ip_str(ip), net_ip2addr(ip)) == 0);
}

static void
check_connection(const struct proxy_header *hdr,
		 const struct master_service_connection *conn,
		 const struct haproxy_facts *facts, size_t *auth_bytes)
{
	const struct proxy_ssl *ssl = &hdr->ssl;

	check_address(&conn->remote_ip);
	check_address(&conn->local_ip);
	if (!CONN_PROXIED(conn)) {
		/* LOCAL, UNKNOWN, UNSPEC: the connection's own. */
		check(!CONN_PROXY(conn).ssl &&
		      CONN_PROXY(conn).hostname == NULL &&
		      CONN_PROXY(conn).cert_common_name == NULL &&
		      CONN_PROXY(conn).alpn == NULL);
		return;
	}
	check(CONN_PROXY(conn).ssl ==
	      (ssl->present && (ssl->client & PROXY_SSL_CLIENT_SSL) != 0));
	if (CONN_PROXY(conn).hostname != NULL) {
		check(facts != NULL &&
		      CONN_PROXY(conn).hostname == facts->hostname);
		*auth_bytes += check_name(CONN_PROXY(conn).hostname, FALSE);
	}
	if (CONN_PROXY(conn).cert_common_name != NULL) {
		check(facts != NULL && CONN_PROXY(conn).cert_common_name ==
		      facts->cert_common_name);
		check(ssl->verify == 0 &&
		      (ssl->client & (PROXY_SSL_CLIENT_CERT_CONN |
				      PROXY_SSL_CLIENT_CERT_SESS)) != 0);
		*auth_bytes += check_name(CONN_PROXY(conn).cert_common_name,
					  TRUE);
	}
	check(CONN_PROXY(conn).alpn_size ==
	      (hdr->alpn.data == NULL ? 0 : hdr->alpn.size));
}

static void check_facts(const struct haproxy_facts *facts, size_t *auth_bytes)
{
	const struct haproxy_fact *fact, *other;

	check(array_count(&facts->fields) <= FACTS_MAX);
	array_foreach(&facts->fields, fact) {
		check(strncmp(fact->key, "haproxy_", 8) == 0);
		check(is_token(fact->key + 8));
		check(strlen(fact->value) <= VALUE_MAX);
		check(is_printable(fact->value));
		for (other = array_front(&facts->fields); other != fact;
		     other++)
			check(strcmp(other->key, fact->key) != 0);
		/* key=value, and the separator */
		if (fact->forward)
			*auth_bytes += strlen(fact->key) + strlen(fact->value) + 2;
	}
}

/* The facts as the client's event gets them. */
static void add_to_event(const struct haproxy_facts *facts)
{
	struct event *event = event_create(fuzz_event);
	const struct haproxy_fact *fact;

	array_foreach(&facts->fields, fact)
		event_add_str(event, fact->key, fact->value);
	e_debug(event, "facts");
	event_unref(&event);
}

static void apply(const struct proxy_header *hdr)
{
	struct master_service_connection conn;
	struct haproxy_facts *facts = hdr->tlvs.size == 0 ? NULL :
		haproxy_facts_new(-1);
	const char *error_code, *error;
	size_t auth_bytes = 0;

	i_zero(&conn);
	conn.fd = -1;
	conn.name = "fuzz";
	(void)net_addr2ip("127.0.0.1", &conn.real_remote_ip);
	(void)net_addr2ip("127.0.0.3", &conn.real_local_ip);
	conn.real_remote_port = 40000;
	conn.real_local_port = 143;
	conn.remote_ip = conn.real_remote_ip;
	conn.local_ip = conn.real_local_ip;
	conn.remote_port = conn.real_remote_port;
	conn.local_port = conn.real_local_port;

	if (!haproxy_header_apply(hdr, &conn, facts, fuzz_event,
				  &error_code, &error)) {
		check(is_token(error_code));
		check(is_printable(error));
	} else {
		check_connection(hdr, &conn, facts, &auth_bytes);
		if (facts != NULL) {
			check_facts(facts, &auth_bytes);
			add_to_event(facts);
		}
		check(auth_bytes <= AUTH_BUDGET);
	}
	if (facts != NULL)
		haproxy_facts_free(&facts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header hdr;
	enum proxy_error error;
	size_t need;

	if (proxy_decode(data, size, &hdr, &need, &error) !=
	    PROXY_RESULT_COMPLETE)
		return 0;
	T_BEGIN {
		apply(&hdr);
	} T_END;
	return 0;
}
