/* Where Dovecot 2.3 and 2.4 differ for the plugin: functions with the
   plugin's own names, one definition per line of Dovecot, chosen by what
   configure found in the Dovecot built against. */

#include "login-common.h"
#include "module-context.h"
#include "master-interface.h"
#include "master-service-private.h"
#include "master-service-settings.h"
#include "client-common.h"
#include "haproxy-networks.h"
#include "haproxy-settings.h"
#include "haproxy-event.h"
#include "haproxy-text.h"
#include "haproxy-compat.h"

#include "iostream-ssl.h"

#ifdef HAVE_SETTINGS_GET
#  include "settings.h"
#endif
#ifdef HAVE_LOGIN_SETTINGS_READ
#  include "dns-util.h"
#  include "login-settings.h"
#  include "master-service-ssl-settings.h"
#endif
#include "str.h"
#include "strescape.h"

const struct master_service_settings *haproxy_service_settings(void)
{
#ifdef HAVE_GET_SERVICE_SETTINGS
	return master_service_get_service_settings(master_service);
#else
	return master_service_settings_get(master_service);
#endif
}

#ifdef HAVE_SETTINGS_GET
int haproxy_settings_get(const char *listener,
			 const struct haproxy_settings **set_r,
			 const char **error_r)
{
	struct event *event =
		event_create(master_service_get_event(master_service));
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

void haproxy_settings_put(const struct haproxy_settings **set)
{
	settings_free(*set);
}

bool haproxy_settings_per_listener(void)
{
	return TRUE;
}
#else
int haproxy_settings_get(const char *listener ATTR_UNUSED,
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

void haproxy_settings_put(const struct haproxy_settings **set)
{
	/* They live in the service's settings pool until its next read. */
	*set = NULL;
}

bool haproxy_settings_per_listener(void)
{
	return FALSE;
}
#endif

#ifdef HAVE_ACCEPTED_LISTENER_FD
/* The peer of a connection the master accepted, into conn. getpeername()
   fails once the peer has reset the connection, as a health check does
   right after its header; Linux still has the address accept() would
   have given, as SO_PEERNAME, and the header is still there to read. */
static void haproxy_preaccepted_peer(struct master_service_connection *conn)
{
	union {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} so;
	/* No more than the address is long, or Linux refuses. */
	socklen_t size = conn->local_ip.family == AF_INET6 ?
		sizeof(so.sin6) : sizeof(so.sin);

	if (net_getpeername(conn->fd, &conn->remote_ip,
			    &conn->remote_port) == 0)
		return;
#ifdef SO_PEERNAME
	i_zero(&so);
	if (getsockopt(conn->fd, SOL_SOCKET, SO_PEERNAME, &so, &size) < 0)
		return;
	if (so.sin.sin_family == AF_INET && conn->local_ip.family == AF_INET) {
		conn->remote_ip.family = AF_INET;
		conn->remote_ip.u.ip4 = so.sin.sin_addr;
		conn->remote_port = ntohs(so.sin.sin_port);
	} else if (so.sin6.sin6_family == AF_INET6 &&
		   conn->local_ip.family == AF_INET6) {
		conn->remote_ip.family = AF_INET6;
		conn->remote_ip.u.ip6 = so.sin6.sin6_addr;
		conn->remote_ip.scope_id = so.sin6.sin6_scope_id;
		conn->remote_port = ntohs(so.sin6.sin6_port);
	}
#endif
}
#endif

bool haproxy_take_preaccepted(bool (*is_ours)(int listen_fd),
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
	(void)net_getsockname(conn_r->fd, &conn_r->local_ip,
			      &conn_r->local_port);
	/* Unset where the system cannot tell. */
	haproxy_preaccepted_peer(conn_r);
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

struct event *haproxy_service_event(void)
{
#ifdef HAVE_MASTER_SERVICE_GET_EVENT
	return master_service_get_event(master_service);
#else
	/* 2.3's master service has no event: login-common's own events
	   have no parent either. */
	return NULL;
#endif
}

bool haproxy_ip_has_scope(const struct ip_addr *ip)
{
#ifdef HAVE_IP_ADDR_SCOPE_ID
	return ip->scope_id != 0;
#else
	(void)ip;
	return FALSE;
#endif
}

void haproxy_event_add_ip(struct event *event, const char *key,
			  const struct ip_addr *ip)
{
#ifdef HAVE_EVENT_ADD_IP
	/* 2.4's filters match an IP field by network: remote_ip = 10.0.0.0/8 */
	event_add_ip(event, key, ip);
#else
	/* 2.3 has strings, as login-common's events have. */
	event_add_str(event, key, haproxy_ip_str(ip));
#endif
}

#ifdef HAVE_FORWARD_FIELDS_ARRAY
void haproxy_client_forward_fields_filter(struct client *client,
	bool (*keep)(const char *field, void *context), void *context)
{
	unsigned int i = 0;

	if (!array_is_created(&client->forward_fields))
		return;
	while (i < array_count(&client->forward_fields)) {
		if (keep(array_idx_elem(&client->forward_fields, i), context))
			i++;
		else
			array_delete(&client->forward_fields, i, 1);
	}
	if (array_is_empty(&client->forward_fields))
		i_zero(&client->forward_fields);
}
#else
void haproxy_client_forward_fields_filter(struct client *client,
	bool (*keep)(const char *field, void *context), void *context)
{
	const char *const *fields;
	string_t *kept;

	if (client->forward_fields == NULL)
		return;
	/* client_add_forward_field()'s format: tab-escaped fields separated
	   by tabs. */
	fields = t_strsplit(str_c(client->forward_fields), "\t");
	kept = t_str_new(str_len(client->forward_fields));
	for (; *fields != NULL; fields++) {
		if (!keep(t_str_tabunescape(*fields), context))
			continue;
		if (str_len(kept) > 0)
			str_append_c(kept, '\t');
		str_append(kept, *fields);
	}
	if (str_len(kept) == 0) {
		/* It lives in the client's preproxy pool. */
		client->forward_fields = NULL;
		return;
	}
	str_truncate(client->forward_fields, 0);
	str_append_str(client->forward_fields, kept);
}
#endif

#ifdef HAVE_LOGIN_SETTINGS_READ
/* The protocol's part of the client (imap_*, pop3_* settings), made by
   client->v.create() right after the client_allocated hook. */
struct haproxy_login_client {
	union login_client_module_context module_ctx;
	void **other_sets;
};

static MODULE_CONTEXT_DEFINE_INIT(haproxy_login_client_module,
				  &login_module_register);

static void haproxy_client_create(struct client *client,
				  void **other_sets ATTR_UNUSED)
{
	struct haproxy_login_client *hclient =
		MODULE_CONTEXT(client, haproxy_login_client_module);

	hclient->module_ctx.super.create(client, hclient->other_sets);
}

/* client_alloc()'s rule, with the settings of the local name: a client
   whose address is in login_trusted_networks is trusted. */
static bool haproxy_client_is_trusted(struct client *client)
{
	const struct haproxy_networks *trusted;
	const char *error;

	trusted = haproxy_networks_parse(pool_datastack_create(),
					 "login_trusted_networks",
					 client->set->login_trusted_networks,
					 &error);
	if (trusted == NULL) {
		e_error(client->event, "%s", error);
		return FALSE;
	}
	return haproxy_networks_match(trusted, &client->ip);
}

/* The names of the configuration's local_name filters, which may hold
   wildcards, asked for when the first header with an AUTHORITY comes. */
enum haproxy_local_names_state {
	HAPROXY_LOCAL_NAMES_NOT_ASKED,
	/* The config process could not tell. */
	HAPROXY_LOCAL_NAMES_UNKNOWN,
	HAPROXY_LOCAL_NAMES_KNOWN,
};
static enum haproxy_local_names_state haproxy_local_names_state =
	HAPROXY_LOCAL_NAMES_NOT_ASKED;
static pool_t haproxy_local_names_pool = NULL;
static ARRAY_TYPE(const_string) haproxy_local_names;

/* A filter's names are separated by spaces. */
static void haproxy_local_names_add(const char *names)
{
	const char *const *name;

	for (name = t_strsplit_spaces(names, " "); *name != NULL; name++) {
		const char *copy = p_strdup(haproxy_local_names_pool, *name);

		array_push_back(&haproxy_local_names, &copy);
	}
}

static const char *const *haproxy_local_names_get(void)
{
	const char *const *filters, *const *args, *error;

	switch (haproxy_local_names_state) {
	case HAPROXY_LOCAL_NAMES_NOT_ASKED:
		break;
	case HAPROXY_LOCAL_NAMES_UNKNOWN:
		return NULL;
	case HAPROXY_LOCAL_NAMES_KNOWN:
		return array_front(&haproxy_local_names);
	}
	if (master_service_settings_get_filters(master_service, &filters,
						&error) < 0) {
		haproxy_local_names_state = HAPROXY_LOCAL_NAMES_UNKNOWN;
		i_warning("haproxy: Cannot list the local_name filters, so "
			  "the settings are read again for every AUTHORITY: "
			  "%s", error);
		return NULL;
	}
	haproxy_local_names_pool =
		pool_alloconly_create("haproxy local_name filters", 256);
	p_array_init(&haproxy_local_names, haproxy_local_names_pool, 8);
	for (; *filters != NULL; filters++) {
		for (args = t_strsplit_tabescaped(*filters); *args != NULL;
		     args++) {
			if (str_begins(*args, "local-name="))
				haproxy_local_names_add(*args + 11);
		}
	}
	array_append_zero(&haproxy_local_names);
	haproxy_local_names_state = HAPROXY_LOCAL_NAMES_KNOWN;
	return array_front(&haproxy_local_names);
}

/* Whether a local_name { } block may match name: which side config's
   matching takes as the wildcard pattern is not ours to know, so both are
   tried. When in doubt, yes: that costs a settings read, not a setting. */
static bool haproxy_local_name_may_match(const char *name)
{
	const char *const *mask = haproxy_local_names_get();

	if (mask == NULL)
		return TRUE;
	for (; *mask != NULL; mask++) {
		if (dns_match_wildcard(name, *mask) == 0 ||
		    dns_match_wildcard(*mask, name) == 0)
			return TRUE;
	}
	return FALSE;
}

/* An ssl = yes listener's TLS was set up with the settings read before
   the client had its local name: the certificate of its block instead. */
static void haproxy_client_ssl_context_update(struct client *client)
{
	struct ssl_iostream_context *ssl_ctx;
	struct ssl_iostream_settings ssl_set;
	const char *error;

#ifdef HAVE_CLIENT_SSL_SERVER_SET
	master_service_ssl_server_settings_to_iostream_set(client->ssl_set,
		client->ssl_server_set, pool_datastack_create(), &ssl_set);
#else
	/* before 2.3.17 part of ssl_set */
	master_service_ssl_settings_to_iostream_set(client->ssl_set,
		pool_datastack_create(), MASTER_SERVICE_SSL_SETTINGS_TYPE_SERVER,
		&ssl_set);
#endif
	if (ssl_iostream_server_context_cache_get(&ssl_set, &ssl_ctx,
						  &error) < 0) {
		e_error(client->event, "haproxy: SSL settings of local_name "
			"%s: %s", client->local_name, error);
		return;
	}
	ssl_iostream_change_context(client->ssl_iostream, ssl_ctx);
	ssl_iostream_context_unref(&ssl_ctx);
}

void haproxy_client_apply_local_name(struct client *client)
{
	struct haproxy_login_client *hclient;
	void **other_sets;

	/* login-common reads the settings again for the TLS SNI of a
	   client, and without a name for a client that sends none: the
	   name from the header would be gone. It stays, as SNI is read once
	   for a client. */
	client->ssl_servername_settings_read = TRUE;

	/* Reading the settings again costs more than the rest of a
	   header's handling: only when a block may apply. */
	if (!haproxy_local_name_may_match(client->local_name))
		return;

	client->set = login_settings_read(client->pool, &client->local_ip,
					  &client->ip, client->local_name,
					  &client->ssl_set,
#ifdef HAVE_CLIENT_SSL_SERVER_SET
					  /* before 2.3.17 part of ssl_set */
					  &client->ssl_server_set,
#endif
					  &other_sets);
	/* A proxied client is secured when the proxy says TLS, when it
	   speaks TLS itself (an ssl = yes listener) or when it is trusted:
	   auth asserts that a TLS client is secured. */
	client->trusted = haproxy_client_is_trusted(client);
	client->secured = client->proxied_ssl || client->tls ||
		client->trusted;
	if (client->ssl_iostream != NULL)
		haproxy_client_ssl_context_update(client);

	hclient = p_new(client->pool, struct haproxy_login_client, 1);
	hclient->module_ctx.super = client->v;
	hclient->other_sets = other_sets;
	client->v.create = haproxy_client_create;
	MODULE_CONTEXT_SET(client, haproxy_login_client_module, hclient);
}
void haproxy_compat_deinit(void)
{
	pool_unref(&haproxy_local_names_pool);
}
#else
/* The local name from the header, for TLS started on the connection. */
struct haproxy_login_client {
	union login_client_module_context module_ctx;
	const char *local_name;
};

static MODULE_CONTEXT_DEFINE_INIT(haproxy_login_client_module,
				  &login_module_register);

/* login-common's SNI callback reads the client's settings again for the
   name the client sends, and for none when it sends none: the name from
   the header would be gone. Its callback runs all the same (it also
   lets a TLS client be greeted), with the header's name. */
static int haproxy_client_sni(const char *name ATTR_UNUSED,
			      const char **error_r, void *context)
{
	struct client *client = context;
	struct haproxy_login_client *hclient =
		MODULE_CONTEXT(client, haproxy_login_client_module);

	return client_sni_callback(hclient->local_name, error_r, client);
}

/* client_init_ssl() has just set login-common's SNI callback. */
static void haproxy_client_starttls(struct client *client)
{
	struct haproxy_login_client *hclient =
		MODULE_CONTEXT(client, haproxy_login_client_module);

	ssl_iostream_set_sni_callback(client->ssl_iostream,
				      haproxy_client_sni, client);
	hclient->module_ctx.super.starttls(client);
}

void haproxy_client_apply_local_name(struct client *client)
{
	struct haproxy_login_client *hclient =
		p_new(client->pool, struct haproxy_login_client, 1);

	/* Dovecot applied the name's blocks itself. */
	hclient->local_name = client->local_name;
	hclient->module_ctx.super = client->v;
	client->v.starttls = haproxy_client_starttls;
	MODULE_CONTEXT_SET(client, haproxy_login_client_module, hclient);
	/* An ssl = yes listener's TLS is set up already. */
	if (client->ssl_iostream != NULL) {
		ssl_iostream_set_sni_callback(client->ssl_iostream,
					      haproxy_client_sni, client);
	}
}

void haproxy_compat_deinit(void)
{
}
#endif
