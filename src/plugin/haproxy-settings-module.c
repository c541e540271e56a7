/* settings/libhaproxy_settings.so: Dovecot's config process loads it, and
   so learns and checks the plugin's settings. The login plugin cannot be
   this module itself: the config process has none of login-common's
   symbols. */

#include "lib.h"
#include "module-dir.h"
#include "master-service.h"
#include "haproxy-version.h"
#include "haproxy-compat.h"
#include "haproxy-settings.h"

extern const char *haproxy_settings_version;
extern const struct setting_parser_info *HAPROXY_SETTINGS_EXPORT(haproxy_settings)[];
void haproxy_settings_init(struct module *module);

const char *haproxy_settings_version = DOVECOT_ABI_VERSION;

/* The config process and doveconf read the definitions below with their
   own layout: in another Dovecot they stop instead. With version_ignore =
   yes a config process cannot tell its version, and stopping it would
   stop every service; the login plugin refuses to run then on its own. */
void haproxy_settings_init(struct module *module ATTR_UNUSED)
{
	if (master_service_get_version_string(master_service) != NULL)
		haproxy_version_check();
}

const struct setting_parser_info *HAPROXY_SETTINGS_EXPORT(haproxy_settings)[] = {
	&haproxy_setting_parser_info,
	NULL
};
