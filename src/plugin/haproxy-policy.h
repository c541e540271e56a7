#ifndef HAPROXY_POLICY_H
#define HAPROXY_POLICY_H

struct ip_addr;
struct master_service_connection;
struct proxy_header;
struct haproxy_networks;

/* What a peer of a haproxy listener may do, by its address: the settings
   haproxy_trusted_networks and haproxy_direct_networks applied. */
enum haproxy_peer {
	/* In neither list: closed at once. */
	HAPROXY_PEER_STRANGER,
	/* Trusted only: a proxy, which must send a PROXY header. */
	HAPROXY_PEER_PROXY,
	/* Direct only: served as on a plain listener, nothing read. */
	HAPROXY_PEER_DIRECT,
	/* In both lists: a PROXY signature makes it a proxy; any other first
	   bytes, or silence for haproxy_direct_wait, a direct client. */
	HAPROXY_PEER_EITHER,
};

/* The peers that may send a PROXY header, for every listener. */
void haproxy_policy_init(const struct haproxy_networks *trusted);

/* direct is the listener's haproxy_direct_networks, NULL if none. */
enum haproxy_peer
haproxy_policy_peer(const struct haproxy_networks *direct,
		    const struct ip_addr *ip);

/* Why a stranger is one, for its log line. */
const char *haproxy_policy_stranger_reason(void);

/* Whether a connection whose header was just read is the proxy's own,
   not a client's: LOCAL, or a header that names the connection's own
   source (HAProxy's v1 health checks). Such a connection that closes
   right after its header is a health check. */
bool haproxy_policy_is_proxys_own(const struct master_service_connection *conn,
				  const struct proxy_header *hdr);

#endif
