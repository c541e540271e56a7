/* login_plugins = haproxy: take every haproxy = yes listener away from
   Dovecot's built-in PROXY parser and read its headers here instead. */

#include "login-common.h"
#include "array.h"
#include "ioloop.h"
#include "module-dir.h"
#include "haproxy-compat.h"
#include "haproxy-trust.h"
#include "haproxy-client.h"
#include "haproxy-conn.h"

const char *haproxy_plugin_version = DOVECOT_ABI_VERSION;

void haproxy_plugin_init(struct module *module);
void haproxy_plugin_deinit(void);

static pool_t haproxy_pool = NULL;
static ARRAY(int) haproxy_listen_fds;
static master_service_connection_callback_t *haproxy_next_callback = NULL;
static struct timeout *haproxy_to_install = NULL;
/* The master's pre-accepted connection, until the callback is wrapped. */
static struct master_service_connection haproxy_preaccepted;
static bool haproxy_have_preaccepted = FALSE;

static bool haproxy_listener_is_ours(int listen_fd)
{
	const int *fd;

	array_foreach(&haproxy_listen_fds, fd) {
		if (*fd == listen_fd)
			return TRUE;
	}
	return FALSE;
}

static void haproxy_service_callback(struct master_service_connection *conn)
{
	/* Anything still kept for this fd belongs to a closed connection. */
	haproxy_facts_forget(conn->fd);
	if (haproxy_listener_is_ours(conn->listen_fd))
		haproxy_conn_new(conn, haproxy_next_callback);
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

/* Clearing the flag keeps master_service_listen() from starting its own
   parser on these listeners. */
static void haproxy_take_listeners(void)
{
	unsigned int i;

	for (i = 0; i < master_service->socket_count; i++) {
		struct master_service_listener *l = &master_service->listeners[i];

		if (l->haproxy) {
			array_push_back(&haproxy_listen_fds, &l->fd);
			l->haproxy = FALSE;
		}
	}
}

void haproxy_plugin_init(struct module *module)
{
	const struct master_service_settings *set = haproxy_service_settings();
	struct haproxy_trust *trust;
	const char *error;

	haproxy_pool = pool_alloconly_create("haproxy plugin", 1024);
	trust = haproxy_trust_parse(haproxy_pool, set->haproxy_trusted_networks,
				    &error);
	if (trust == NULL)
		i_fatal("%s", error);

	p_array_init(&haproxy_listen_fds, haproxy_pool, 4);
	haproxy_take_listeners();
	if (array_is_empty(&haproxy_listen_fds))
		return;
	haproxy_have_preaccepted =
		haproxy_take_preaccepted(haproxy_listener_is_ours,
					 &haproxy_preaccepted);

	haproxy_conns_init(trust, set->haproxy_timeout);
	haproxy_client_init(module);
	haproxy_to_install = timeout_add_short(0, haproxy_install_callback,
					       (void *)NULL);
}

void haproxy_plugin_deinit(void)
{
	if (!array_is_empty(&haproxy_listen_fds)) {
		if (master_service->callback == haproxy_service_callback)
			master_service->callback = haproxy_next_callback;
		timeout_remove(&haproxy_to_install);
		if (haproxy_have_preaccepted)
			i_close_fd(&haproxy_preaccepted.fd);
		haproxy_conns_deinit();
		haproxy_client_deinit();
	}
	pool_unref(&haproxy_pool);
}
