/* Carry the facts of a PROXY header to the login client. login-common's
   client_alloc() keeps conn->proxy's string pointers without copying them,
   and the client may be created long after the header was read (after
   login_access_sockets lookups), so the facts wait here, keyed by fd, and
   the client_allocated hook gives the client its own copies. */

#include "login-common.h"
#include "array.h"
#include "llist.h"
#include "client-common.h"
#include "haproxy-compat.h"
#include "haproxy-forward.h"
#include "haproxy-client.h"

static struct haproxy_facts *haproxy_facts_waiting = NULL;
static bool (*haproxy_listener_is_ours)(const char *name);

struct haproxy_facts *haproxy_facts_new(int fd)
{
	pool_t pool = pool_alloconly_create("haproxy facts", 512);
	struct haproxy_facts *facts = p_new(pool, struct haproxy_facts, 1);

	facts->pool = pool;
	facts->fd = fd;
	p_array_init(&facts->fields, pool, 8);
	return facts;
}

static struct haproxy_fact *
haproxy_facts_append(struct haproxy_facts *facts,
		     const char *key, const char *value)
{
	struct haproxy_fact *fact = array_append_space(&facts->fields);

	fact->key = key;
	fact->value = value;
	return fact;
}

void haproxy_facts_add(struct haproxy_facts *facts,
		       const char *key, const char *value)
{
	(void)haproxy_facts_append(facts, key, value);
}

void haproxy_facts_add_forward(struct haproxy_facts *facts,
			       const char *key, const char *value)
{
	haproxy_facts_append(facts, key, value)->forward = TRUE;
}

void haproxy_facts_free(struct haproxy_facts **_facts)
{
	struct haproxy_facts *facts = *_facts;

	*_facts = NULL;
	pool_unref(&facts->pool);
}

static struct haproxy_facts *haproxy_facts_take(int fd)
{
	struct haproxy_facts *facts;

	for (facts = haproxy_facts_waiting; facts != NULL; facts = facts->next) {
		if (facts->fd == fd) {
			DLLIST_REMOVE(&haproxy_facts_waiting, facts);
			return facts;
		}
	}
	return NULL;
}

void haproxy_facts_forget(int fd)
{
	struct haproxy_facts *facts = haproxy_facts_take(fd);

	if (facts != NULL)
		haproxy_facts_free(&facts);
}

void haproxy_facts_hand_off(struct haproxy_facts **_facts)
{
	struct haproxy_facts *facts = *_facts;

	*_facts = NULL;
	haproxy_facts_forget(facts->fd);
	DLLIST_PREPEND(&haproxy_facts_waiting, facts);
}

static void haproxy_client_allocated(struct client *client)
{
	struct haproxy_facts *facts = haproxy_facts_take(client->fd);
	const struct haproxy_fact *fact;

	if (client->listener_name != NULL &&
	    haproxy_listener_is_ours(client->listener_name))
		haproxy_forward_guard(client, facts);
	if (facts == NULL)
		return;

	array_foreach(&facts->fields, fact)
		event_add_str(client->event, fact->key, fact->value);
	if (facts->hostname != NULL) {
		/* 2.4.2 and later copy it themselves. */
		if (client->local_name == facts->hostname) {
			client->local_name =
				p_strdup(client->pool, facts->hostname);
		}
		haproxy_client_apply_local_name(client);
	}
	if (facts->cert_common_name != NULL &&
	    client->client_cert_common_name == facts->cert_common_name) {
		client->client_cert_common_name =
			p_strdup(client->pool, facts->cert_common_name);
	}
	haproxy_facts_free(&facts);
}

static const struct login_client_hooks haproxy_client_hooks = {
	.client_allocated = haproxy_client_allocated,
};

void haproxy_client_init(struct module *module,
			 bool (*listener_is_ours)(const char *name))
{
	haproxy_listener_is_ours = listener_is_ours;
	login_client_hooks_add(module, &haproxy_client_hooks);
}

void haproxy_client_deinit(void)
{
	login_client_hooks_remove(&haproxy_client_hooks);
	while (haproxy_facts_waiting != NULL) {
		struct haproxy_facts *facts = haproxy_facts_waiting;

		DLLIST_REMOVE(&haproxy_facts_waiting, facts);
		haproxy_facts_free(&facts);
	}
}
