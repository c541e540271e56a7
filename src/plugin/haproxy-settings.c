/* The definitions behind haproxy_direct_networks and haproxy_direct_wait,
   shared by the settings module and the login plugin: Dovecot 2.4 refuses
   settings whose definitions differ between the two. */

#include "lib.h"
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

	SETTING_DEFINE_LIST_END
};

static const struct haproxy_settings haproxy_default_settings = {
	.haproxy_direct_networks = "",
	.haproxy_direct_wait = HAPROXY_DIRECT_WAIT_DEFAULT_MSECS,
};

/* doveconf runs this, so an invalid network stops Dovecot at start. */
static bool
haproxy_settings_check(void *_set, pool_t pool ATTR_UNUSED,
		       const char **error_r)
{
	const struct haproxy_settings *set = _set;

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
