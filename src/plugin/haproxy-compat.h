#ifndef HAPROXY_COMPAT_H
#define HAPROXY_COMPAT_H

/* Where Dovecot 2.3 and 2.4 differ for the plugin, and only that. configure
   checks the API of the Dovecot it builds against (DOVECOT_API_CPPFLAGS);
   the rest of the plugin is written once. */

#include "login-common.h"
#include "net.h"
#include "master-interface.h"
#include "master-service-private.h"
#include "master-service-settings.h"
#include "client-common.h"
#include "haproxy-settings.h"

/* What a PROXY header sets on a connection: 2.3's proxy and proxied fields
   are 2.4's haproxy and haproxied. */
#ifdef HAVE_CONNECTION_HAPROXIED
#  define CONN_PROXY(conn) ((conn)->haproxy)
#  define CONN_PROXIED(conn) ((conn)->haproxied)
#else
#  define CONN_PROXY(conn) ((conn)->proxy)
#  define CONN_PROXIED(conn) ((conn)->proxied)
#endif

/* A setting_parser_info names and places its struct differently: 2.3 by
   module name and offsets, 2.4 by a unique name and the struct's pool. A
   settings module exports them as <module>_set_roots or _set_infos. */
#ifdef HAVE_SETTINGS_GET
#  include "settings.h"
#  define HAPROXY_SETTING_PARSER_INFO(_name, _struct) \
	.name = (_name), .struct_size = sizeof(_struct), \
	.pool_offset1 = 1 + offsetof(_struct, pool)
#  define HAPROXY_SETTINGS_EXPORT(module) module##_set_infos
#else
#  define HAPROXY_SETTING_PARSER_INFO(_name, _struct) \
	.module_name = (_name), .struct_size = sizeof(_struct), \
	.type_offset = SIZE_MAX, .parent_offset = SIZE_MAX
#  define HAPROXY_SETTINGS_EXPORT(module) module##_set_roots
/* 2.3 expands %variables only in STR_VARS; 2.4 in STR. */
#  define SETTING_DEFINE_STRUCT_STR_NOVARS SETTING_DEFINE_STRUCT_STR
#endif

/* The parent of the plugin's events: the service's, where Dovecot has one. */
struct event *haproxy_service_event(void);
/* An address field as Dovecot's own events of the same line have it. */
void haproxy_event_add_ip(struct event *event, const char *key,
			  const struct ip_addr *ip);

static inline const struct master_service_settings *
haproxy_service_settings(void)
{
#ifdef HAVE_GET_SERVICE_SETTINGS
	return master_service_get_service_settings(master_service);
#else
	return master_service_settings_get(master_service);
#endif
}

/* The plugin's settings for one listener, until haproxy_settings_put().
   2.4 applies protocol, service and inet_listener { } filters; 2.3 has no
   listener filters, and the settings of its protocol { } block apply to
   every listener of the process (HAPROXY_SETTINGS_PER_LISTENER FALSE). */
#ifdef HAVE_SETTINGS_GET
#  define HAPROXY_SETTINGS_PER_LISTENER TRUE
static inline int
haproxy_settings_get(const char *listener,
		     const struct haproxy_settings **set_r,
		     const char **error_r)
{
	struct event *event = event_create(master_service_get_event(master_service));
	int ret;

	settings_event_add_list_filter_name(event, "service",
		master_service_get_name(master_service));
	/* Not settings_get_filter(): that one wants the listener to have
	   settings of its own. */
	settings_event_add_list_filter_name(event, "inet_listener", listener);
	ret = settings_get(event, &haproxy_setting_parser_info, 0, set_r,
			   error_r);
	event_unref(&event);
	return ret;
}
#  define haproxy_settings_put(set) settings_free(set)
#else
#  define HAPROXY_SETTINGS_PER_LISTENER FALSE
static inline int
haproxy_settings_get(const char *listener ATTR_UNUSED,
		     const struct haproxy_settings **set_r,
		     const char **error_r)
{
	const struct setting_parser_info *roots[] = {
		&haproxy_setting_parser_info, NULL
	};
	const struct master_service_settings_input input = {
		.roots = roots,
		.module = "haproxy",
		.service = login_binary->protocol,
	};
	struct master_service_settings_output output;

	if (master_service_settings_read(master_service, &input, &output,
					 error_r) < 0)
		return -1;
	*set_r = master_service_settings_get_others(master_service)[0];
	return 0;
}
/* They live in the service's settings pool until its next read. */
#  define haproxy_settings_put(set) ((set) = NULL)
#endif

/* Let all of the local_name { } blocks that match a local name from a
   PROXY header apply to its client, as they do for TLS SNI. 2.4 applies
   conn's hostname itself before it reads the client's settings; on 2.3
   the client was made with settings read without it. Called from the
   client_allocated hook. */
void haproxy_client_apply_local_name(struct client *client);

/* From 2.4.2 on, a process that serves one client at a time gets its first
   connection accepted by the master, and master_service_run() hands it to
   the service callback before the ioloop runs, so before the plugin could
   wrap that callback. If that connection came to a listener that is_ours(),
   take it from Dovecot: fill *conn_r as master_service_run() would have
   and return TRUE; the caller passes it to the callback once it is
   wrapped. */
static inline bool
haproxy_take_preaccepted(bool (*is_ours)(int listen_fd),
			 struct master_service_connection *conn_r)
{
#ifdef HAVE_ACCEPTED_LISTENER_FD
	const struct master_service_listener *l;
	int listen_fd = master_service->accepted_listener_fd;

	if (listen_fd == -1 || !is_ours(listen_fd))
		return FALSE;
	master_service->accepted_listener_fd = -1;
	l = &master_service->listeners[listen_fd - MASTER_LISTEN_FD_FIRST];

	i_zero(conn_r);
	conn_r->fd = MASTER_ACCEPTED_CLIENT_FD;
	conn_r->listen_fd = listen_fd;
	conn_r->name = l->name != NULL ? l->name : "";
	conn_r->type = l->type != NULL ? l->type : "";
	conn_r->ssl = l->ssl;
	/* Fails if the peer has reset the connection meanwhile: the
	   address then stays unset. */
	(void)net_getpeername(conn_r->fd, &conn_r->remote_ip,
			      &conn_r->remote_port);
	(void)net_getsockname(conn_r->fd, &conn_r->local_ip,
			      &conn_r->local_port);
	conn_r->real_remote_ip = conn_r->remote_ip;
	conn_r->real_remote_port = conn_r->remote_port;
	conn_r->real_local_ip = conn_r->local_ip;
	conn_r->real_local_port = conn_r->local_port;
	net_set_nonblock(conn_r->fd, TRUE);
	return TRUE;
#else
	(void)is_ours;
	(void)conn_r;
	return FALSE;
#endif
}

#endif
