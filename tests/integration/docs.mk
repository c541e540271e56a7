# The manual pages: groff and man find nothing to warn about, and the
# plugin's page names what its code does. The .py log compiler and driver
# are set in tests/integration/local.mk.
docs_tests = \
	tests/integration/test_man_pages.py \
	tests/integration/test_plugin_docs.py

TESTS += $(docs_tests)
EXTRA_DIST += $(docs_tests)
