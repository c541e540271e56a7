#ifndef HAPROXY_TRUST_H
#define HAPROXY_TRUST_H

/* haproxy_trusted_networks, parsed once when the login process starts. */
struct haproxy_trust;

/* Parse a space or comma separated list of IPs and CIDR ranges. Returns
   NULL and *error_r naming the bad entry if one does not parse. */
struct haproxy_trust *
haproxy_trust_parse(pool_t pool, const char *networks, const char **error_r);

bool haproxy_trust_is_empty(const struct haproxy_trust *trust);
bool haproxy_trust_check(const struct haproxy_trust *trust,
			 const struct ip_addr *ip);

#endif
