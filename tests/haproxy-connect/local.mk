# tests/haproxy-connect: the client against Python listeners, its headers
# against those of a real HAProxy, and its help and manual page against its
# code. The .py log compiler and driver are set in tests/local.mk.
client_tests = \
	tests/haproxy-connect/test_client.py \
	tests/haproxy-connect/test_client_vectors.py \
	tests/haproxy-connect/test_client_endpoints.py \
	tests/haproxy-connect/test_client_docs.py

TESTS += $(client_tests)
EXTRA_DIST += \
	tests/haproxy-connect/client_util.py \
	$(client_tests)
