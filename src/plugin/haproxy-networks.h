#ifndef HAPROXY_NETWORKS_H
#define HAPROXY_NETWORKS_H

/* A list of IPs and CIDR ranges from a setting (haproxy_trusted_networks,
   haproxy_direct_networks), parsed once when a login process starts. */
struct haproxy_networks;

/* Parse a space or comma separated list of IPs and CIDR ranges. Returns
   NULL and *error_r naming the setting and the bad entry if one does not
   parse. */
struct haproxy_networks *
haproxy_networks_parse(pool_t pool, const char *setting, const char *value,
		       const char **error_r);

/* Why an entry of a network list can never match, or NULL: it does not
   parse (*invalid_r), or it is an IPv4-mapped IPv6 network
   (::ffff:a.b.c.d/n) while peers arrive as IPv4 and are compared as
   IPv4. */
const char *haproxy_network_unmatchable(const char *entry, bool *invalid_r);

bool haproxy_networks_is_empty(const struct haproxy_networks *networks);
bool haproxy_networks_match(const struct haproxy_networks *networks,
			    const struct ip_addr *ip);

#endif
