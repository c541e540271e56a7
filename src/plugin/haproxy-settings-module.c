/* settings/libhaproxy_settings.so: Dovecot's config process loads it, and
   so learns and checks the plugin's settings. The login plugin cannot be
   this module itself: the config process has none of login-common's
   symbols. */

#include "lib.h"
#include "haproxy-compat.h"
#include "haproxy-settings.h"

extern const char *haproxy_settings_version;
extern const struct setting_parser_info *HAPROXY_SETTINGS_EXPORT(haproxy_settings)[];

const char *haproxy_settings_version = DOVECOT_ABI_VERSION;
const struct setting_parser_info *HAPROXY_SETTINGS_EXPORT(haproxy_settings)[] = {
	&haproxy_setting_parser_info,
	NULL
};
