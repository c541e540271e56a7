#ifndef HAPROXY_TEXT_H
#define HAPROXY_TEXT_H

struct ip_addr;

/* An IP address as text, exactly as net_ip2addr() writes it, in data stack
   memory. */
const char *haproxy_ip_str(const struct ip_addr *ip);
/* An address and port as "192.0.2.1:143" or "[2001:db8::1]:143", so that
   an IPv6 address's last group is not read as the port. */
const char *haproxy_ip_port_str(const struct ip_addr *ip, in_port_t port);

/* Bytes that came off the wire, safe for a log line or a field: printable
   ASCII as is, everything else (and \ and ") as \xNN, cut after max bytes
   with "...". In pool, or in data stack memory for haproxy_escape(). */
const char *haproxy_escape(const void *data, size_t size, size_t max);
const char *p_haproxy_escape(pool_t pool, const void *data, size_t size,
			     size_t max);

/* prefix followed by byte as "0x%02x", without printf(). */
const char *p_haproxy_hex_byte(pool_t pool, const char *prefix,
			       unsigned char byte);

#endif
