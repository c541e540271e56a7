/* Text for log lines and event fields: addresses and bytes from the wire.
   Both are written on every header, so without printf(). */

#include "lib.h"
#include "net.h"
#include "haproxy-compat.h"
#include "haproxy-text.h"

static const char haproxy_hex_digits[] = "0123456789abcdef";

static char *haproxy_ipv4_str(char *p, const unsigned char octet[4])
{
	unsigned int i;

	for (i = 0; i < 4; i++) {
		if (octet[i] >= 100)
			*p++ = '0' + octet[i] / 100;
		if (octet[i] >= 10)
			*p++ = '0' + octet[i] / 10 % 10;
		*p++ = '0' + octet[i] % 10;
		*p++ = i < 3 ? '.' : '\0';
	}
	return p;
}

/* RFC 5952, as inet_ntop() writes it: hex groups without leading zeros,
   the first longest run of two or more zero groups as "::". */
static void haproxy_ipv6_str(char *p, const unsigned char bytes[16])
{
	unsigned int group[8], i, run = 0, best = 0, best_start = 8;

	for (i = 0; i < 8; i++) {
		group[i] = bytes[2 * i] << 8 | bytes[2 * i + 1];
		run = group[i] == 0 ? run + 1 : 0;
		if (run > best) {
			best = run;
			best_start = i + 1 - run;
		}
	}
	if (best < 2)
		best_start = 8;
	for (i = 0; i < 8; i++) {
		int shift;
		bool digits = FALSE;

		if (i == best_start) {
			*p++ = ':';
			if (i == 0)
				*p++ = ':';
			i += best - 1;
			continue;
		}
		for (shift = 12; shift >= 0; shift -= 4) {
			unsigned int nibble = group[i] >> shift & 0xf;

			if (nibble != 0 || digits || shift == 0) {
				*p++ = haproxy_hex_digits[nibble];
				digits = TRUE;
			}
		}
		if (i < 7)
			*p++ = ':';
	}
	*p = '\0';
}

const char *haproxy_ip_str(const struct ip_addr *ip)
{
	const unsigned char *bytes = (const unsigned char *)&ip->u;
	char *str;

	if (ip->family == AF_INET) {
		str = t_malloc_no0(sizeof("255.255.255.255"));
		haproxy_ipv4_str(str, bytes);
		return str;
	}
	/* inet_ntop() writes IPv4-mapped and -compatible addresses with a
	   dotted quad at the end, and Dovecot 2.4 a link-local address with
	   its interface: let them. */
	if (ip->family != AF_INET6 || haproxy_ip_has_scope(ip) ||
	    (memcmp(bytes, "\0\0\0\0\0\0\0\0\0\0", 10) == 0 &&
	     ((bytes[10] == 0 && bytes[11] == 0) ||
	      (bytes[10] == 0xff && bytes[11] == 0xff))))
		return net_ip2addr(ip);
	str = t_malloc_no0(sizeof("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	haproxy_ipv6_str(str, bytes);
	return str;
}

const char *haproxy_ip_port_str(const struct ip_addr *ip, in_port_t port)
{
	if (ip->family == AF_INET6) {
		return t_strconcat("[", haproxy_ip_str(ip), "]:",
				   dec2str(port), NULL);
	}
	return t_strconcat(haproxy_ip_str(ip), ":", dec2str(port), NULL);
}

static bool haproxy_byte_is_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
}

const char *p_haproxy_escape(pool_t pool, const void *data, size_t size,
			     size_t max)
{
	const unsigned char *p = data;
	size_t shown = I_MIN(size, max), i, plain;
	char *str, *dest;

	for (plain = 0; plain < shown && haproxy_byte_is_plain(p[plain]); plain++) ;
	if (plain == size)
		return p_strndup(pool, data, size);

	/* The worst case: every byte as \xNN, and "...". */
	dest = str = p_malloc(pool, plain + (shown - plain) * 4 + 4);
	memcpy(dest, data, plain);
	dest += plain;
	for (i = plain; i < shown; i++) {
		if (haproxy_byte_is_plain(p[i])) {
			*dest++ = p[i];
			continue;
		}
		*dest++ = '\\';
		*dest++ = 'x';
		*dest++ = haproxy_hex_digits[p[i] >> 4];
		*dest++ = haproxy_hex_digits[p[i] & 0xf];
	}
	if (shown < size) {
		memcpy(dest, "...", 3);
		dest += 3;
	}
	*dest = '\0';
	return str;
}

const char *haproxy_escape(const void *data, size_t size, size_t max)
{
	return p_haproxy_escape(unsafe_data_stack_pool, data, size, max);
}

const char *p_haproxy_hex_byte(pool_t pool, const char *prefix,
			       unsigned char byte)
{
	size_t len = strlen(prefix);
	char *str = p_malloc(pool, len + 5);

	memcpy(str, prefix, len);
	str[len] = '0';
	str[len + 1] = 'x';
	str[len + 2] = haproxy_hex_digits[byte >> 4];
	str[len + 3] = haproxy_hex_digits[byte & 0xf];
	return str;
}
