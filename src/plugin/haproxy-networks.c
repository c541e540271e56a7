/* IP networks from a setting. Dovecot's own parser splits and parses
   haproxy_trusted_networks again for every connection and stops at the first
   bad entry; here it is done once, and a bad entry is a configuration
   error. */

#include "lib.h"
#include "array.h"
#include "net.h"
#include "haproxy-networks.h"

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
