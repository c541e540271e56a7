/* A connection on a haproxy listener until its PROXY header is read, or
   until it turns out to be a direct client.

   The header is peeked, decoded, and only the bytes that belong to it are
   consumed, so what follows (an IMAP command, a TLS ClientHello) stays in
   the socket for the login process. Bytes of an incomplete header are
   consumed as they arrive: they are all header, and leaving them queued
   would make the io fire again at once.

   A connection that waits holds no more than it needs to wait: its event,
   its log text and a buffer exist only once there is something to say or
   to keep. Events are passthroughs of the listener's own. */

#include "login-common.h"
#include "array.h"
#include "buffer.h"
#include "str.h"
#include "ioloop.h"
#include "llist.h"
#include "net.h"
#include "hex-binary.h"
#include "haproxy-compat.h"
#include "proxy-decoder.h"
#include "haproxy-networks.h"
#include "haproxy-event.h"
#include "haproxy-client.h"
#include "haproxy-header.h"
#include "haproxy-conn.h"

#include <sys/socket.h>

/* Enough for a v1 line and a typical v2 header in one peek. */
#define HAPROXY_PEEK_SIZE 512
/* How much of a rejected header a log line shows. */
#define HAPROXY_LOG_HEADER_BYTES 48

enum haproxy_read_status {
	HAPROXY_READ_WAIT,
	HAPROXY_READ_DONE,
	/* Not a PROXY header, from a peer that may connect without one. */
	HAPROXY_READ_DIRECT,
	HAPROXY_READ_FAILED,
};

struct haproxy_conn {
	struct haproxy_conn *prev, *next;

	const struct haproxy_listener *listener;
	struct master_service_connection conn;
	master_service_connection_callback_t *callback;
	struct io *io;
	struct timeout *to;
	/* A peer in both lists: silent this long, it is a direct client. */
	struct timeout *to_direct;
	/* The header bytes consumed so far, once there are any. */
	buffer_t *header;
};

static const struct haproxy_networks *haproxy_trusted;
static unsigned int haproxy_timeout_secs;
static struct haproxy_conn *haproxy_conns = NULL;

/* "rip=…, rport=…, listener=…" for log lines: what is known. */
static const char *
haproxy_conn_peer(const struct master_service_connection *conn)
{
	string_t *str = t_str_new(64);

	if (conn->real_remote_ip.family != 0) {
		str_printfa(str, "rip=%s, rport=%u",
			    haproxy_ip_str(&conn->real_remote_ip),
			    conn->real_remote_port);
	}
	if (conn->name[0] != '\0') {
		str_printfa(str, "%slistener=%s", str_len(str) > 0 ? ", " : "",
			    conn->name);
	}
	return str_c(str);
}

static size_t haproxy_conn_received(const struct haproxy_conn *hc)
{
	return hc->header == NULL ? 0 : hc->header->used;
}

/* The one log line and event of a connection that does not make it. */
static void
haproxy_conn_fail_detail(struct haproxy_conn *hc, enum log_type level,
			 const char *result, const char *error_code,
			 const char *error, const char *detail)
{
	struct event_passthrough *e =
		haproxy_event_finished(hc->listener->event, &hc->conn, result)->
		add_str("error_code", error_code)->
		add_str("error", error);

	e_log(e->event(), level, "%s (%s%s%s)", error,
	      haproxy_conn_peer(&hc->conn), detail == NULL ? "" : ", ",
	      detail == NULL ? "" : detail);
}

static void
haproxy_conn_fail(struct haproxy_conn *hc, enum log_type level,
		  const char *result, const char *error_code, const char *error)
{
	haproxy_conn_fail_detail(hc, level, result, error_code, error, NULL);
}

/* The debug line and event of a peer served without a header. */
static void
haproxy_log_direct(const struct haproxy_listener *listener,
		   const struct master_service_connection *conn,
		   const char *reason_code, const char *reason)
{
	struct event_passthrough *e =
		haproxy_event_finished(listener->event, conn, "direct")->
		add_str("direct_reason", reason_code);

	e_debug(e->event(), "Direct client: %s (%s)", reason,
		haproxy_conn_peer(conn));
}

static ssize_t haproxy_recv(int fd, void *buf, size_t size, int flags)
{
	ssize_t ret;

	do {
		ret = recv(fd, buf, size, flags);
	} while (ret < 0 && errno == EINTR);
	return ret;
}

static void
haproxy_conn_fail_decode(struct haproxy_conn *hc, const unsigned char *data,
			 size_t used, enum proxy_error error)
{
	size_t size = I_MIN(used, HAPROXY_LOG_HEADER_BYTES);
	/* v2 is binary: hex says more than escaped bytes. */
	const char *shown = size > 0 && data[0] == '\r' ?
		binary_to_hex(data, size) : haproxy_escape(data, size, size);

	haproxy_conn_fail_detail(hc, LOG_TYPE_ERROR, "rejected",
		proxy_error_name(error),
		t_strdup_printf("Invalid PROXY header: %s",
				proxy_error_reason(error)),
		t_strdup_printf("header=\"%s%s\"", shown,
				used > size ? "..." : ""));
}

static void haproxy_conn_fail_eof(struct haproxy_conn *hc)
{
	size_t received = haproxy_conn_received(hc);

	if (received == 0) {
		/* A plain TCP check or a scanner: not worth an error. */
		haproxy_conn_fail(hc, LOG_TYPE_INFO, "disconnected",
			"disconnected",
			"Connection closed before sending a PROXY header");
	} else {
		haproxy_conn_fail_detail(hc, LOG_TYPE_ERROR, "disconnected",
			"disconnected",
			"Connection closed in the middle of the PROXY header",
			t_strdup_printf("received=%zu bytes", received));
	}
}

/* Take size bytes that were peeked into dest off the socket. */
static bool
haproxy_conn_consume(struct haproxy_conn *hc, void *dest, size_t size)
{
	ssize_t ret = haproxy_recv(hc->conn.fd, dest, size, 0);

	if (ret == (ssize_t)size)
		return TRUE;
	haproxy_conn_fail(hc, LOG_TYPE_ERROR, "rejected", "recv_failed",
		ret < 0 ? t_strdup_printf("recv() of %zu peeked bytes failed: %m",
					  size) :
		t_strdup_printf("recv() returned %zd of %zu peeked bytes",
				ret, size));
	return FALSE;
}

/* Keep the first bytes of a header that is not complete yet. A direct
   client never sends what starts a PROXY header, so from here on the peer
   is a proxy. */
static bool
haproxy_conn_keep(struct haproxy_conn *hc, unsigned char *data, size_t size)
{
	if (!haproxy_conn_consume(hc, data, size))
		return FALSE;
	hc->header = buffer_create_dynamic(default_pool,
					   I_MAX(size * 2, HAPROXY_PEEK_SIZE));
	buffer_append(hc->header, data, size);
	timeout_remove(&hc->to_direct);
	return TRUE;
}

/* Peek at what has arrived after the bytes kept so far and decide. The
   decoded header points into data stack memory or hc->header. */
static enum haproxy_read_status
haproxy_conn_read(struct haproxy_conn *hc, struct proxy_header *hdr_r)
{
	size_t have = haproxy_conn_received(hc), need = 0;
	enum proxy_error error;

	for (;;) {
		size_t room = I_MAX(need, HAPROXY_PEEK_SIZE);
		unsigned char *dest = have == 0 ? t_malloc_no0(room) :
			buffer_get_space_unsafe(hc->header, have, room);
		const unsigned char *data = have == 0 ? dest : hc->header->data;
		ssize_t ret = haproxy_recv(hc->conn.fd, dest, room, MSG_PEEK);

		if (have > 0)
			buffer_set_used_size(hc->header, have);
		if (ret <= 0) {
			if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return HAPROXY_READ_WAIT;
			if (ret == 0 || errno == ECONNRESET)
				haproxy_conn_fail_eof(hc);
			else {
				haproxy_conn_fail(hc, LOG_TYPE_ERROR, "rejected",
					"recv_failed", t_strdup_printf(
					"recv() failed: %m"));
			}
			return HAPROXY_READ_FAILED;
		}

		switch (proxy_decode(data, have + (size_t)ret, hdr_r,
				     &need, &error)) {
		case PROXY_RESULT_INVALID:
			/* Once header bytes were kept, to_direct is gone. */
			if (error == PROXY_ERROR_NOT_PROXY &&
			    hc->to_direct != NULL)
				return HAPROXY_READ_DIRECT;
			haproxy_conn_fail_decode(hc, data, have + (size_t)ret,
						 error);
			return HAPROXY_READ_FAILED;
		case PROXY_RESULT_COMPLETE:
			if (!haproxy_conn_consume(hc, dest, hdr_r->length - have))
				return HAPROXY_READ_FAILED;
			return HAPROXY_READ_DONE;
		case PROXY_RESULT_NEED_MORE:
			/* All of it is header: keep it and read on. */
			if (have == 0) {
				if (!haproxy_conn_keep(hc, dest, (size_t)ret))
					return HAPROXY_READ_FAILED;
			} else {
				if (!haproxy_conn_consume(hc, dest, (size_t)ret))
					return HAPROXY_READ_FAILED;
				buffer_set_used_size(hc->header,
						     have + (size_t)ret);
			}
			have += (size_t)ret;
			break;
		}
	}
}

/* ", key=value" for each fact, for the debug line. */
static const char *haproxy_facts_str(const struct haproxy_facts *facts)
{
	const struct haproxy_fact *fact;
	string_t *str = t_str_new(128);

	if (facts == NULL)
		return "";
	array_foreach(&facts->fields, fact)
		str_printfa(str, ", %s=%s", fact->key, fact->value);
	return str_c(str);
}

static void
haproxy_conn_log_accepted(struct haproxy_conn *hc,
			  const struct proxy_header *hdr,
			  const struct haproxy_facts *facts)
{
	struct event_passthrough *e =
		haproxy_event_finished(hc->listener->event, &hc->conn,
				       "accepted")->
		add_int("version", hdr->version)->
		add_str("command", hdr->command == PROXY_CMD_PROXY ?
			"proxy" : "local");
	const struct haproxy_fact *fact;

	if (!CONN_PROXIED(&hc->conn)) {
		e_debug(e->event(), "PROXY v%u %s: using the connection's own "
			"addresses (%s)", hdr->version,
			hdr->command == PROXY_CMD_PROXY ? "without addresses" :
			"LOCAL", haproxy_conn_peer(&hc->conn));
		return;
	}
	e->add_str("src_ip", haproxy_ip_str(&hc->conn.remote_ip))->
		add_int("src_port", hc->conn.remote_port)->
		add_str("dst_ip", haproxy_ip_str(&hc->conn.local_ip))->
		add_int("dst_port", hc->conn.local_port);
	if (facts != NULL) {
		array_foreach(&facts->fields, fact)
			e->add_str(fact->key, fact->value);
	}
	e_debug(e->event(), "PROXY v%u: client %s:%u, server %s:%u (%s%s)",
		hdr->version, haproxy_ip_str(&hc->conn.remote_ip),
		hc->conn.remote_port, haproxy_ip_str(&hc->conn.local_ip),
		hc->conn.local_port, haproxy_conn_peer(&hc->conn),
		haproxy_facts_str(facts));
}

static bool
haproxy_conn_apply(struct haproxy_conn *hc, const struct proxy_header *hdr)
{
	/* Only TLVs have facts to keep for the client. */
	struct haproxy_facts *facts = hdr->tlvs.size == 0 ? NULL :
		haproxy_facts_new(hc->conn.fd);
	const char *error_code, *error;

	if (!haproxy_header_apply(hdr, &hc->conn, facts, hc->listener->event,
				  &error_code, &error)) {
		if (facts != NULL)
			haproxy_facts_free(&facts);
		haproxy_conn_fail(hc, LOG_TYPE_ERROR, "rejected",
				  error_code, error);
		return FALSE;
	}
	haproxy_conn_log_accepted(hc, hdr, facts);
	if (facts != NULL)
		haproxy_facts_hand_off(&facts);
	return TRUE;
}

/* A connection of the proxy's own, not a client's: LOCAL, or (v1 checks)
   a header that repeats the connection's own source. */
static bool
haproxy_conn_is_proxys_own(const struct haproxy_conn *hc,
			   const struct proxy_header *hdr)
{
	return hdr->command == PROXY_CMD_LOCAL ||
		(net_ip_compare(&hc->conn.remote_ip, &hc->conn.real_remote_ip) &&
		 hc->conn.remote_port == hc->conn.real_remote_port);
}

/* Whether the peer has closed or reset the connection already. */
static bool haproxy_conn_peer_gone(struct haproxy_conn *hc)
{
	char c;
	ssize_t ret = haproxy_recv(hc->conn.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return ret == 0 || (ret < 0 && errno == ECONNRESET);
}

/* Read what there is and decide: DONE (header applied) or DIRECT (a
   direct client) pass the connection on; FAILED was logged. */
static enum haproxy_read_status haproxy_conn_try(struct haproxy_conn *hc)
{
	struct proxy_header hdr;
	enum haproxy_read_status status = haproxy_conn_read(hc, &hdr);

	if (status == HAPROXY_READ_DIRECT) {
		haproxy_log_direct(hc->listener, &hc->conn, "not_proxy",
				   "it did not start with a PROXY header");
	}
	if (status != HAPROXY_READ_DONE)
		return status;
	if (!haproxy_conn_apply(hc, &hdr))
		return HAPROXY_READ_FAILED;
	/* A layer 4 health check closes right after its header: no login
	   client, greeting or auth request for it. Clients' connections
	   are not asked. */
	if (haproxy_conn_is_proxys_own(hc, &hdr) && haproxy_conn_peer_gone(hc)) {
		e_debug(hc->listener->event, "The proxy closed its connection "
			"after the header: a health check (%s)",
			haproxy_conn_peer(&hc->conn));
		return HAPROXY_READ_FAILED;
	}
	return HAPROXY_READ_DONE;
}

static void haproxy_conn_free(struct haproxy_conn **_hc)
{
	struct haproxy_conn *hc = *_hc;

	*_hc = NULL;
	io_remove(&hc->io);
	timeout_remove(&hc->to);
	timeout_remove(&hc->to_direct);
	if (hc->header != NULL)
		buffer_free(&hc->header);
	i_free(hc);
}

/* Done waiting: hand the connection to login-common, or close it. */
static void haproxy_conn_finish(struct haproxy_conn *hc, bool success)
{
	struct master_service_connection conn = hc->conn;
	master_service_connection_callback_t *callback = hc->callback;

	DLLIST_REMOVE(&haproxy_conns, hc);
	haproxy_conn_free(&hc);
	/* The callback accepts it; otherwise handled() closes the fd. */
	if (success)
		callback(&conn);
	master_service_client_connection_handled(master_service, &conn);
}

static void haproxy_conn_input(struct haproxy_conn *hc)
{
	enum haproxy_read_status status = haproxy_conn_try(hc);

	if (status != HAPROXY_READ_WAIT)
		haproxy_conn_finish(hc, status != HAPROXY_READ_FAILED);
}

static void haproxy_conn_timeout(struct haproxy_conn *hc)
{
	haproxy_conn_fail_detail(hc, LOG_TYPE_ERROR, "timeout", "timeout",
		t_strdup_printf("Timed out after %u secs waiting for the "
				"PROXY header", haproxy_timeout_secs),
		t_strdup_printf("received=%zu bytes",
				haproxy_conn_received(hc)));
	haproxy_conn_finish(hc, FALSE);
}

/* A peer in both lists that has not said a word: IMAP, POP3, SMTP and
   ManageSieve clients wait for the greeting, a proxy would have sent its
   header by now. */
static void haproxy_conn_direct_timeout(struct haproxy_conn *hc)
{
	haproxy_log_direct(hc->listener, &hc->conn, "no_header",
			   "nothing sent within haproxy_direct_wait");
	haproxy_conn_finish(hc, TRUE);
}

/* A peer that may only connect directly: served as on a plain listener,
   nothing read. */
static void
haproxy_conn_direct(const struct haproxy_listener *listener,
		    struct master_service_connection *conn,
		    master_service_connection_callback_t *callback)
{
	haproxy_log_direct(listener, conn, "direct_network",
			   "peer is in haproxy_direct_networks only");
	callback(conn);
}

void haproxy_conn_new(const struct haproxy_listener *listener,
		      struct master_service_connection *conn,
		      master_service_connection_callback_t *callback)
{
	bool trusted = haproxy_networks_match(haproxy_trusted,
					      &conn->real_remote_ip);
	bool direct = listener->direct != NULL &&
		haproxy_networks_match(listener->direct, &conn->real_remote_ip);
	struct haproxy_conn *hc;

	if (direct && !trusted) {
		haproxy_conn_direct(listener, conn, callback);
		return;
	}

	hc = i_new(struct haproxy_conn, 1);
	hc->listener = listener;
	hc->conn = *conn;
	hc->callback = callback;
	if (conn->real_remote_ip.family == 0) {
		/* Accepted by the master (Dovecot 2.4.2+) and reset by the
		   peer before this process could ask who it was: a health
		   check, typically. Nothing to trust, nothing to read. */
		haproxy_conn_fail(hc, LOG_TYPE_INFO, "disconnected",
			"disconnected",
			"Connection reset before its peer could be identified");
		haproxy_conn_free(&hc);
		return;
	}
	if (!trusted) {
		haproxy_conn_fail(hc, LOG_TYPE_WARNING, "untrusted", "untrusted",
			haproxy_networks_is_empty(haproxy_trusted) ?
			"Peer not trusted: haproxy_trusted_networks is empty" :
			"Peer not in haproxy_trusted_networks");
		haproxy_conn_free(&hc);
		return;
	}
	if (direct) {
		hc->to_direct = timeout_add(listener->direct_wait_msecs,
					    haproxy_conn_direct_timeout, hc);
	}

	/* The header is often there already: decide without waiting. The
	   master closes conn unless it is accepted or passed on. */
	switch (haproxy_conn_try(hc)) {
	case HAPROXY_READ_DONE:
	case HAPROXY_READ_DIRECT:
		*conn = hc->conn;
		haproxy_conn_free(&hc);
		callback(conn);
		return;
	case HAPROXY_READ_FAILED:
		haproxy_conn_free(&hc);
		return;
	case HAPROXY_READ_WAIT:
		break;
	}
	master_service_client_connection_accept(conn);
	hc->io = io_add(conn->fd, IO_READ, haproxy_conn_input, hc);
	hc->to = timeout_add(haproxy_timeout_secs * 1000, haproxy_conn_timeout, hc);
	DLLIST_PREPEND(&haproxy_conns, hc);
}

void haproxy_conns_init(const struct haproxy_networks *trusted,
			unsigned int timeout_secs)
{
	haproxy_trusted = trusted;
	haproxy_timeout_secs = timeout_secs;
}

void haproxy_conns_deinit(void)
{
	while (haproxy_conns != NULL) {
		struct haproxy_conn *hc = haproxy_conns;
		int fd = hc->conn.fd;

		DLLIST_REMOVE(&haproxy_conns, hc);
		haproxy_conn_free(&hc);
		i_close_fd(&fd);
	}
}
