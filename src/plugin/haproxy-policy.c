/* Who may connect to a haproxy listener and how: the decisions that
   depend on the administrator's settings, apart from the reading. */

#include "lib.h"
#include "net.h"
#include "master-service.h"
#include "proxy-decoder.h"
#include "haproxy-networks.h"
#include "haproxy-policy.h"

static const struct haproxy_networks *haproxy_trusted;

void haproxy_policy_init(const struct haproxy_networks *trusted)
{
	haproxy_trusted = trusted;
}

enum haproxy_peer
haproxy_policy_peer(const struct haproxy_networks *direct,
		    const struct ip_addr *ip)
{
	bool trusted = haproxy_networks_match(haproxy_trusted, ip);

	if (direct == NULL || !haproxy_networks_match(direct, ip))
		return trusted ? HAPROXY_PEER_PROXY : HAPROXY_PEER_STRANGER;
	return trusted ? HAPROXY_PEER_EITHER : HAPROXY_PEER_DIRECT;
}

const char *haproxy_policy_stranger_reason(void)
{
	return haproxy_networks_is_empty(haproxy_trusted) ?
		"Peer not trusted: haproxy_trusted_networks is empty" :
		"Peer not in haproxy_trusted_networks";
}

bool haproxy_policy_is_proxys_own(const struct master_service_connection *conn,
				  const struct proxy_header *hdr)
{
	return hdr->command == PROXY_CMD_LOCAL ||
		(net_ip_compare(&conn->remote_ip, &conn->real_remote_ip) &&
		 conn->remote_port == conn->real_remote_port);
}
