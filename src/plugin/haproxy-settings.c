/* The definitions behind haproxy_direct_networks and haproxy_direct_wait,
   shared by the settings module and the login plugin: Dovecot 2.4 refuses
   settings whose definitions differ between the two. */

#include "lib.h"
#include "array.h"
#include "master-service.h"
#include "haproxy-compat.h"
#include "haproxy-networks.h"
#include "haproxy-settings.h"

/* A HAProxy sends its header as soon as it has connected; this is how long
   a peer in both lists may keep silent before it counts as a direct
   client (see README, "Kubernetes and direct clients"). */
#define HAPROXY_DIRECT_WAIT_DEFAULT_MSECS 200

static const struct setting_define haproxy_setting_defines[] = {
	HAPROXY_SETTING_DEFINE_STR(haproxy_direct_networks,
				   struct haproxy_settings),
	SETTING_DEFINE_STRUCT_TIME_MSECS("haproxy_direct_wait",
					 haproxy_direct_wait,
					 struct haproxy_settings),
	SETTING_DEFINE_STRUCT_STR("haproxy_trusted_networks",
				  haproxy_trusted_networks,
				  struct haproxy_settings),

	SETTING_DEFINE_LIST_END
};

static const struct haproxy_settings haproxy_default_settings = {
	.haproxy_direct_networks = "",
	.haproxy_direct_wait = HAPROXY_DIRECT_WAIT_DEFAULT_MSECS,
	.haproxy_trusted_networks = "",
};

/* Whether key was warned about already; if not, it is from now on. */
static bool haproxy_settings_warned(const char *key)
{
	static ARRAY_TYPE(const_string) warned = ARRAY_INIT;
	const char *const *seen;

	if (!array_is_created(&warned))
		i_array_init(&warned, 4);
	array_foreach(&warned, seen) {
		if (strcmp(*seen, key) == 0)
			return TRUE;
	}
	key = i_strdup(key);
	array_push_back(&warned, &key);
	return FALSE;
}

/* Warn about each entry of value that can never match, once per process:
   2.3 checks the settings again for every filter, mostly with the same
   values. A parse error of a setting whose check fails anyway is left to
   that error. */
static void
haproxy_settings_warn(const char *setting, const char *value,
		      bool parse_errors)
{
	const char *const *entry, *reason;
	bool invalid;

	if (value == NULL)
		return;
	for (entry = t_strsplit_spaces(value, ", "); *entry != NULL; entry++) {
		reason = haproxy_network_unmatchable(*entry, &invalid);
		if (reason == NULL || (invalid && !parse_errors))
			continue;
		if (haproxy_settings_warned(t_strconcat(setting, " ", *entry,
							NULL)))
			continue;
		if (invalid) {
			reason = t_strconcat(reason, ": the login processes "
				"with a haproxy = yes listener will not start",
				NULL);
		}
		i_warning("%s: %s", setting, reason);
	}
}

/* doveconf runs this, so an invalid haproxy_direct_networks stops Dovecot
   at start; haproxy_trusted_networks is Dovecot's, and stops only the
   login processes that read it. Entries that can never match get a
   warning where Dovecot checks its configuration, not again in every
   process that reads it. */
static bool
haproxy_settings_check(void *_set, pool_t pool ATTR_UNUSED,
		       const char **error_r)
{
	const struct haproxy_settings *set = _set;

	if (master_service != NULL &&
	    strcmp(master_service_get_name(master_service), "config") == 0) {
		haproxy_settings_warn("haproxy_trusted_networks",
				      set->haproxy_trusted_networks, TRUE);
		haproxy_settings_warn("haproxy_direct_networks",
				      set->haproxy_direct_networks, FALSE);
	}
	return haproxy_networks_parse(unsafe_data_stack_pool,
				      "haproxy_direct_networks",
				      set->haproxy_direct_networks,
				      error_r) != NULL;
}

const struct setting_parser_info haproxy_setting_parser_info = {
	HAPROXY_SETTING_PARSER_INFO("haproxy", struct haproxy_settings),
	.defines = haproxy_setting_defines,
	.defaults = &haproxy_default_settings,
	.check_func = haproxy_settings_check,
};
