# The example settings, installed beside Dovecot's own example-config.
haproxy_exampledir = $(dovecot_docdir)/example-config/conf.d
haproxy_example_DATA = conf.d/30-haproxy.conf
EXTRA_DIST += $(haproxy_example_DATA)
