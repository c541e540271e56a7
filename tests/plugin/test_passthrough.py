#!/usr/bin/env python3
"""TLS passthrough: HAProxy in TCP mode leaves TLS to Dovecot and sends
PROXY v2 before it, to a listener with both ssl = yes and haproxy = yes.

The raw cases send the header and the TLS ClientHello in one segment (one
send of a few hundred bytes on an idle loopback connection): the handshake
works only if the plugin consumed exactly the header's bytes.

README: "Configure" (only the header's own bytes are read: an ssl = yes
listener behind HAProxy in TCP mode works even when the ClientHello comes
in the same segment).
"""

import socket
import ssl
import struct

from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, Dovecot, HAProxy, IMAPS,
                     Listener, Sandbox, assert_login, connect, plugin_dir,
                     unmet_requirements)
from tap import Tap

# The client and server addresses the raw headers claim.
SRC, SRC_PORT, DST, DST_PORT = "127.0.0.9", 4242, "127.0.0.3", 993


def v1_header():
    return f"PROXY TCP4 {SRC} {DST} {SRC_PORT} {DST_PORT}\r\n".encode()


def v2_header():
    addresses = (socket.inet_aton(SRC) + socket.inet_aton(DST)
                 + struct.pack("!HH", SRC_PORT, DST_PORT))
    # Signature, version 2 + PROXY, TCP over IPv4, address length.
    return (b"\r\n\r\n\x00\r\nQUIT\n" + b"\x21\x11"
            + struct.pack("!H", len(addresses)) + addresses)


class MemoryTLS:
    """TLS over a socket through memory BIOs, so the test decides what goes
    into each send: the first one can carry the ClientHello after a
    PROXY header."""

    def __init__(self, sock, context):
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing,
                                    server_hostname=PROXY_IP)

    def handshake(self, prefix):
        """Sends prefix and the ClientHello in one sendall(), then
        completes the handshake."""
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        self.sock.sendall(prefix + self.outgoing.read())
        while True:
            self._receive()
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.outgoing.read())
        self.sock.sendall(self.outgoing.read())

    def _receive(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed the connection")
        self.incoming.write(data)

    def send(self, data):
        self.tls.write(data)
        self.sock.sendall(self.outgoing.read())

    def read_until(self, marker):
        """What the server sent, decrypted, up to and past marker."""
        data = b""
        while marker not in data:
            try:
                data += self.tls.read()
            except ssl.SSLWantReadError:
                self._receive()
        return data


with Tap() as t:
    t.require(unmet_requirements(plugin=True))
    with Sandbox() as sb:
        context = sb.certs.context()
        dc = Dovecot(sb, [Listener("imap", "imaps-proxy", haproxy=True,
                                   ssl=True)], plugin_dir=plugin_dir(),
                     extra_config="log_debug = category=haproxy\n")
        listener = dc.listener("imaps-proxy")
        hap = HAProxy(sb)
        hap.backend("imaps", [(listener, "send-proxy-v2")])
        front = hap.frontend("imaps", "imaps")

        with dc, hap:
            with t.check("IMAPS through HAProxy in TCP mode: TLS with "
                         "Dovecot, the login line shows the client"):
                mark = dc.log_mark()
                with IMAPS(front, context) as imap:
                    port = imap.sock.getsockname()[1]
                    imap.login("alice", PASSWORD)
                assert_login(dc.wait_for_login("alice", mark), rip=CLIENT_IP,
                             rport=port, lip=PROXY_IP, lport=front.port,
                             real_rip=PROXY_IP, secured="TLS")

            for version, header in (("v1", v1_header()), ("v2", v2_header())):
                with t.check(f"PROXY {version} header and ClientHello in one "
                             "segment: handshake and login work"):
                    mark = dc.log_mark()
                    with connect(listener, PROXY_IP) as sock:
                        conn = MemoryTLS(sock, context)
                        conn.handshake(header)
                        greeting = conn.read_until(b"\r\n")
                        assert greeting.startswith(b"* OK "), greeting
                        conn.send(f"a LOGIN alice {PASSWORD}\r\n".encode())
                        reply = conn.read_until(b"\r\n")
                        assert reply.startswith(b"a OK "), reply
                    assert_login(dc.wait_for_login("alice", mark), rip=SRC,
                                 rport=SRC_PORT, lip=DST, lport=DST_PORT,
                                 secured="TLS")
