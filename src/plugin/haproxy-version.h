#ifndef HAPROXY_VERSION_H
#define HAPROXY_VERSION_H

/* Stops the process unless the running Dovecot is the very version the
   plugin was built against, with one line that names both. Dovecot's own
   check compares ABI versions only up to their "(", so 2.3.21 loads a
   plugin built for 2.3.21.1, whose struct client is laid out differently.
   Called first by the plugin's and the settings module's init, before
   either touches a Dovecot struct. */
void haproxy_version_check(void);

#endif
