#ifndef HAPROXY_FORWARD_H
#define HAPROXY_FORWARD_H

struct client;
struct haproxy_facts;

/* From now on, every auth request of a client of a haproxy listener has
   the forward facts of its header (facts, NULL for none) as its only
   haproxy_* forward fields, and no field without a value, whatever the
   client sent. Called from the client_allocated hook. */
void haproxy_forward_guard(struct client *client,
			   const struct haproxy_facts *facts);

#endif
