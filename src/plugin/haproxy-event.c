/* Events and log text for PROXY headers. */

#include "lib.h"
#include "str.h"
#include "net.h"
/* For an event's creation time, which no function sets. */
#include "lib-event-private.h"
#include "master-service.h"
#include "haproxy-compat.h"
#include "haproxy-event.h"

struct event_category event_category_haproxy = {
	.name = "haproxy",
};

struct event *haproxy_listener_event_create(const char *listener)
{
	struct event *event = event_create(haproxy_service_event());

	event_add_category(event, &event_category_haproxy);
	event_add_str(event, "listener", listener);
	event_set_append_log_prefix(event, "haproxy: ");
	return event;
}

struct event *
haproxy_event_finished(struct event *listener_event,
		       const struct master_service_connection *conn,
		       const struct timeval *accepted, const char *result)
{
	struct event *event = event_create(listener_event);

	/* The event stands for the connection since its accept, as a
	   passthrough event stands for its parent since the parent's
	   creation: a metric's duration is then the header's wait. */
	event->tv_created = *accepted;
	event->tv_created_ioloop = *accepted;
	event_set_name(event, HAPROXY_EVENT_FINISHED);
	event_add_str(event, "result", result);
	/* Unknown when the peer reset a connection the master accepted. */
	if (conn->real_remote_ip.family != 0) {
		haproxy_event_add_ip(event, "remote_ip", &conn->real_remote_ip);
		event_add_int(event, "remote_port", conn->real_remote_port);
	}
	haproxy_event_add_ip(event, "local_ip", &conn->real_local_ip);
	event_add_int(event, "local_port", conn->real_local_port);
	return event;
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
