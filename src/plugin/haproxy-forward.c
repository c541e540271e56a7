/* The forward fields auth sees for a client of a haproxy listener.

   A client that login_trusted_networks trusts may send forward fields of
   its own (IMAP ID "x-forward-KEY", POP3 and submission XCLIENT FORWARD),
   and auth keeps the last value of a key. Behind a load balancer the
   client's address is the header's, so such a client could otherwise
   name the private endpoint it came through or the balancer's unique ID.
   Right before each auth request, the client's haproxy_* fields are
   removed and the header's added, so that those come from the header
   only; and so are fields without a value, which auth before Dovecot
   2.4.5 took for passdb fields of their own (CVE-2026-4200: nopassword).
   The client's other fields stay: a trusted proxy forwards what it likes.

   The hook: sasl_server_auth_begin() asks the client's sasl_filter_mech()
   about the mechanism with client->authenticating set, after the last
   command that could add a field and before it sends the request, on
   every line of Dovecot. It also asks when listing mechanisms, not
   authenticating: the fields are left alone then, so that a submission
   client's XCLIENT after EHLO finds none (2.3 ignores its FORWARD if some
   exist). */

#include "login-common.h"
#include "array.h"
#include "str.h"
#include "module-context.h"
#include "client-common.h"
#include "haproxy-compat.h"
#include "haproxy-event.h"
#include "haproxy-text.h"
#include "haproxy-client.h"
#include "haproxy-forward.h"

#define HAPROXY_FORWARD_PREFIX "haproxy_"
/* How much the warning shows of each key and of all of them. */
#define HAPROXY_FORWARD_LOG_KEY_MAX 64
#define HAPROXY_FORWARD_LOG_KEYS_MAX 256

struct haproxy_forward_client {
	union login_client_module_context module_ctx;
	/* The header's forward fields, in the client's pool. */
	ARRAY(struct haproxy_fact) fields;
};

/* The keys of what the client sent and auth will not see, for the
   warning. */
struct haproxy_forward_dropped {
	string_t *keys;
	unsigned int more;
};

struct haproxy_forward_filter {
	const struct haproxy_forward_client *fclient;
	/* haproxy_* fields, and fields without a value. */
	struct haproxy_forward_dropped named, valueless;
};

static MODULE_CONTEXT_DEFINE_INIT(haproxy_forward_client_module,
				  &login_module_register);

/* One of the header's fields, as an earlier auth request left it. */
static bool
haproxy_forward_is_header_field(const struct haproxy_forward_client *fclient,
				const char *field)
{
	const struct haproxy_fact *fact;
	size_t len;

	if (!array_is_created(&fclient->fields))
		return FALSE;
	array_foreach(&fclient->fields, fact) {
		len = strlen(fact->key);
		if (strncmp(field, fact->key, len) == 0 && field[len] == '=' &&
		    strcmp(field + len + 1, fact->value) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
haproxy_forward_dropped_add(struct haproxy_forward_dropped *dropped,
			    const char *key, size_t key_len)
{
	if (str_len(dropped->keys) >= HAPROXY_FORWARD_LOG_KEYS_MAX) {
		dropped->more++;
		return;
	}
	if (str_len(dropped->keys) > 0)
		str_append(dropped->keys, ", ");
	str_append(dropped->keys,
		   haproxy_escape(key, key_len, HAPROXY_FORWARD_LOG_KEY_MAX));
}

static bool haproxy_forward_keep(const char *field, void *context)
{
	struct haproxy_forward_filter *filter = context;
	const char *value = strchr(field, '=');

	if (*field == '\0') {
		/* Nothing, which auth would take for a field named "". */
		return FALSE;
	}
	if (value == NULL) {
		haproxy_forward_dropped_add(&filter->valueless, field,
					    strlen(field));
		return FALSE;
	}
	if (strncasecmp(field, HAPROXY_FORWARD_PREFIX,
			strlen(HAPROXY_FORWARD_PREFIX)) != 0)
		return TRUE;
	if (!haproxy_forward_is_header_field(filter->fclient, field)) {
		haproxy_forward_dropped_add(&filter->named, field,
					    value - field);
	}
	return FALSE;
}

static void
haproxy_forward_dropped_str(string_t *str,
			    const struct haproxy_forward_dropped *dropped,
			    const char *why)
{
	if (str_len(dropped->keys) == 0)
		return;
	if (str_len(str) > 0)
		str_append(str, ", ");
	str_append_str(str, dropped->keys);
	if (dropped->more > 0)
		str_printfa(str, " and %u more", dropped->more);
	str_printfa(str, " (%s)", why);
}

static void
haproxy_forward_warn(struct client *client,
		     const struct haproxy_forward_filter *filter)
{
	string_t *str = t_str_new(128);
	struct event *event;

	haproxy_forward_dropped_str(str, &filter->named,
		"only the PROXY header sets " HAPROXY_FORWARD_PREFIX "*");
	haproxy_forward_dropped_str(str, &filter->valueless, "no value");
	if (str_len(str) == 0)
		return;

	event = event_create(client->event);
	event_add_category(event, &event_category_haproxy);
	event_set_append_log_prefix(event, "haproxy: ");
	e_warning(event, "Ignoring forward fields from the client: %s",
		  str_c(str));
	event_unref(&event);
}

static void
haproxy_forward_apply(struct client *client,
		      const struct haproxy_forward_client *fclient)
{
	struct haproxy_forward_filter filter = {
		.fclient = fclient,
		.named = { .keys = t_str_new(64) },
		.valueless = { .keys = t_str_new(64) },
	};
	const struct haproxy_fact *fact;

	haproxy_client_forward_fields_filter(client, haproxy_forward_keep,
					     &filter);
	if (array_is_created(&fclient->fields)) {
		array_foreach(&fclient->fields, fact)
			client_add_forward_field(client, fact->key, fact->value);
	}
	haproxy_forward_warn(client, &filter);
}

static bool
haproxy_forward_sasl_filter_mech(struct client *client,
				 struct auth_mech_desc *mech)
{
	struct haproxy_forward_client *fclient =
		MODULE_CONTEXT(client, haproxy_forward_client_module);

	if (client->authenticating) T_BEGIN {
		haproxy_forward_apply(client, fclient);
	} T_END;
	return fclient->module_ctx.super.sasl_filter_mech == NULL ||
		fclient->module_ctx.super.sasl_filter_mech(client, mech);
}

void haproxy_forward_guard(struct client *client,
			   const struct haproxy_facts *facts)
{
	struct haproxy_forward_client *fclient =
		p_new(client->pool, struct haproxy_forward_client, 1);
	const struct haproxy_fact *fact;

	if (facts != NULL) {
		array_foreach(&facts->fields, fact) {
			struct haproxy_fact *copy;

			if (!fact->forward)
				continue;
			if (!array_is_created(&fclient->fields))
				p_array_init(&fclient->fields, client->pool, 4);
			copy = array_append_space(&fclient->fields);
			copy->key = p_strdup(client->pool, fact->key);
			copy->value = p_strdup(client->pool, fact->value);
			copy->forward = TRUE;
		}
	}
	fclient->module_ctx.super = client->v;
	client->v.sasl_filter_mech = haproxy_forward_sasl_filter_mech;
	MODULE_CONTEXT_SET(client, haproxy_forward_client_module, fclient);
}
