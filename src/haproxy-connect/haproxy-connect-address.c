/* Socket addresses as the command line gives them and as the header
   carries them. */

#include "haproxy-connect-address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define UNIX_PREFIX "unix:"

static bool parse_port(const char *str, in_port_t *port_r)
{
	char *end;
	unsigned long port;

	if (str[0] < '0' || str[0] > '9')
		return false;
	port = strtoul(str, &end, 10);
	if (*end != '\0' || port > 65535)
		return false;
	*port_r = htons((in_port_t)port);
	return true;
}

static bool
parse_unix(const char *path, struct sockaddr_storage *addr_r,
	   const char **error_r)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)addr_r;
	size_t length = strlen(path);

	/* The v2 field is 108 bytes, sun_path as well on Linux; a path that
	   fills it has no terminating NUL. */
	if (length == 0 || length > sizeof(sun->sun_path)) {
		*error_r = "UNIX path must have 1-108 bytes";
		return false;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, length);
	return true;
}

bool hc_address_parse(const char *str, struct sockaddr_storage *addr_r,
		      const char **error_r)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)addr_r;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr_r;
	bool bracketed = str[0] == '[';
	char host[INET6_ADDRSTRLEN];
	const char *end, *port;
	in_port_t *port_field;

	memset(addr_r, 0, sizeof(*addr_r));
	if (strncmp(str, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		return parse_unix(str + strlen(UNIX_PREFIX), addr_r, error_r);

	if (bracketed) {
		str++;
		end = strchr(str, ']');
		if (end == NULL || end[1] != ':') {
			*error_r = "expected [IPv6]:PORT";
			return false;
		}
		port = end + 2;
	} else {
		end = strrchr(str, ':');
		if (end == NULL) {
			*error_r = "expected ADDRESS:PORT";
			return false;
		}
		port = end + 1;
	}
	if ((size_t)(end - str) >= sizeof(host)) {
		*error_r = "address too long";
		return false;
	}
	memcpy(host, str, (size_t)(end - str));
	host[end - str] = '\0';

	if (bracketed && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		port_field = &sin6->sin6_port;
	} else if (!bracketed && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		port_field = &sin->sin_port;
	} else {
		*error_r = bracketed ? "not a numeric IPv6 address" :
			"not a numeric IPv4 address (IPv6 goes in brackets)";
		return false;
	}
	if (!parse_port(port, port_field)) {
		*error_r = "port is not a number 0-65535";
		return false;
	}
	return true;
}

/* addr as IPv6, IPv4 addresses mapped into ::ffff:0:0/96. */
static void
to_inet6(const struct sockaddr_storage *addr, struct proxy_endpoint *endpoint)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;

	if (addr->ss_family == AF_INET6) {
		memcpy(endpoint->addr, &sin6->sin6_addr, 16);
		endpoint->port = ntohs(sin6->sin6_port);
		return;
	}
	memset(endpoint->addr, 0, 10);
	endpoint->addr[10] = endpoint->addr[11] = 0xff;
	memcpy(endpoint->addr + 12, &sin->sin_addr, 4);
	endpoint->port = ntohs(sin->sin_port);
}

static void
to_inet(const struct sockaddr_storage *addr, struct proxy_endpoint *endpoint)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

	memcpy(endpoint->addr, &sin->sin_addr, 4);
	endpoint->port = ntohs(sin->sin_port);
}

static void
to_unix(const struct sockaddr_storage *addr, struct proxy_endpoint *endpoint)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)addr;

	endpoint->path.data = (const unsigned char *)sun->sun_path;
	endpoint->path.size = strnlen(sun->sun_path, sizeof(sun->sun_path));
}

static bool is_inet(const struct sockaddr_storage *addr)
{
	return addr->ss_family == AF_INET || addr->ss_family == AF_INET6;
}

bool hc_address_to_header(const struct sockaddr_storage *src,
			  const struct sockaddr_storage *dst,
			  struct proxy_header *hdr, const char **error_r)
{
	if (src->ss_family == AF_UNIX && dst->ss_family == AF_UNIX) {
		hdr->family = PROXY_AF_UNIX;
		to_unix(src, &hdr->src);
		to_unix(dst, &hdr->dst);
	} else if (!is_inet(src) || !is_inet(dst)) {
		*error_r = "source and destination must both be UNIX paths or both IP addresses";
		return false;
	} else if (src->ss_family == AF_INET && dst->ss_family == AF_INET) {
		hdr->family = PROXY_AF_INET;
		to_inet(src, &hdr->src);
		to_inet(dst, &hdr->dst);
	} else {
		hdr->family = PROXY_AF_INET6;
		to_inet6(src, &hdr->src);
		to_inet6(dst, &hdr->dst);
	}
	return true;
}

const char *hc_address_str(const struct sockaddr *addr)
{
	static char str[INET6_ADDRSTRLEN + sizeof(" port 65535")];
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;
	char host[INET6_ADDRSTRLEN];

	switch (addr->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(str, sizeof(str), "%s port %u", host, ntohs(sin->sin_port));
		return str;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(str, sizeof(str), "%s port %u", host, ntohs(sin6->sin6_port));
		return str;
	default:
		return "an address of unknown family";
	}
}
