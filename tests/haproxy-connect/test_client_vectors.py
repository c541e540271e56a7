#!/usr/bin/env python3
"""haproxy-connect reproduces the headers of a real HAProxy byte for byte.

An HAProxy in TCP mode forwards each test connection to a Python listener
that records the header it receives; haproxy-connect --print-header, given
the same addresses and options, must write the same bytes. What a test
cannot know in advance (the client's source port, a generated unique id,
the names OpenSSL gives the client certificate's algorithms) is taken from
the capture; everything else is predicted.

README: "The test client" (the headers of a real HAProxy).
"""

import os
import re
import shutil
import socket
import struct
import time

import tap
from client_util import (TIMEOUT, Listener, have_ipv6,
                         print_header)
from sandbox import (CLIENT_IP, PROXY_IP, Endpoint, HAProxy,
                     Sandbox)

SNI = "mail.example.org"
ALPN = "imap"
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                  rb"-[0-9a-f]{12}")

TLV_ALPN, TLV_AUTHORITY, TLV_CRC32C = 0x01, 0x02, 0x03
TLV_UNIQUE_ID, TLV_SSL = 0x05, 0x20
SSL_SIG_ALG, SSL_KEY_ALG = 0x24, 0x25


def capture(listener, conn):
    """Listener handler: reads exactly one PROXY header, v1 or v2."""
    if listener.recv_exactly(conn, 1) == b"P":
        # v1: byte by byte up to CRLF; "PROXY UNKNOWN\r\n" has only 15.
        while not listener.received.endswith(b"\r\n"):
            listener.recv_exactly(conn, 1)
        return
    start = b"\r" + listener.recv_exactly(conn, 15)
    listener.recv_exactly(conn, struct.unpack("!H", start[14:16])[0])


def tlvs(area):
    """[(type, value)] of a TLV area."""
    found = []
    while area:
        kind, length = area[0], struct.unpack("!H", area[1:3])[0]
        found.append((kind, area[3:3 + length]))
        area = area[3 + length:]
    return found


def v2_tlvs(header):
    """The TLVs of a v2 header, SSL sub-TLVs as (type | 0x100, value)."""
    address_length = {0x0: 0, 0x1: 12, 0x2: 36, 0x3: 216}[header[13] >> 4]
    found = []
    for kind, value in tlvs(header[16 + address_length:]):
        found.append((kind, value))
        if kind == TLV_SSL:
            found += [(0x100 | k, v) for k, v in tlvs(value[5:])]
    return found


def tlv_value(header, kind):
    values = [v for k, v in v2_tlvs(header) if k == kind]
    if len(values) != 1:
        raise AssertionError(f"TLV {kind:#x}: {len(values)} in {header!r}")
    return values[0].decode()


def hostport(address, port):
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class Case:
    """One HAProxy server line and the haproxy-connect options that must
    produce the same header. options(capture, source_port, frontend)
    returns them."""

    def __init__(self, description, server, options, tls=None, trusted=True,
                 alpn=False, resume=False, ipv6=False, unix=False,
                 frontend_lines=(), order=None):
        self.description = description
        self.server = server
        self.options = options
        # None: no TLS; else the CN of the client certificate, "" for none,
        # signed by the sandbox's CA if trusted, else by a rogue one.
        self.tls = tls
        self.trusted = trusted
        # Negotiate ALPN, which HAProxy then always passes on.
        self.alpn = alpn
        # Capture a second connection, resuming the first one's session.
        self.resume = resume
        self.ipv6 = ipv6
        self.unix = unix
        self.frontend_lines = list(frontend_lines)
        # The TLV types expected in HAProxy's header, SSL's as 0x1NN.
        self.order = order
        self.endpoint = None
        self.context = None

    def setup(self, sandbox, hap, index):
        # Round robin: the first connection to the first listener, the
        # second to the second.
        self.listeners = [Listener(capture) for _ in range(1 + self.resume)]
        backend = f"be{index}"
        servers = [(Endpoint("127.0.0.1", listener.port), self.server)
                   for listener in self.listeners]
        hap.backend(backend, servers, "balance roundrobin")
        address = "::1" if self.ipv6 else PROXY_IP
        lines = list(self.frontend_lines)
        if self.unix:
            self.socket_path = os.path.join(hap.dir, f"fe{index}.sock")
            lines.append(f"bind unix@{self.socket_path}")
        if self.alpn:
            # A second bind: the sandbox's TLS frontend has no ALPN.
            certs = sandbox.certs
            self.endpoint = Endpoint(address, sandbox.free_port(address))
            bind = hostport(self.endpoint.address, self.endpoint.port)
            lines.append(f"bind {bind} ssl crt {certs.server_pem}"
                         f" ca-file {certs.ca}"
                         " verify optional ca-ignore-err all"
                         f" crt-ignore-err all alpn {ALPN}")
        frontend = hap.frontend(f"fe{index}", backend, *lines,
                                tls=self.tls is not None, address=address)
        self.endpoint = self.endpoint or frontend

    def _connect(self, sandbox, session=None):
        """The test client's connection through HAProxy; its source port."""
        if self.unix:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(TIMEOUT)
            sock.connect(self.socket_path)
            return sock, None
        source = "::1" if self.ipv6 else CLIENT_IP
        sock = socket.create_connection(
            (self.endpoint.address, self.endpoint.port), TIMEOUT, (source, 0))
        port = sock.getsockname()[1]
        if self.tls is None:
            return sock, port
        if self.context is None:
            # One per case: a session resumes only in its own context.
            self.context = sandbox.certs.context(self.tls or None,
                                                 self.trusted)
            # The certificate names localhost; SNI is to be another name.
            self.context.check_hostname = False
            if self.alpn:
                self.context.set_alpn_protocols([ALPN])
        context = self.context
        sock = context.wrap_socket(sock, server_hostname=SNI, session=session)
        self.tls_version = sock.version()
        self.tls_cipher = sock.cipher()[0]
        if session is not None and not sock.session_reused:
            raise AssertionError("the TLS session was not resumed")
        return sock, port

    def _session(self, sock):
        """The session of a TLS 1.3 connection, once its ticket, which
        arrives after the handshake, has been read."""
        sock.settimeout(0.05)
        deadline = time.monotonic() + TIMEOUT
        while not (sock.session and sock.session.has_ticket) and \
                time.monotonic() < deadline:
            try:
                sock.recv(1)
            except socket.timeout:
                pass
        return sock.session

    def run(self, sandbox):
        """The header HAProxy sends for the (last) connection, and the
        options haproxy-connect needs to make it."""
        session = None
        for listener in self.listeners:
            with listener:
                sock, port = self._connect(sandbox, session)
            if self.resume:
                session = self._session(sock)
            sock.close()
        header = listener.received
        return header, self.options(self, header, port)


def v1(case, header, port):
    source = "::1" if case.ipv6 else CLIENT_IP
    return ["-1", "--src", hostport(source, port),
            "--dst", hostport(case.endpoint.address, case.endpoint.port)]


def v2(case, header, port):
    return v1(case, header, port)[1:]


def v2_ssl(case, header, port):
    """The SSL TLV of a TLS connection: version, and the certificate."""
    options = ["--ssl", "--ssl-version", case.tls_version]
    if case.tls:
        # Presented on this connection, or on the one it resumed.
        options += ["--client-cert=sess" if case.resume else "--client-cert",
                    "--ssl-cn", case.tls]
    return v2(case, header, port) + options


def v2_all(case, header, port):
    # The unique id is predicted: unique-id-format %ci:%cp, below.
    return v2_ssl(case, header, port) + [
        "--crc32c", "--alpn", ALPN, "--authority", SNI,
        "--unique-id", f"{CLIENT_IP}:{port}",
        "--ssl-cipher", case.tls_cipher,
        "--ssl-sig-alg", tlv_value(header, 0x100 | SSL_SIG_ALG),
        "--ssl-key-alg", tlv_value(header, 0x100 | SSL_KEY_ALG)]


def v2_rogue(case, header, port):
    """A certificate from a CA HAProxy does not know, let through by
    crt-ignore-err: the verify field holds OpenSSL's error for a chain of
    the leaf alone, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE (21)."""
    return v2_ssl(case, header, port) + ["--ssl-verify", "21"]


def v2_uuid(case, header, port):
    unique_id = tlv_value(header, TLV_UNIQUE_ID)
    if not UUID.fullmatch(unique_id.encode()):
        raise AssertionError(f"not a UUID: {unique_id!r}")
    return v2(case, header, port) + ["--unique-id", unique_id]


CASES = [
    Case("send-proxy: v1 TCP4", "send-proxy", v1),
    Case("send-proxy over IPv6: v1 TCP6", "send-proxy", v1, ipv6=True),
    Case("send-proxy from a UNIX socket: v1 UNKNOWN", "send-proxy",
         lambda case, header, port: ["--unknown"], unix=True),
    Case("send-proxy-v2: INET", "send-proxy-v2", v2),
    Case("send-proxy-v2 over IPv6: INET6", "send-proxy-v2", v2, ipv6=True),
    Case("send-proxy-v2 from a UNIX socket: LOCAL, no address",
         "send-proxy-v2", lambda case, header, port: ["--local"], unix=True),
    # --ssl-verify adds the SSL TLV; without --ssl its client field is 0.
    Case("send-proxy-v2-ssl without TLS: SSL TLV saying so",
         "send-proxy-v2-ssl",
         lambda case, header, port:
         v2(case, header, port) + ["--ssl-verify", "0"]),
    Case("send-proxy-v2-ssl-cn, TLS without a client certificate",
         "send-proxy-v2-ssl-cn", v2_ssl, tls=""),
    Case("send-proxy-v2-ssl-cn, TLS with a client certificate",
         "send-proxy-v2-ssl-cn", v2_ssl, tls="alice"),
    Case("send-proxy-v2-ssl-cn, resumed TLS session: CERT_SESS only",
         "send-proxy-v2-ssl-cn", v2_ssl, tls="alice", resume=True),
    Case("send-proxy-v2-ssl-cn, certificate of an untrusted CA",
         "send-proxy-v2-ssl-cn", v2_rogue, tls="mallory", trusted=False),
    Case("proxy-v2-options unique-id, unique-id-format %[uuid()]",
         "send-proxy-v2 proxy-v2-options unique-id", v2_uuid,
         frontend_lines=["unique-id-format %[uuid()]"]),
    Case("proxy-v2-options crc32c", "send-proxy-v2 proxy-v2-options crc32c",
         lambda case, header, port: v2(case, header, port) + ["--crc32c"]),
    Case("proxy-v2-options authority: the client's SNI",
         "send-proxy-v2 proxy-v2-options authority",
         lambda case, header, port:
         v2(case, header, port) + ["--authority", SNI],
         tls=""),
    Case("every TLV HAProxy 2.6 sends, in its order",
         "send-proxy-v2-ssl-cn proxy-v2-options "
         "crc32c,authority,unique-id,ssl-cipher,cert-sig,cert-key", v2_all,
         tls="alice", alpn=True, frontend_lines=["unique-id-format %ci:%cp"],
         order=[TLV_CRC32C, TLV_ALPN, TLV_AUTHORITY, TLV_UNIQUE_ID, TLV_SSL,
                0x121, 0x122, 0x125, 0x124, 0x123]),
]


def main():
    with tap.Tap() as t:
        if shutil.which("haproxy") is None:
            t.skip_all("haproxy is not installed")
            return
        cases = CASES
        if not have_ipv6():
            cases = [case for case in CASES if not case.ipv6]
            for case in CASES:
                if case.ipv6:
                    t.skip(case.description, "no IPv6 on loopback")
        with Sandbox() as sb:
            hap = HAProxy(sb)
            for index, case in enumerate(cases):
                case.setup(sb, hap, index)
            with hap:
                for case in cases:
                    header = None
                    with t.check(case.description):
                        header, options = case.run(sb)
                        made = print_header(*options)
                        assert made == header, (
                            f"\nHAProxy:         {header.hex()}"
                            f"\nhaproxy-connect: {made.hex()}"
                            f"\noptions: {options}")
                        t.diag(header.hex())
                if case.order is not None:
                    kinds = header and [kind for kind, _ in v2_tlvs(header)]
                    t.eq(kinds, case.order,
                         "HAProxy's TLV order: " + ", ".join(
                             f"{kind:#x}" for kind in case.order))


if __name__ == "__main__":
    main()
