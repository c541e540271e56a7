"""What the end-to-end benchmarks share: the headers they send, made by
haproxy-connect, and one IMAP session."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import connect  # noqa: E402

_SRC = ["--src", "198.51.100.7:40000", "--dst", "203.0.113.1:143"]
# name: haproxy-connect options
HEADERS = {
    "v1": ["-1", *_SRC],
    "v2": ["-2", *_SRC],
    "v2 + TLVs": ["-2", "--src", "[2001:db8::7]:40000",
                  "--dst", "[2001:db8::1]:143",
                  "--authority", "mail.example.com",
                  "--unique-id", "4F1C2A3B:9C1E_0A0B0C0D:01BB_6552F3A1",
                  "--ssl", "--ssl-version", "TLSv1.3",
                  "--ssl-cipher", "TLS_AES_256_GCM_SHA384",
                  "--client-cert", "--ssl-cn", "alice", "--crc32c"],
}


def headers():
    """{name: the bytes of that header}."""
    client = os.environ.get("HAPROXY_CONNECT",
                            "src/haproxy-connect/haproxy-connect")
    return {name: subprocess.run([client, "--print-header", *args],
                                 check=True, capture_output=True).stdout
            for name, args in HEADERS.items()}


def session(endpoint, data, source):
    """One IMAP session: connect from source, send data (a header or
    nothing), read the greeting, LOGOUT. Microseconds from connect to the
    greeting."""
    began = time.perf_counter()
    with connect(endpoint, source=source) as sock:
        if data:
            sock.sendall(data)
        reply = sock.recv(4096)
        elapsed = time.perf_counter() - began
        if not reply.startswith(b"* OK"):
            raise RuntimeError(f"no greeting: {reply!r}")
        sock.sendall(b"a LOGOUT\r\n")
        while sock.recv(4096):
            pass
    return elapsed * 1e6
