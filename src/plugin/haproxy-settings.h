#ifndef HAPROXY_SETTINGS_H
#define HAPROXY_SETTINGS_H

#include "settings-parser.h"

/* The plugin's own settings. settings/libhaproxy_settings.so registers them
   with Dovecot's config process, so that doveconf knows and checks them, and
   the login plugin reads them with the same definitions. */
struct haproxy_settings {
	pool_t pool;
	/* Peers that may connect to a haproxy = yes listener without a
	   PROXY header. */
	const char *haproxy_direct_networks;
	/* How long a peer in both haproxy_trusted_networks and
	   haproxy_direct_networks may stay silent before it is served as a
	   direct client, in milliseconds. */
	unsigned int haproxy_direct_wait;
	/* Dovecot's own, seen here too so that the check can warn. */
	const char *haproxy_trusted_networks;
};

extern const struct setting_parser_info haproxy_setting_parser_info;

#endif
