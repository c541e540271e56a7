/* Events and log text for PROXY headers. */

#include "lib.h"
#include "str.h"
#include "net.h"
#include "master-service.h"
#include "haproxy-event.h"

struct event_category event_category_haproxy = {
	.name = "haproxy",
};

struct event *haproxy_listener_event_create(const char *listener)
{
	struct event *event = event_create(NULL);

	event_add_category(event, &event_category_haproxy);
	event_add_str(event, "listener", listener);
	event_set_append_log_prefix(event, "haproxy: ");
	return event;
}

struct event_passthrough *
haproxy_event_finished(struct event *listener_event,
		       const struct master_service_connection *conn,
		       const char *result)
{
	struct event_passthrough *e = event_create_passthrough(listener_event)->
		set_name(HAPROXY_EVENT_FINISHED)->
		add_str("result", result);

	/* Unknown when the peer reset a connection the master accepted. */
	if (conn->real_remote_ip.family != 0) {
		e->add_str("remote_ip", haproxy_ip_str(&conn->real_remote_ip))->
			add_int("remote_port", conn->real_remote_port);
	}
	return e->add_str("local_ip", haproxy_ip_str(&conn->real_local_ip))->
		add_int("local_port", conn->real_local_port);
}

/* net_ip2addr() formats IPv4 with sprintf(), which costs more than the
   rest of a header's handling together. */
const char *haproxy_ip_str(const struct ip_addr *ip)
{
	const unsigned char *octet = (const unsigned char *)&ip->u.ip4;
	char *str, *p;
	unsigned int i;

	if (ip->family != AF_INET)
		return net_ip2addr(ip);
	p = str = t_malloc_no0(sizeof("255.255.255.255"));
	for (i = 0; i < 4; i++) {
		if (octet[i] >= 100)
			*p++ = '0' + octet[i] / 100;
		if (octet[i] >= 10)
			*p++ = '0' + octet[i] / 10 % 10;
		*p++ = '0' + octet[i] % 10;
		*p++ = i < 3 ? '.' : '\0';
	}
	return str;
}

const char *haproxy_escape(const void *data, size_t size, size_t max)
{
	const unsigned char *p = data;
	string_t *str = t_str_new(I_MIN(size, max) + 16);
	size_t i;

	for (i = 0; i < size && i < max; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"')
			str_append_c(str, p[i]);
		else
			str_printfa(str, "\\x%02x", p[i]);
	}
	if (i < size)
		str_append(str, "...");
	return str_c(str);
}
