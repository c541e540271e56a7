/* Events and log text for PROXY headers. */

#include "lib.h"
#include "str.h"
#include "net.h"
#include "master-service.h"
#include "haproxy-event.h"

struct event_category event_category_haproxy = {
	.name = "haproxy",
};

struct event *haproxy_event_create(const struct master_service_connection *conn)
{
	struct event *event = event_create(NULL);

	event_add_category(event, &event_category_haproxy);
	event_add_str(event, "remote_ip", net_ip2addr(&conn->real_remote_ip));
	event_add_int(event, "remote_port", conn->real_remote_port);
	event_add_str(event, "local_ip", net_ip2addr(&conn->real_local_ip));
	event_add_int(event, "local_port", conn->real_local_port);
	event_add_str(event, "listener", conn->name);
	event_set_append_log_prefix(event, "haproxy: ");
	return event;
}

struct event_passthrough *
haproxy_event_finished(struct event *event, const char *result)
{
	return event_create_passthrough(event)->
		set_name(HAPROXY_EVENT_FINISHED)->
		add_str("result", result);
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
