/* IP networks from a setting. Dovecot's own parser splits and parses
   haproxy_trusted_networks again for every connection and stops at the first
   bad entry; here it is done once, and a bad entry is a configuration
   error. */

#include "lib.h"
#include "array.h"
#include "net.h"
#include "haproxy-networks.h"

#include <netinet/in.h>

struct haproxy_network {
	struct ip_addr ip;
	unsigned int bits;
};

struct haproxy_networks {
	ARRAY(struct haproxy_network) list;
};

struct haproxy_networks *
haproxy_networks_parse(pool_t pool, const char *setting, const char *value,
		       const char **error_r)
{
	struct haproxy_networks *networks = p_new(pool, struct haproxy_networks, 1);
	const char *const *entry;

	p_array_init(&networks->list, pool, 4);
	if (value == NULL)
		return networks;
	for (entry = t_strsplit_spaces(value, ", "); *entry != NULL; entry++) {
		struct haproxy_network *net = array_append_space(&networks->list);

		if (net_parse_range(*entry, &net->ip, &net->bits) < 0) {
			*error_r = t_strdup_printf("%s: Invalid network '%s'",
						   setting, *entry);
			return NULL;
		}
	}
	return networks;
}

/* "a.b.c.d" or "a.b.c.d/n": the IPv4 network an IPv4-mapped one means. */
static const char *
haproxy_network_ipv4(const struct ip_addr *ip, unsigned int bits)
{
	struct ip_addr ip4;

	i_zero(&ip4);
	ip4.family = AF_INET;
	memcpy(&ip4.u.ip4, ip->u.ip6.s6_addr + 12, sizeof(ip4.u.ip4));
	return bits == 128 ? net_ip2addr(&ip4) :
		t_strdup_printf("%s/%u", net_ip2addr(&ip4), bits - 96);
}

const char *haproxy_network_unmatchable(const char *entry, bool *invalid_r)
{
	struct ip_addr ip;
	unsigned int bits;

	*invalid_r = net_parse_range(entry, &ip, &bits) < 0;
	if (*invalid_r)
		return t_strdup_printf("Invalid network '%s'", entry);
	if (ip.family != AF_INET6 || bits < 96 ||
	    !IN6_IS_ADDR_V4MAPPED(&ip.u.ip6))
		return NULL;
	return t_strdup_printf("'%s' never matches: peers connect as IPv4 "
			       "and are compared as IPv4; write '%s'", entry,
			       haproxy_network_ipv4(&ip, bits));
}

bool haproxy_networks_is_empty(const struct haproxy_networks *networks)
{
	return array_is_empty(&networks->list);
}

bool haproxy_networks_match(const struct haproxy_networks *networks,
			    const struct ip_addr *ip)
{
	const struct haproxy_network *net;

	array_foreach(&networks->list, net) {
		if (net_is_in_network(ip, &net->ip, net->bits))
			return TRUE;
	}
	return FALSE;
}
