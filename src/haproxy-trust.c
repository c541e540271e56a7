/* Which peers may send a PROXY header. Dovecot's own parser splits and
   parses the setting again for every connection and stops at the first bad
   entry; here it is done once, and a bad entry is a configuration error. */

#include "lib.h"
#include "array.h"
#include "net.h"
#include "haproxy-trust.h"

struct haproxy_network {
	struct ip_addr ip;
	unsigned int bits;
};

struct haproxy_trust {
	ARRAY(struct haproxy_network) networks;
};

struct haproxy_trust *
haproxy_trust_parse(pool_t pool, const char *networks, const char **error_r)
{
	struct haproxy_trust *trust = p_new(pool, struct haproxy_trust, 1);
	const char *const *entry;

	p_array_init(&trust->networks, pool, 4);
	if (networks == NULL)
		return trust;
	for (entry = t_strsplit_spaces(networks, ", "); *entry != NULL; entry++) {
		struct haproxy_network *net = array_append_space(&trust->networks);

		if (net_parse_range(*entry, &net->ip, &net->bits) < 0) {
			*error_r = t_strdup_printf(
				"haproxy_trusted_networks: Invalid network '%s'",
				*entry);
			return NULL;
		}
	}
	return trust;
}

bool haproxy_trust_is_empty(const struct haproxy_trust *trust)
{
	return array_is_empty(&trust->networks);
}

bool haproxy_trust_check(const struct haproxy_trust *trust,
			 const struct ip_addr *ip)
{
	const struct haproxy_network *net;

	array_foreach(&trust->networks, net) {
		if (net_is_in_network(ip, &net->ip, net->bits))
			return TRUE;
	}
	return FALSE;
}
