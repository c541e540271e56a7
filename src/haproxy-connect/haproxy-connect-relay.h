#ifndef HAPROXY_CONNECT_RELAY_H
#define HAPROXY_CONNECT_RELAY_H

#include <stdbool.h>

#include "haproxy-connect-stream.h"
#include "haproxy-connect.h"

/* Standard input to the server, the server to standard output, until the
   server closes the connection. With shutdown_at_eof our side is shut
   down at the end of standard input, and reading goes on; a login process
   takes that EOF as the client leaving. takes_data false: the server
   closed its side while the header was sent, so only read what it said.
   Returns HC_EXIT_ANSWERED if the server sent anything, HC_EXIT_CLOSED if
   not; exits with HC_EXIT_TIMEOUT after timeout_ms (-1: never) without
   traffic. */
enum hc_exit hc_relay(struct hc_stream *stream, bool takes_data,
		      bool shutdown_at_eof, int timeout_ms);

#endif
