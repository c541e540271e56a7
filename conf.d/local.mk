# The example settings, in the configuration syntax of the Dovecot built
# against, installed beside Dovecot's own example-config.
haproxy_exampledir = $(dovecot_docdir)/example-config/conf.d
haproxy_example_DATA = conf.d/$(DOVECOT_CONFIG_SYNTAX)/30-haproxy.conf
EXTRA_DIST += conf.d/2.3/30-haproxy.conf conf.d/2.4/30-haproxy.conf
