# tests/install: the Debian packages, built from the release files and
# debian/, installed with apt-get on the system's Dovecot, used through
# HAProxy and purged again. The .py log compiler and driver are set in
# tests/local.mk.
install_tests = tests/install/test_install.py

TESTS += $(install_tests)
EXTRA_DIST += \
	tests/install/machine.py \
	tests/install/system_dovecot.py \
	$(install_tests)
