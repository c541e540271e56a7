#ifndef HAPROXY_CONN_H
#define HAPROXY_CONN_H

#include "master-service.h"

struct haproxy_trust;

void haproxy_conns_init(const struct haproxy_trust *trust,
			unsigned int timeout_secs);
/* Close every connection still waiting for its header. */
void haproxy_conns_deinit(void);

/* A new connection on a listener the plugin owns, called in place of the
   service callback. Once a valid header has been read, conn (rewritten)
   goes to callback; anything else closes it with one log line. */
void haproxy_conn_new(struct master_service_connection *conn,
		      master_service_connection_callback_t *callback);

#endif
