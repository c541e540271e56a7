#ifndef HAPROXY_CONN_H
#define HAPROXY_CONN_H

#include "master-service.h"

struct haproxy_networks;

/* A haproxy = yes listener the plugin took over from Dovecot. */
struct haproxy_listener {
	int fd;
	const char *name;
	/* The parent of its connections' events. */
	struct event *event;
	/* Peers that may connect without a header (NULL: none). */
	const struct haproxy_networks *direct;
	/* haproxy_direct_wait: how long a peer that may also send a header
	   can stay silent before it is served as a direct client, and how
	   long the proxy's own connection can stay silent after its header
	   before it is served as a client instead of ending as a health
	   check. */
	unsigned int direct_wait_msecs;
};

/* The longest haproxy_timeout: the ioloop counts a timer's wait in int
   milliseconds. */
#define HAPROXY_TIMEOUT_MAX_SECS ((unsigned int)INT_MAX / 1000)

/* timeout_secs: haproxy_timeout, at most HAPROXY_TIMEOUT_MAX_SECS. */
void haproxy_conns_init(unsigned int timeout_secs);
/* Close every connection still waiting for its header. */
void haproxy_conns_deinit(void);

/* A new connection on a listener the plugin owns, called in place of the
   service callback. Once a valid header has been read, or the peer turns
   out to be a direct client, conn (rewritten by the header) goes to
   callback; a header that a health check sends only once the peer has
   not closed after it without a word. Anything else closes it with one
   log line. Either way its haproxy_header_finished event lasts from now
   to the decision. */
void haproxy_conn_new(const struct haproxy_listener *listener,
		      struct master_service_connection *conn,
		      master_service_connection_callback_t *callback);

#endif
