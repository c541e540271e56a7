#ifndef HAPROXY_CONNECT_NET_H
#define HAPROXY_CONNECT_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "haproxy-connect-options.h"

/* Wait until fd has one of events, at most timeout_ms (-1: forever).
   Returns false on timeout; exits if poll() fails. */
bool hc_net_wait(int fd, short events, int timeout_ms);

/* A non-blocking socket connected to opts->host and opts->port, from
   opts->bind if set. Tries every address of the host in turn; if none
   can be reached, exits with the status of the last failure. */
int hc_net_connect(const struct hc_options *opts);

/* Send data in the pieces that opts->split cuts, opts->delay_ms apart,
   each printed to stderr with --hexdump. Returns false if the server
   closed the connection before all was sent. */
bool hc_net_send(int fd, const unsigned char *data, size_t size,
		 const struct hc_options *opts);

#endif
