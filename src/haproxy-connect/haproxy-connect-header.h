#ifndef HAPROXY_CONNECT_HEADER_H
#define HAPROXY_CONNECT_HEADER_H

#include <stddef.h>
#include <sys/socket.h>

#include "haproxy-connect-options.h"

/* The header opts describe, in a malloc()ed buffer of *size_r bytes. local
   and peer are the connection's addresses, the defaults of --src and
   --dst; NULL stands for 127.0.0.1:0. Exits with HC_EXIT_USAGE and the
   encoder's reason if the options make no valid header. */
unsigned char *
hc_header_encode(const struct hc_options *opts,
		 const struct sockaddr_storage *local,
		 const struct sockaddr_storage *peer, size_t *size_r);

/* The bytes of --raw FILE, in a malloc()ed buffer. */
unsigned char *hc_header_read_raw(const char *path, size_t *size_r);

#endif
