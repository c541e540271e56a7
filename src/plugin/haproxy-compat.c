/* Where Dovecot 2.3 and 2.4 differ for the plugin: functions with the
   plugin's own names, one definition per line of Dovecot, chosen by what
   configure found in the Dovecot built against. */

#include "login-common.h"
#include "module-context.h"
#include "client-common.h"
#include "haproxy-networks.h"
#include "haproxy-event.h"
#include "haproxy-compat.h"

#ifdef HAVE_LOGIN_SETTINGS_READ
#  include "login-settings.h"
#endif

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

void haproxy_client_apply_local_name(struct client *client)
{
	struct haproxy_login_client *hclient;
	void **other_sets;

	client->set = login_settings_read(client->pool, &client->local_ip,
					  &client->ip, client->local_name,
					  &client->ssl_set,
					  &client->ssl_server_set, &other_sets);
	/* A proxied client is secured when the proxy says TLS or when it
	   is trusted. */
	client->trusted = haproxy_client_is_trusted(client);
	client->secured = client->proxied_ssl || client->trusted;

	hclient = p_new(client->pool, struct haproxy_login_client, 1);
	hclient->module_ctx.super = client->v;
	hclient->other_sets = other_sets;
	client->v.create = haproxy_client_create;
	MODULE_CONTEXT_SET(client, haproxy_login_client_module, hclient);
}
#else
void haproxy_client_apply_local_name(struct client *client ATTR_UNUSED)
{
}
#endif
