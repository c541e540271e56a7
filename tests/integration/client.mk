# haproxy-connect's tests: the client against Python listeners, and its
# headers against those of a real HAProxy. The .py log compiler and driver
# are set in tests/integration/local.mk.
client_tests = \
	tests/integration/test_client.py \
	tests/integration/test_client_vectors.py \
	tests/integration/test_client_docs.py

TESTS += $(client_tests)
EXTRA_DIST += \
	tests/integration/client_util.py \
	$(client_tests)
