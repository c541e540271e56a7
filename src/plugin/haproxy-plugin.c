/* login_plugins = haproxy: take every haproxy = yes listener away from
   Dovecot's built-in PROXY parser and read its headers here instead. */

#include "login-common.h"
#include "array.h"
#include "ioloop.h"
#include "module-dir.h"
/* The service's callback and listeners, which the plugin takes over. */
#include "master-service-private.h"
#include "master-service-settings.h"
#include "haproxy-version.h"
#include "haproxy-compat.h"
#include "haproxy-settings.h"
#include "haproxy-networks.h"
#include "haproxy-event.h"
#include "haproxy-client.h"
#include "haproxy-policy.h"
#include "haproxy-conn.h"

const char *haproxy_plugin_version = DOVECOT_ABI_VERSION;

void haproxy_plugin_init(struct module *module);
void haproxy_plugin_deinit(void);

static pool_t haproxy_pool = NULL;
static ARRAY(struct haproxy_listener) haproxy_listeners;
static master_service_connection_callback_t *haproxy_next_callback = NULL;
static struct timeout *haproxy_to_install = NULL;
/* The master's pre-accepted connection, until the callback is wrapped. */
static struct master_service_connection haproxy_preaccepted;
static bool haproxy_have_preaccepted = FALSE;

static const struct haproxy_listener *haproxy_listener_find(int listen_fd)
{
	const struct haproxy_listener *listener;

	array_foreach(&haproxy_listeners, listener) {
		if (listener->fd == listen_fd)
			return listener;
	}
	return NULL;
}

static bool haproxy_listener_is_ours(int listen_fd)
{
	return haproxy_listener_find(listen_fd) != NULL;
}

/* Listener names are unique in a service: a second block of a name is
   the first one's. */
static bool haproxy_listener_name_is_ours(const char *name)
{
	const struct haproxy_listener *listener;

	array_foreach(&haproxy_listeners, listener) {
		if (strcmp(listener->name, name) == 0)
			return TRUE;
	}
	return FALSE;
}

static void haproxy_service_callback(struct master_service_connection *conn)
{
	const struct haproxy_listener *listener =
		haproxy_listener_find(conn->listen_fd);

	/* Anything still kept for this fd belongs to a closed connection. */
	haproxy_facts_forget(conn->fd);
	if (listener != NULL)
		haproxy_conn_new(listener, conn, haproxy_next_callback);
	else
		haproxy_next_callback(conn);
}

/* master_service_run() sets the service callback after the plugins are
   initialized, right before the ioloop starts. Timeouts run before any io
   in a loop iteration, so this 0 ms timeout wraps the callback before the
   first connection is accepted. */
static void haproxy_install_callback(void *context ATTR_UNUSED)
{
	timeout_remove(&haproxy_to_install);
	i_assert(master_service->callback != NULL);
	haproxy_next_callback = master_service->callback;
	master_service->callback = haproxy_service_callback;

	if (haproxy_have_preaccepted) {
		haproxy_have_preaccepted = FALSE;
		master_service_client_connection_created(master_service);
		master_service_client_connection_callback(master_service,
							  &haproxy_preaccepted);
	}
}

/* Who may connect to a listener without a header, from the plugin's
   settings. */
static void
haproxy_listener_init(struct haproxy_listener *listener, const char *name,
		      unsigned int timeout_secs)
{
	const struct haproxy_settings *set;
	struct haproxy_networks *direct;
	const char *error;

	if (haproxy_settings_get(name, &set, &error) < 0) {
		i_fatal("haproxy: Cannot read the plugin's settings: %s "
			"(is settings/libhaproxy_settings.so installed in "
			"Dovecot's module directory?)", error);
	}
	direct = haproxy_networks_parse(haproxy_pool, "haproxy_direct_networks",
					set->haproxy_direct_networks, &error);
	if (direct == NULL)
		i_fatal("%s", error);
	if (!haproxy_networks_is_empty(direct)) {
		if (set->haproxy_direct_wait / 1000 >= timeout_secs) {
			i_fatal("haproxy_direct_wait (%u ms) must be shorter "
				"than haproxy_timeout (%u s)",
				set->haproxy_direct_wait, timeout_secs);
		}
		listener->direct = direct;
	}
	/* Also how long a health check has to close after its header. */
	listener->direct_wait_msecs = set->haproxy_direct_wait;
	haproxy_settings_put(&set);
}

/* Clearing the flag keeps master_service_listen() from starting its own
   parser on these listeners. */
static void haproxy_take_listeners(unsigned int timeout_secs)
{
	unsigned int i;

	for (i = 0; i < master_service->socket_count; i++) {
		struct master_service_listener *l = &master_service->listeners[i];
		const char *name = l->name != NULL ? l->name : "";
		struct haproxy_listener *listener;

		if (!l->haproxy)
			continue;
		listener = array_append_space(&haproxy_listeners);
		listener->fd = l->fd;
		listener->name = p_strdup(haproxy_pool, name);
		listener->event = haproxy_listener_event_create(name);
		if (haproxy_settings_per_listener() ||
		    array_count(&haproxy_listeners) == 1)
			haproxy_listener_init(listener, name, timeout_secs);
		else {
			/* The same settings: no need to ask again. */
			const struct haproxy_listener *first =
				array_front(&haproxy_listeners);

			listener->direct = first->direct;
			listener->direct_wait_msecs = first->direct_wait_msecs;
		}
		l->haproxy = FALSE;
	}
}

void haproxy_plugin_init(struct module *module)
{
	const struct master_service_settings *set;
	unsigned int timeout_secs;
	struct haproxy_networks *trusted;
	const char *error;

	haproxy_version_check();
	set = haproxy_service_settings();
	timeout_secs = set->haproxy_timeout;
	haproxy_pool = pool_alloconly_create("haproxy plugin", 1024);
	p_array_init(&haproxy_listeners, haproxy_pool, 4);
	/* Reading the plugin's settings may replace set. */
	haproxy_take_listeners(timeout_secs);
	/* A process without haproxy listeners does not read
	   haproxy_trusted_networks, as Dovecot's own parser would not. */
	if (array_is_empty(&haproxy_listeners))
		return;
	if (timeout_secs > HAPROXY_TIMEOUT_MAX_SECS) {
		i_fatal("haproxy_timeout (%u s) must be at most %u s",
			timeout_secs, HAPROXY_TIMEOUT_MAX_SECS);
	}
	set = haproxy_service_settings();
	trusted = haproxy_networks_parse(haproxy_pool,
					 "haproxy_trusted_networks",
					 set->haproxy_trusted_networks, &error);
	if (trusted == NULL)
		i_fatal("%s", error);
	haproxy_have_preaccepted =
		haproxy_take_preaccepted(haproxy_listener_is_ours,
					 &haproxy_preaccepted);

	haproxy_policy_init(trusted);
	haproxy_conns_init(timeout_secs);
	haproxy_client_init(module, haproxy_listener_name_is_ours);
	haproxy_to_install = timeout_add_short(0, haproxy_install_callback,
					       (void *)NULL);
}

void haproxy_plugin_deinit(void)
{
	struct haproxy_listener *listener;

	if (!array_is_empty(&haproxy_listeners)) {
		if (master_service->callback == haproxy_service_callback)
			master_service->callback = haproxy_next_callback;
		timeout_remove(&haproxy_to_install);
		if (haproxy_have_preaccepted)
			i_close_fd(&haproxy_preaccepted.fd);
		haproxy_conns_deinit();
		haproxy_client_deinit();
		haproxy_compat_deinit();
	}
	array_foreach_modifiable(&haproxy_listeners, listener)
		event_unref(&listener->event);
	pool_unref(&haproxy_pool);
}
