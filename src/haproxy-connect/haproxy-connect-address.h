#ifndef HAPROXY_CONNECT_ADDRESS_H
#define HAPROXY_CONNECT_ADDRESS_H

#include <stdbool.h>
#include <sys/socket.h>

#include "proxy-decoder.h"

/* Parse the endpoint of a --src or --dst option: IPv4:PORT, [IPv6]:PORT or
   unix:PATH. Only numeric addresses: they are what the header says, not
   something to resolve. Returns false with *error_r set on bad syntax. */
bool hc_address_parse(const char *str, struct sockaddr_storage *addr_r,
		      const char **error_r);

/* Set hdr's family and endpoints from two socket addresses. An IPv4 address
   beside an IPv6 one is written IPv4-mapped, as HAProxy does. UNIX paths
   point into src and dst, which must outlive hdr. */
bool hc_address_to_header(const struct sockaddr_storage *src,
			  const struct sockaddr_storage *dst,
			  struct proxy_header *hdr, const char **error_r);

/* "ADDRESS port PORT" of an IP address, for messages; in a static buffer. */
const char *hc_address_str(const struct sockaddr *addr);

#endif
