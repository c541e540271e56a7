/* haproxy-conn.c linked with the Dovecot it is built for, on one end of a
   socketpair whose other end plays the proxy: a header that is already
   there when the connection is handed over is decided at once, and the
   connection goes back to Dovecot. One that is passed on carries the
   header's facts; one that is closed (a rejected header, a health check)
   goes back as it came, with no pointer into what the plugin freed. */

#include "lib.h"
#include "ioloop.h"
#include "net.h"
#include "login-common.h"
#include "master-service.h"
#include "haproxy-compat.h"
#include "haproxy-networks.h"
#include "haproxy-policy.h"
#include "haproxy-event.h"
#include "haproxy-client.h"
#include "haproxy-conn.h"
#include "proxy-encoder.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/socket.h>

#define PROXY_PORT 40000

static struct login_binary test_login_binary = {
	.protocol = "imap",
	.process_name = "imap-login",
};

static struct haproxy_listener test_listener;
static unsigned int test_passed;
static struct master_service_connection test_passed_conn;

static void test_callback(struct master_service_connection *conn)
{
	test_passed++;
	test_passed_conn = *conn;
}

/* A connection from the proxy at 127.0.0.1:PROXY_PORT whose socket holds
   data and, if closed, then the proxy's FIN. *peer_r is the proxy's end. */
static void
conn_with(struct master_service_connection *conn_r, int *peer_r,
	  const void *data, size_t size, bool closed)
{
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	assert_int_equal(write(fds[1], data, size), (ssize_t)size);
	if (closed)
		assert_int_equal(shutdown(fds[1], SHUT_WR), 0);
	net_set_nonblock(fds[0], TRUE);

	i_zero(conn_r);
	conn_r->fd = fds[0];
	conn_r->listen_fd = -1;
	conn_r->name = "test";
	assert_int_equal(net_addr2ip("127.0.0.1", &conn_r->real_remote_ip), 0);
	assert_int_equal(net_addr2ip("127.0.0.3", &conn_r->real_local_ip), 0);
	conn_r->real_remote_port = PROXY_PORT;
	conn_r->real_local_port = 143;
	conn_r->remote_ip = conn_r->real_remote_ip;
	conn_r->local_ip = conn_r->real_local_ip;
	conn_r->remote_port = conn_r->real_remote_port;
	conn_r->local_port = conn_r->real_local_port;
	*peer_r = fds[1];
}

/* A v2 PROXY header from src:src_port to 127.0.0.3:143 with an AUTHORITY,
   an ALPN and a verified client certificate's CN: every fact that
   master_service_connection points at. */
static size_t
header_with_facts(unsigned char *buf, size_t size, const char *src,
		  in_port_t src_port, enum proxy_family family)
{
	struct proxy_header hdr;
	struct ip_addr ip;
	const char *error;
	size_t length;

	i_zero(&hdr);
	hdr.version = 2;
	hdr.command = PROXY_CMD_PROXY;
	hdr.family = family;
	hdr.transport = PROXY_TRANSPORT_STREAM;
	if (family == PROXY_AF_INET) {
		assert_int_equal(net_addr2ip(src, &ip), 0);
		memcpy(hdr.src.addr, &ip.u.ip4, 4);
		assert_int_equal(net_addr2ip("127.0.0.3", &ip), 0);
		memcpy(hdr.dst.addr, &ip.u.ip4, 4);
		hdr.src.port = src_port;
		hdr.dst.port = 143;
	} else {
		hdr.src.path.data = (const unsigned char *)"/run/client";
		hdr.src.path.size = 11;
		hdr.dst.path.data = (const unsigned char *)"/run/server";
		hdr.dst.path.size = 11;
	}
	hdr.authority.data = (const unsigned char *)"mail.example.test";
	hdr.authority.size = 17;
	hdr.alpn.data = (const unsigned char *)"imap";
	hdr.alpn.size = 4;
	hdr.ssl.present = TRUE;
	hdr.ssl.client = PROXY_SSL_CLIENT_SSL | PROXY_SSL_CLIENT_CERT_CONN;
	hdr.ssl.cn.data = (const unsigned char *)"alice";
	hdr.ssl.cn.size = 5;
	length = proxy_encode(&hdr, NULL, 0, buf, size, &error);
	assert_true(length > 0 && length <= size);
	return length;
}

/* The connection was not passed on, and conn is what Dovecot got back:
   the one it handed over, untouched. */
static void
assert_as_it_came(const struct master_service_connection *conn,
		  const struct master_service_connection *came)
{
	assert_int_equal(test_passed, 0);
	assert_false(conn->accepted);
	assert_int_equal(conn->fd, came->fd);
	assert_true(net_ip_compare(&conn->remote_ip, &came->remote_ip));
	assert_int_equal(conn->remote_port, came->remote_port);
	assert_false(CONN_PROXIED(conn));
	assert_null(CONN_PROXY(conn).hostname);
	assert_null(CONN_PROXY(conn).cert_common_name);
	assert_null(CONN_PROXY(conn).alpn);
	assert_false(CONN_PROXY(conn).ssl);
}

static void run(const void *data, size_t size, bool closed,
		struct master_service_connection *conn_r,
		struct master_service_connection *came_r, int *peer_r)
{
	test_passed = 0;
	conn_with(conn_r, peer_r, data, size, closed);
	*came_r = *conn_r;
	haproxy_conn_new(&test_listener, conn_r, test_callback);
}

static void test_passed_on(void **state)
{
	struct master_service_connection conn, came;
	unsigned char buf[256];
	size_t size = header_with_facts(buf, sizeof(buf), "198.51.100.7",
					40001, PROXY_AF_INET);
	int peer;

	(void)state;
	run(buf, size, FALSE, &conn, &came, &peer);
	assert_int_equal(test_passed, 1);
	assert_true(CONN_PROXIED(&test_passed_conn));
	assert_int_equal(test_passed_conn.remote_port, 40001);
	assert_string_equal(CONN_PROXY(&test_passed_conn).hostname,
			    "mail.example.test");
	assert_string_equal(CONN_PROXY(&test_passed_conn).cert_common_name,
			    "alice");
	/* The facts wait for the client that the callback did not make. */
	haproxy_facts_forget(conn.fd);
	i_close_fd(&conn.fd);
	i_close_fd(&peer);
}

/* data, and the proxy's FIN if closed, make a connection that is closed:
   it goes back as it came. */
static void assert_closed_as_it_came(const void *data, size_t size,
				     bool closed)
{
	struct master_service_connection conn, came;
	int peer;

	run(data, size, closed, &conn, &came, &peer);
	assert_as_it_came(&conn, &came);
	i_close_fd(&conn.fd);
	i_close_fd(&peer);
}

static void test_health_check(void **state)
{
	unsigned char buf[256];
	/* The proxy's own address: its connection, closed after the header. */
	size_t size = header_with_facts(buf, sizeof(buf), "127.0.0.1",
					PROXY_PORT, PROXY_AF_INET);

	(void)state;
	assert_closed_as_it_came(buf, size, TRUE);
}

static void test_rejected(void **state)
{
	unsigned char buf[512];
	size_t size = header_with_facts(buf, sizeof(buf), NULL, 0,
					PROXY_AF_UNIX);

	(void)state;
	assert_closed_as_it_came(buf, size, FALSE);
}

static void test_garbage(void **state)
{
	(void)state;
	assert_closed_as_it_came("a LOGIN alice secret\r\n", 22, FALSE);
}

int main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passed_on),
		cmocka_unit_test(test_health_check),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_garbage),
	};
	struct haproxy_networks *trusted;
	struct ioloop *ioloop;
	const char *error;
	pool_t pool;
	int ret;

	master_service = master_service_init("test-conn",
		MASTER_SERVICE_FLAG_STANDALONE |
		MASTER_SERVICE_FLAG_DONT_SEND_STATS |
		MASTER_SERVICE_FLAG_NO_SSL_INIT, &argc, &argv, "");
	ioloop = io_loop_create();
	login_binary = &test_login_binary;
	pool = pool_alloconly_create("test-conn", 256);
	trusted = haproxy_networks_parse(pool, "haproxy_trusted_networks",
					 "127.0.0.1", &error);
	i_assert(trusted != NULL);
	haproxy_policy_init(trusted);
	haproxy_conns_init(3);
	test_listener.event = haproxy_listener_event_create("test");

	cmocka_set_message_output(CM_OUTPUT_TAP);
	ret = cmocka_run_group_tests(tests, NULL, NULL);

	event_unref(&test_listener.event);
	haproxy_conns_deinit();
	pool_unref(&pool);
	io_loop_destroy(&ioloop);
	master_service_deinit(&master_service);
	return ret;
}
