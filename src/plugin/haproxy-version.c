/* The plugin runs only in the Dovecot it was built against. */

#include "lib.h"
#include "master-service.h"
#include "haproxy-version.h"

void haproxy_version_check(void)
{
	/* The master's version, which Dovecot has already checked against
	   its own binaries; NULL when version_ignore = yes. A function, so
	   safe to call whatever the layout of Dovecot's structs. */
	const char *running = master_service_get_version_string(master_service);

	if (running == NULL) {
		i_fatal("haproxy: The plugin was built for Dovecot "
			DOVECOT_VERSION" and cannot tell which Dovecot is "
			"running, since version_ignore = yes: set "
			"version_ignore = no");
	}
	if (strcmp(running, DOVECOT_VERSION) != 0) {
		i_fatal("haproxy: The plugin was built for Dovecot "
			DOVECOT_VERSION", not for the running Dovecot %s: "
			"rebuild it against Dovecot %s", running, running);
	}
}
