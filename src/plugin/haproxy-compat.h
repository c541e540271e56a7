#ifndef HAPROXY_COMPAT_H
#define HAPROXY_COMPAT_H

/* Where Dovecot 2.3 and 2.4 differ for the plugin, and only that: the few
   macros that must be macros, and functions of the plugin's own names,
   defined once for each line in haproxy-compat.c. configure checks the API
   of the Dovecot it builds against (DOVECOT_API_CPPFLAGS); the rest of the
   plugin is written once. */

#include "net.h"
#include "master-service.h"
#include "settings-parser.h"

struct client;
struct haproxy_settings;

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
   settings module exports them as <module>_set_roots or _set_infos. A
   string without %variables is STR in 2.3, which expands them only in
   STR_VARS, and STR_NOVARS in 2.4, which expands them in STR. */
#ifdef HAVE_SETTINGS_GET
#  define HAPROXY_SETTING_PARSER_INFO(_name, _struct) \
	.name = (_name), .struct_size = sizeof(_struct), \
	.pool_offset1 = 1 + offsetof(_struct, pool)
#  define HAPROXY_SETTINGS_EXPORT(module) module##_set_infos
#  define HAPROXY_SETTING_DEFINE_STR(name, _struct) \
	SETTING_DEFINE_STRUCT_STR_NOVARS(#name, name, _struct)
#else
#  define HAPROXY_SETTING_PARSER_INFO(_name, _struct) \
	.module_name = (_name), .struct_size = sizeof(_struct), \
	.type_offset = SIZE_MAX, .parent_offset = SIZE_MAX
#  define HAPROXY_SETTINGS_EXPORT(module) module##_set_roots
#  define HAPROXY_SETTING_DEFINE_STR(name, _struct) \
	SETTING_DEFINE_STRUCT_STR(#name, name, _struct)
#endif

/* Dovecot's own settings of the service: haproxy_trusted_networks,
   haproxy_timeout. */
const struct master_service_settings *haproxy_service_settings(void);

/* The plugin's settings for one listener, until haproxy_settings_put().
   2.4 applies protocol, service and inet_listener { } filters; 2.3 has no
   listener filters, and the settings of its protocol { } block apply to
   every listener of the process: haproxy_settings_per_listener() says
   whether asking again for another listener can give other settings. */
int haproxy_settings_get(const char *listener,
			 const struct haproxy_settings **set_r,
			 const char **error_r);
void haproxy_settings_put(const struct haproxy_settings **set);
bool haproxy_settings_per_listener(void);

/* From 2.4.2 on, a process that serves one client at a time gets its first
   connection accepted by the master, and master_service_run() hands it to
   the service callback before the ioloop runs, so before the plugin could
   wrap that callback. If that connection came to a listener that is_ours(),
   take it from Dovecot: fill *conn_r as master_service_run() would have
   and return TRUE; the caller passes it to the callback once it is
   wrapped. Always FALSE before 2.4.2. */
bool haproxy_take_preaccepted(bool (*is_ours)(int listen_fd),
			      struct master_service_connection *conn_r);

/* The parent of the plugin's events: the service's, where Dovecot has one. */
struct event *haproxy_service_event(void);
/* Whether an address has a scope ID (the interface of a link-local
   address), which only 2.4's struct ip_addr keeps and net_ip2addr()
   writes. */
bool haproxy_ip_has_scope(const struct ip_addr *ip);
/* An address field as Dovecot's own events of the same line have it. */
void haproxy_event_add_ip(struct event *event, const char *key,
			  const struct ip_addr *ip);

/* Let all of the local_name { } blocks that match a local name from a
   PROXY header apply to its client, as they do for TLS SNI, and keep the
   name when the client starts TLS (with or without SNI of its own). 2.4
   applies conn's hostname itself before it reads the client's settings;
   on 2.3 the client was made with settings read without it. Called from
   the client_allocated hook. */
void haproxy_client_apply_local_name(struct client *client);

/* Walk the client's forward fields, each as auth will read it ("KEY=VALUE",
   or a bare "KEY"), and remove those keep() refuses. 2.3 keeps them in a
   tab-escaped string, 2.4 in an array. Leaves none rather than an empty
   list: 2.4.1 to 2.4.4 would panic on an empty array, and 2.3's
   submission-login would ignore a later XCLIENT FORWARD. */
void haproxy_client_forward_fields_filter(struct client *client,
	bool (*keep)(const char *field, void *context), void *context);

/* Free what the functions above keep. */
void haproxy_compat_deinit(void);

#endif
