/* A connection on a haproxy listener until its PROXY header is read, or
   until it turns out to be a direct client or a health check: a state
   machine driven by the socket and two timers, haproxy_direct_wait and
   haproxy_timeout.

   Dovecot's ioloop runs the timeouts that expired before the ios that
   became ready in the same pass. A busy login process may therefore run
   a timer after bytes that came in time: every timer reads the socket
   before it decides.

   A connection that waits holds no more than it needs to wait: its
   event, its log text and a buffer exist only once there is something to
   say or to keep. */

#include "login-common.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "llist.h"
#include "net.h"
#include "hex-binary.h"
#include "time-util.h"
/* master_service_client_connection_handled(), for connections it holds */
#include "master-service-private.h"
#include "haproxy-compat.h"
#include "proxy-decoder.h"
#include "haproxy-event.h"
#include "haproxy-text.h"
#include "haproxy-client.h"
#include "haproxy-header.h"
#include "haproxy-diagnosis.h"
#include "haproxy-policy.h"
#include "haproxy-reader.h"
#include "haproxy-conn.h"

/* How much of a rejected header a log line shows. */
#define HAPROXY_LOG_HEADER_BYTES 48

enum haproxy_conn_state {
	/* A peer that may also connect directly has sent nothing yet: a
	   PROXY signature makes it a proxy, any other first byte or
	   haproxy_direct_wait of silence a direct client. */
	HAPROXY_CONN_STATE_FIRST_BYTE,
	/* It has sent part of a signature, left in the socket in case the
	   rest is no signature; it is no longer silent. */
	HAPROXY_CONN_STATE_SIGNATURE,
	/* A proxy: every byte is header until the header is complete. */
	HAPROXY_CONN_STATE_HEADER,
	/* The header was one a health check sends (v2 LOCAL, or the
	   connection's own addresses). A layer 4 check closes or resets the
	   connection without a word; a client sends a byte or, waiting for
	   the greeting, stays silent for haproxy_direct_wait. */
	HAPROXY_CONN_STATE_CHECK,
};

/* What a step of the state machine leaves to do. */
enum haproxy_step {
	/* Nothing is decided yet. */
	HAPROXY_STEP_WAIT,
	/* To login-common: the header applied, or a direct client. */
	HAPROXY_STEP_PASS,
	/* Logged already: close it. */
	HAPROXY_STEP_CLOSE,
};

struct haproxy_conn {
	struct haproxy_conn *prev, *next;

	const struct haproxy_listener *listener;
	struct master_service_connection conn;
	master_service_connection_callback_t *callback;
	/* Where the connection's event begins. */
	struct timeval accepted;

	enum haproxy_conn_state state;
	struct haproxy_reader reader;
	struct io *io;
	/* haproxy_timeout, until the header is complete */
	struct timeout *to;
	/* haproxy_direct_wait, in state FIRST_BYTE from the accept and in
	   state CHECK from the header */
	struct timeout *to_direct;

	/* The header read, once it is applied: what the event says of it,
	   and its facts (NULL without TLVs) until the client has them. */
	unsigned int version;
	enum proxy_command command;
	struct haproxy_facts *facts;
	/* conn with the header applied, which becomes conn once it goes on
	   as a client: one that is closed goes back to Dovecot as it came,
	   with no pointer into the facts freed then. */
	struct master_service_connection applied;
};

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

static struct event *
haproxy_conn_event(struct haproxy_conn *hc, const char *result,
		   unsigned int fields)
{
	return haproxy_event_finished(hc->listener->event, &hc->conn,
				      &hc->accepted, result, fields);
}

/* What came instead of a header, for a peer that was to send one
   (expected) or that is not trusted. */
struct haproxy_seen {
	enum haproxy_diagnosis diagnosis;
	/* "a TLS ClientHello", and the usual cause and fix; NULL when
	   there is nothing to say. */
	const char *what, *advice;
};

static void
haproxy_seen_init(struct haproxy_seen *seen, const unsigned char *data,
		  size_t size, bool expected)
{
	seen->diagnosis = haproxy_diagnose(data, size, login_binary->protocol);
	seen->what = haproxy_diagnosis_what(seen->diagnosis, data, size,
					    login_binary->protocol);
	seen->advice = haproxy_diagnosis_advice(seen->diagnosis, expected);
	if (seen->advice == NULL)
		seen->what = NULL;
}

/* The one log line and event of a connection that does not make it:
   detail goes after the peer in the log line, diagnosis (a token of what
   came instead of a header) into the event. */
static void
haproxy_conn_fail_detail(struct haproxy_conn *hc, enum log_type level,
			 const char *result, const char *error_code,
			 const char *error, const char *detail,
			 const char *diagnosis)
{
	struct event *event = haproxy_conn_event(hc, result, 0);

	if (diagnosis != NULL)
		event_add_str(event, "diagnosis", diagnosis);
	event_add_str(event, "error_code", error_code);
	event_add_str(event, "error", error);
	e_log(event, level, "%s (%s%s%s)", error,
	      haproxy_conn_peer(&hc->conn), detail == NULL ? "" : ", ",
	      detail == NULL ? "" : detail);
	event_unref(&event);
}

static void
haproxy_conn_fail(struct haproxy_conn *hc, enum log_type level,
		  const char *result, const char *error_code, const char *error)
{
	haproxy_conn_fail_detail(hc, level, result, error_code, error, NULL,
				 NULL);
}

/* The debug line and event of a peer served without a header. */
static void
haproxy_log_direct(const struct haproxy_listener *listener,
		   const struct master_service_connection *conn,
		   const struct timeval *accepted,
		   const char *reason_code, const char *reason)
{
	struct event *event = haproxy_event_finished(listener->event, conn,
						     accepted, "direct", 0);

	event_add_str(event, "direct_reason", reason_code);
	e_debug(event, "Direct client: %s (%s)", reason,
		haproxy_conn_peer(conn));
	event_unref(&event);
}

static void
haproxy_conn_fail_decode(struct haproxy_conn *hc,
			 const struct haproxy_read_error *error)
{
	size_t size = I_MIN(error->size, HAPROXY_LOG_HEADER_BYTES);
	/* v2 and TLS are binary: hex says more than escaped bytes. */
	const char *shown = size > 0 &&
		(error->data[0] < 0x20 || error->data[0] >= 0x7f) ?
		binary_to_hex(error->data, size) :
		haproxy_escape(error->data, size, size);
	const char *reason = proxy_error_reason(error->error);
	const char *advice = haproxy_error_advice(error->error);
	const char *diagnosis = NULL;
	struct haproxy_seen seen;

	if (advice != NULL)
		reason = t_strdup_printf("%s: %s", reason, advice);
	if (error->error == PROXY_ERROR_NOT_PROXY) {
		haproxy_seen_init(&seen, error->data, error->size, TRUE);
		diagnosis = haproxy_diagnosis_token(seen.diagnosis);
		if (seen.what != NULL) {
			reason = t_strdup_printf("%s came instead: %s",
						 seen.what, seen.advice);
		}
	}
	haproxy_conn_fail_detail(hc, LOG_TYPE_ERROR, "rejected",
		proxy_error_name(error->error),
		t_strdup_printf("Invalid PROXY header: %s", reason),
		t_strdup_printf("header=\"%s%s\"", shown,
				error->size > size ? "..." : ""), diagnosis);
}

static void haproxy_conn_fail_eof(struct haproxy_conn *hc)
{
	size_t received = haproxy_reader_received(&hc->reader);

	if (received == 0) {
		/* A plain TCP check or a scanner: not worth an error. */
		haproxy_conn_fail(hc, LOG_TYPE_INFO, "disconnected",
			"disconnected",
			"Connection closed before sending a PROXY header");
	} else {
		haproxy_conn_fail_detail(hc, LOG_TYPE_ERROR, "disconnected",
			"disconnected",
			"Connection closed in the middle of the PROXY header",
			t_strdup_printf("received=%zu bytes", received), NULL);
	}
}

/* A peer in neither list is closed at once. What it has sent already,
   and only that, may tell who it is: peek, never wait. */
static void haproxy_conn_fail_stranger(struct haproxy_conn *hc)
{
	unsigned char data[HAPROXY_LOG_HEADER_BYTES];
	size_t size = haproxy_reader_peek(&hc->reader, data, sizeof(data));
	const char *error = haproxy_policy_stranger_reason();
	struct haproxy_seen seen;

	haproxy_seen_init(&seen, data, size, FALSE);
	if (seen.what != NULL) {
		error = t_strdup_printf("%s: it sent %s: %s", error, seen.what,
					seen.advice);
	}
	/* Nothing there yet is not silence: nobody waited for it. */
	haproxy_conn_fail_detail(hc, LOG_TYPE_WARNING, "untrusted",
				 "untrusted", error, NULL, size == 0 ? NULL :
				 haproxy_diagnosis_token(seen.diagnosis));
}

/* A read that gave no header: wait on, or log why and close. */
static enum haproxy_step
haproxy_conn_read_failed(struct haproxy_conn *hc,
			 enum haproxy_read_result result,
			 const struct haproxy_read_error *error)
{
	switch (result) {
	case HAPROXY_READ_WAIT:
		return HAPROXY_STEP_WAIT;
	case HAPROXY_READ_INVALID:
		haproxy_conn_fail_decode(hc, error);
		break;
	case HAPROXY_READ_CLOSED:
		haproxy_conn_fail_eof(hc);
		break;
	case HAPROXY_READ_FAILED:
		haproxy_conn_fail(hc, LOG_TYPE_ERROR, "rejected",
				  "recv_failed", error->message);
		break;
	case HAPROXY_READ_COMPLETE:
		i_unreached();
	}
	return HAPROXY_STEP_CLOSE;
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

static const char *haproxy_header_name(const struct haproxy_conn *hc)
{
	return t_strdup_printf("PROXY v%u%s", hc->version,
			       hc->command == PROXY_CMD_LOCAL ? " LOCAL" : "");
}

/* The event of a header that was read, with what it says, and room for
   more fields: result, the connection's four, version and command. */
#define HAPROXY_HEADER_EVENT_FIELDS 7
static struct event *
haproxy_conn_header_event(struct haproxy_conn *hc, const char *result,
			  unsigned int more)
{
	struct event *event = haproxy_conn_event(hc, result,
		HAPROXY_HEADER_EVENT_FIELDS + more);

	event_add_int(event, "version", hc->version);
	event_add_str(event, "command", hc->command == PROXY_CMD_PROXY ?
		      "proxy" : "local");
	return event;
}

static void haproxy_conn_log_accepted(struct haproxy_conn *hc)
{
	const struct haproxy_facts *facts = hc->facts;
	/* The header's addresses, and every fact. */
	struct event *event = haproxy_conn_header_event(hc, "accepted",
		4 + (facts == NULL ? 0 : array_count(&facts->fields)));
	const struct haproxy_fact *fact;

	if (!CONN_PROXIED(&hc->conn)) {
		e_debug(event, "PROXY v%u %s: using the connection's own "
			"addresses (%s)", hc->version,
			hc->command == PROXY_CMD_PROXY ? "without addresses" :
			"LOCAL", haproxy_conn_peer(&hc->conn));
		event_unref(&event);
		return;
	}
	haproxy_event_add_ip(event, "src_ip", &hc->conn.remote_ip);
	event_add_int(event, "src_port", hc->conn.remote_port);
	haproxy_event_add_ip(event, "dst_ip", &hc->conn.local_ip);
	event_add_int(event, "dst_port", hc->conn.local_port);
	if (facts != NULL) {
		array_foreach(&facts->fields, fact)
			event_add_str(event, fact->key, fact->value);
	}
	e_debug(event, "PROXY v%u: client %s, server %s (%s%s)",
		hc->version,
		haproxy_ip_port_str(&hc->conn.remote_ip, hc->conn.remote_port),
		haproxy_ip_port_str(&hc->conn.local_ip, hc->conn.local_port),
		haproxy_conn_peer(&hc->conn), haproxy_facts_str(facts));
	event_unref(&event);
}

/* An applied header's connection goes on as a client. */
static enum haproxy_step haproxy_conn_accept(struct haproxy_conn *hc)
{
	hc->conn = hc->applied;
	haproxy_conn_log_accepted(hc);
	if (hc->facts != NULL)
		haproxy_facts_hand_off(&hc->facts);
	return HAPROXY_STEP_PASS;
}

/* State CHECK: the peer's close or reset makes the connection a health
   check, which gets no login client, greeting or auth request; a byte
   makes it a client, whose bytes stay in the socket. */
static enum haproxy_step haproxy_conn_check(struct haproxy_conn *hc)
{
	struct haproxy_read_error error;
	enum haproxy_read_result result;
	struct event *event;

	i_zero(&error);
	result = haproxy_reader_after_header(&hc->reader, &error);
	if (result == HAPROXY_READ_COMPLETE)
		return haproxy_conn_accept(hc);
	if (result != HAPROXY_READ_CLOSED)
		return haproxy_conn_read_failed(hc, result, &error);
	event = haproxy_conn_header_event(hc, "health_check", 0);
	e_debug(event, "Health check: the proxy closed its connection after "
		"the %s header (%s)", haproxy_header_name(hc),
		haproxy_conn_peer(&hc->conn));
	event_unref(&event);
	return HAPROXY_STEP_CLOSE;
}

/* A complete header: apply it, or say why not. */
static enum haproxy_step
haproxy_conn_header(struct haproxy_conn *hc, const struct proxy_header *hdr)
{
	const char *error_code, *error;

	/* Only TLVs have facts to keep for the client. */
	if (hdr->tlvs.size > 0)
		hc->facts = haproxy_facts_new(hc->conn.fd);
	hc->applied = hc->conn;
	if (!haproxy_header_apply(hdr, &hc->applied, hc->facts,
				  hc->listener->event, &error_code, &error)) {
		haproxy_conn_fail(hc, LOG_TYPE_ERROR, "rejected",
				  error_code, error);
		return HAPROXY_STEP_CLOSE;
	}
	hc->version = hdr->version;
	hc->command = hdr->command;
	if (!haproxy_policy_is_proxys_own(&hc->applied, hdr))
		return haproxy_conn_accept(hc);
	hc->state = HAPROXY_CONN_STATE_CHECK;
	return haproxy_conn_check(hc);
}

/* A peer that may connect either way: do its first bytes decide? */
static enum haproxy_step haproxy_conn_signature(struct haproxy_conn *hc)
{
	struct haproxy_read_error error;
	enum haproxy_read_result result;
	enum proxy_signature sig;

	i_zero(&error);
	result = haproxy_reader_signature(&hc->reader, &sig, &error);
	if (result != HAPROXY_READ_COMPLETE) {
		if (result == HAPROXY_READ_WAIT &&
		    haproxy_reader_received(&hc->reader) > 0) {
			/* Not silent: haproxy_direct_wait is over. */
			hc->state = HAPROXY_CONN_STATE_SIGNATURE;
			timeout_remove(&hc->to_direct);
		}
		return haproxy_conn_read_failed(hc, result, &error);
	}
	if (sig == PROXY_SIGNATURE_NONE) {
		haproxy_log_direct(hc->listener, &hc->conn, &hc->accepted,
				   "not_proxy",
				   "it did not start with a PROXY header");
		return HAPROXY_STEP_PASS;
	}
	hc->state = HAPROXY_CONN_STATE_HEADER;
	timeout_remove(&hc->to_direct);
	return HAPROXY_STEP_WAIT;
}

/* Read what has arrived and move on as far as it allows. */
static enum haproxy_step haproxy_conn_step(struct haproxy_conn *hc)
{
	struct haproxy_read_error error;
	enum haproxy_read_result result;
	struct proxy_header hdr;

	if (hc->state == HAPROXY_CONN_STATE_CHECK)
		return haproxy_conn_check(hc);
	if (hc->state != HAPROXY_CONN_STATE_HEADER) {
		enum haproxy_step step = haproxy_conn_signature(hc);

		if (hc->state != HAPROXY_CONN_STATE_HEADER)
			return step;
	}
	i_zero(&error);
	result = haproxy_reader_read(&hc->reader, &hdr, &error);
	if (result != HAPROXY_READ_COMPLETE)
		return haproxy_conn_read_failed(hc, result, &error);
	return haproxy_conn_header(hc, &hdr);
}

static void haproxy_conn_free(struct haproxy_conn **_hc)
{
	struct haproxy_conn *hc = *_hc;

	*_hc = NULL;
	io_remove(&hc->io);
	timeout_remove(&hc->to);
	timeout_remove(&hc->to_direct);
	if (hc->facts != NULL)
		haproxy_facts_free(&hc->facts);
	haproxy_reader_deinit(&hc->reader);
	i_free(hc);
}

/* Done waiting: hand the connection to login-common, or close it. */
static void haproxy_conn_finish(struct haproxy_conn *hc, enum haproxy_step step)
{
	struct master_service_connection conn = hc->conn;
	master_service_connection_callback_t *callback = hc->callback;

	i_assert(step != HAPROXY_STEP_WAIT);
	DLLIST_REMOVE(&haproxy_conns, hc);
	haproxy_conn_free(&hc);
	/* The callback accepts it; otherwise handled() closes the fd. */
	if (step == HAPROXY_STEP_PASS)
		callback(&conn);
	master_service_client_connection_handled(master_service, &conn);
}

static void haproxy_conn_arm(struct haproxy_conn *hc);

/* After a step: wait on for what the state waits for, or finish. */
static void haproxy_conn_next(struct haproxy_conn *hc, enum haproxy_step step)
{
	if (step == HAPROXY_STEP_WAIT)
		haproxy_conn_arm(hc);
	else
		haproxy_conn_finish(hc, step);
}

static void haproxy_conn_input(struct haproxy_conn *hc)
{
	haproxy_conn_next(hc, haproxy_conn_step(hc));
}

static void haproxy_conn_fail_timeout(struct haproxy_conn *hc)
{
	size_t received = haproxy_reader_received(&hc->reader);
	const char *error = t_strdup_printf(
		"Timed out after %u secs waiting for the PROXY header",
		haproxy_timeout_secs);
	const char *diagnosis = NULL;
	struct haproxy_seen seen;

	if (received == 0) {
		haproxy_seen_init(&seen, NULL, 0, TRUE);
		diagnosis = haproxy_diagnosis_token(seen.diagnosis);
		error = t_strdup_printf("%s: nothing came, %s", error,
					seen.advice);
	}
	haproxy_conn_fail_detail(hc, LOG_TYPE_ERROR, "timeout", "timeout",
		error, t_strdup_printf("received=%zu bytes", received),
		diagnosis);
}

static void haproxy_conn_timeout(struct haproxy_conn *hc)
{
	/* The header may have come in time, only not been read yet. */
	enum haproxy_step step = haproxy_conn_step(hc);

	if (step == HAPROXY_STEP_WAIT &&
	    hc->state != HAPROXY_CONN_STATE_CHECK) {
		haproxy_conn_fail_timeout(hc);
		step = HAPROXY_STEP_CLOSE;
	}
	haproxy_conn_next(hc, step);
}

/* A peer that has not said a word for haproxy_direct_wait: IMAP, POP3,
   SMTP and ManageSieve clients wait for the greeting. In state FIRST_BYTE
   a proxy would have sent its header by now: a direct client. In state
   CHECK a health check would have closed by now: a client of the
   proxy's. */
static void haproxy_conn_direct_timeout(struct haproxy_conn *hc)
{
	enum haproxy_conn_state state = hc->state;
	/* What came in time decides, though not read yet; it may also end
	   the state, and a new one waits anew. */
	enum haproxy_step step = haproxy_conn_step(hc);

	if (step == HAPROXY_STEP_WAIT && hc->state == state) {
		if (state == HAPROXY_CONN_STATE_CHECK)
			step = haproxy_conn_accept(hc);
		else {
			haproxy_log_direct(hc->listener, &hc->conn,
					   &hc->accepted, "no_header",
				"nothing sent within haproxy_direct_wait");
			step = HAPROXY_STEP_PASS;
		}
	}
	haproxy_conn_next(hc, step);
}

/* Wait for the socket, for haproxy_timeout until the header is complete,
   and for haproxy_direct_wait in states FIRST_BYTE and CHECK. Each is
   armed once; leaving FIRST_BYTE removes its wait, so that CHECK has a
   whole one from its header. */
static void haproxy_conn_arm(struct haproxy_conn *hc)
{
	bool header_done = hc->state == HAPROXY_CONN_STATE_CHECK;

	if (hc->io == NULL)
		hc->io = io_add(hc->conn.fd, IO_READ, haproxy_conn_input, hc);
	if (header_done)
		timeout_remove(&hc->to);
	else if (hc->to == NULL) {
		hc->to = timeout_add(haproxy_timeout_secs * 1000,
				     haproxy_conn_timeout, hc);
	}
	if (hc->to_direct == NULL &&
	    (hc->state == HAPROXY_CONN_STATE_FIRST_BYTE || header_done)) {
		hc->to_direct = timeout_add(hc->listener->direct_wait_msecs,
					    haproxy_conn_direct_timeout, hc);
	}
}

static struct haproxy_conn *
haproxy_conn_alloc(const struct haproxy_listener *listener,
		   const struct master_service_connection *conn,
		   master_service_connection_callback_t *callback)
{
	struct haproxy_conn *hc = i_new(struct haproxy_conn, 1);

	hc->listener = listener;
	hc->conn = *conn;
	hc->callback = callback;
	i_gettimeofday(&hc->accepted);
	haproxy_reader_init(&hc->reader, conn->fd);
	return hc;
}

/* The first step, at accept: who the peer is, and the header if it is
   there already, as it often is. */
static enum haproxy_step haproxy_conn_begin(struct haproxy_conn *hc)
{
	if (hc->conn.real_remote_ip.family == 0) {
		/* Accepted by the master (Dovecot 2.4.2+) and reset by the
		   peer before this process could ask who it was: a health
		   check, typically. Nothing to trust, nothing to read. */
		haproxy_conn_fail(hc, LOG_TYPE_INFO, "disconnected",
			"disconnected",
			"Connection reset before its peer could be identified");
		return HAPROXY_STEP_CLOSE;
	}
	switch (haproxy_policy_peer(hc->listener->direct,
				    &hc->conn.real_remote_ip)) {
	case HAPROXY_PEER_STRANGER:
		haproxy_conn_fail_stranger(hc);
		return HAPROXY_STEP_CLOSE;
	case HAPROXY_PEER_DIRECT:
		/* Served as on a plain listener, nothing read. */
		haproxy_log_direct(hc->listener, &hc->conn, &hc->accepted,
				   "direct_network",
				   "peer is in haproxy_direct_networks only");
		return HAPROXY_STEP_PASS;
	case HAPROXY_PEER_PROXY:
		hc->state = HAPROXY_CONN_STATE_HEADER;
		break;
	case HAPROXY_PEER_EITHER:
		hc->state = HAPROXY_CONN_STATE_FIRST_BYTE;
		break;
	}
	return haproxy_conn_step(hc);
}

void haproxy_conn_new(const struct haproxy_listener *listener,
		      struct master_service_connection *conn,
		      master_service_connection_callback_t *callback)
{
	struct haproxy_conn *hc = haproxy_conn_alloc(listener, conn, callback);
	enum haproxy_step step = haproxy_conn_begin(hc);

	if (step != HAPROXY_STEP_WAIT) {
		/* The master closes conn unless it is passed on. */
		*conn = hc->conn;
		haproxy_conn_free(&hc);
		if (step == HAPROXY_STEP_PASS)
			callback(conn);
		return;
	}
	master_service_client_connection_accept(conn);
	haproxy_conn_arm(hc);
	DLLIST_PREPEND(&haproxy_conns, hc);
}

void haproxy_conns_init(unsigned int timeout_secs)
{
	i_assert(timeout_secs <= HAPROXY_TIMEOUT_MAX_SECS);
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
