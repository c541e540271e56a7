#!/usr/bin/env python3
"""What a header can make of the login process, of auth and of the events
stays bounded, whatever its values and TLVs.

1. Auth. Auth reads lines of at most 16384 bytes from a login process
   and drops the process's whole connection for a longer one ("auth
   process communication failure"): every login in flight in that
   process fails. A verified client certificate's CN becomes the AUTH
   line's cert_username, and AUTHORITY, UNIQUE_ID and the endpoint IDs
   go there too (local_name, forward_fields). The plugin takes a CN as
   the certificate user name only up to 255 bytes, and every other value
   it sends is bounded as well; login-common's own parts (an initial
   response of up to 8 KiB) must still fit. A client that has begun
   AUTHENTICATE (its request waits in auth) while another is handled must
   still log in afterwards, and so must a new one. The hostile client
   itself logs in with its password: its CN is dropped, and a debug line
   says why.
2. Fields. TLVs of types the plugin does not interpret become fields
   haproxy_tlv_0xNN, the first of each type, for up to 32 types; the
   others are counted in haproxy_tlv_skipped. A header of the largest
   size made of tiny TLVs is one field and a count, not 21,841 fields.
   What this costs in CPU and memory is measured in make bench
   (bench-tlvs), not here.

One long-lived imap-login serves every client, so they share its auth
connection and whatever a header leaves behind.

README: "What the plugin does with a header" (the fields of TLVs it does
not interpret) and "Forward fields: what auth can rely on" (bounded).
"""

import base64
import re
import struct

from headers import (HEADER_FINISHED, exported_event, header, header_finished,
                     proxy_connect)
from sandbox import (PASSWORD, Dovecot, Listener, Sandbox,
                     dovecot_under_test, plugin_dir, unmet_requirements)
from tap import Tap

SRC, DST = "198.51.100.7:40000", "127.0.0.3:143"
LONG_CN = "c" * 20000
CN_USER = "u" * 255         # the longest CN taken as a user name
# A password long enough that AUTHENTICATE PLAIN's initial response with
# it nearly fills imap-login's 8192-byte command line.
LONG_PASSWORD = "p" * 5800
USERS = {"alice": {}, "bob": {}, "carol": {},
         CN_USER: {"password": LONG_PASSWORD}}
AUTH_FAILURE = re.compile(r"auth process communication failure|"
                          r"[Dd]isconnected from auth|Panic|Fatal")
AWS_ID = b"\x01vpce-0a1b2c3d4e5f60718"   # subtype and ID


class Client:
    """An IMAP client on a raw socket that sends a PROXY header first."""

    def __init__(self, listener, data):
        self.sock = proxy_connect(listener)
        self.sock.sendall(data)
        self.lines = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self):
        line = self.lines.readline()
        if not line:
            raise EOFError("server closed the connection")
        return line.decode(errors="replace").rstrip("\r\n")

    def command(self, text):
        """Sends text; returns the reply's last line (tagged, or a
        continuation)."""
        self.sock.sendall(text.encode() + b"\r\n")
        while True:
            line = self.line()
            if not line.startswith("* "):
                return line

    def close(self):
        self.lines.close()
        self.sock.close()


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def log_in(listener, user, password=PASSWORD, options=()):
    """A client whose header has options logs in with LOGIN; its reply."""
    client = Client(listener, header("--src", SRC, "--dst", DST, "--ssl",
                                     *options))
    try:
        return client.command(f"a LOGIN {user} {password}")
    finally:
        client.close()


def in_flight(listener):
    """A client whose AUTHENTICATE PLAIN waits in auth for its response."""
    client = Client(listener, header("--src", SRC, "--dst", DST, "--ssl"))
    reply = client.command("w AUTHENTICATE PLAIN")
    assert reply.startswith("+"), reply
    return client


def finish(client, user):
    """The waiting client sends its response: it must be logged in."""
    try:
        reply = client.command(plain(user, PASSWORD))
        assert reply.startswith("w OK "), f"{user}: {reply}"
    finally:
        client.close()


def cert_options(cn):
    """A verified client certificate whose CN is cn."""
    return ("--client-cert", "--ssl-verify", "0", "--ssl-cn", cn)


def bounds_options():
    """Every value that reaches auth at the largest the plugin sends."""
    label = "a" * 63
    authority = ".".join([label] * 3 + ["b" * 63])   # 255 bytes
    endpoint = "e" * 255
    return (*cert_options(CN_USER),
            "--authority", authority,
            # Every byte escaped as \xNN: four times 128.
            "--tlv", "0x05:" + "01" * 128,
            "--aws-vpce-id", endpoint, "--azure-linkid", str(2**32 - 1),
            "--gcp-psc-id", str(2**64 - 1), "--alibaba-vpc-id", endpoint,
            "--alibaba-endpoint-id", endpoint,
            "--alibaba-endpoint-service-id", endpoint)


def tlv(type_, value=b""):
    return struct.pack(">BH", type_, len(value)) + value


def with_tlvs(tlvs):
    """A v2 header from SRC to DST, of a client that used TLS, with tlvs
    after its SSL TLV."""
    data = header("--src", SRC, "--dst", DST, "--ssl") + tlvs
    return data[:14] + struct.pack(">H", len(data) - 16) + data[16:]


def tlv_fields(dc, data):
    """A client sends data and logs in; the haproxy_tlv_* and
    haproxy_aws_* fields of its haproxy_header_finished event, as
    {name: value}."""
    mark = dc.log_mark()
    client = Client(dc.listener("imap-proxy"), data)
    try:
        port = client.sock.getsockname()[1]
        reply = client.command(f"a LOGIN alice {PASSWORD}")
    finally:
        client.close()
    assert reply.startswith("a OK "), reply
    event = header_finished(dc, port, mark)
    assert event["result"] == "accepted", event
    return {key: value for key, value in event.items()
            if key.startswith(("haproxy_tlv_", "haproxy_aws"))}


def logged_in_as_cn_user(dc, mark):
    """CN_USER's login line: the log shortens its name."""
    dc.wait_for_log(rf"imap-login: Info: {dc.under_test.logged_in}: "
                    r"user=<u{64,255}(\.\.\.)?>", since=mark)


def no_auth_failure(dc, mark):
    failure = AUTH_FAILURE.search(dc.log_text(mark))
    assert not failure, f"{failure.group(0)}:\n{dc.log_text(mark)[-3000:]}"


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                     USERS, plugin_dir(),
                     extra_config=dut.long_lived("imap-login")
                     + "auth_ssl_username_from_cert = yes\n"
                     "log_debug = category=haproxy\n"
                     + dut.exported(HEADER_FINISHED))
        listener = dc.listener("imap-proxy")
        with dc:
            with t.check("a verified certificate with a CN of 20000 bytes: "
                         "the CN is dropped with a debug line, the client "
                         "logs in with its password; a login in flight "
                         "meanwhile and a new one succeed"):
                mark = dc.log_mark()
                waiting = in_flight(listener)
                try:
                    reply = log_in(listener, "alice",
                                   options=cert_options(LONG_CN))
                finally:
                    finish(waiting, "bob")
                assert reply.startswith("a OK "), reply
                dc.wait_for_log(
                    r"imap-login: Debug: haproxy: Ignoring certificate CN "
                    r"'c{64}\.\.\.': 20000 bytes, longer than the 255 of a "
                    r"user name$", since=mark)
                assert dc.wait_for_login("alice", mark)["user"] == "alice"
                reply = log_in(listener, "carol")
                assert reply.startswith("a OK "), reply
                no_auth_failure(dc, mark)

            with t.check("every value at its bound, and an initial response "
                         "that nearly fills imap-login's command line: logged "
                         "in as the CN of 255 bytes, a login in flight "
                         "meanwhile too"):
                mark = dc.log_mark()
                data = header("--src", SRC, "--dst", DST, "--ssl",
                              *bounds_options())
                # The CN replaces the user name, not the password.
                command = "a AUTHENTICATE PLAIN " + plain("alice",
                                                          LONG_PASSWORD)
                assert len(command) + 2 <= 8192, len(command)
                waiting = in_flight(listener)
                try:
                    client = Client(listener, data)
                    try:
                        reply = client.command(command)
                    finally:
                        client.close()
                finally:
                    finish(waiting, "bob")
                assert reply.startswith("a OK "), reply
                logged_in_as_cn_user(dc, mark)
                no_auth_failure(dc, mark)

            tlv_cases(t, dc)


def tlv_cases(t, dc):
    with t.check("a header of the largest size, made of tiny custom TLVs "
                 "of one type: one field, the others counted"):
        room = 65535 - (len(with_tlvs(b"")) - 16)
        # The first TLV's value makes the rest a whole number of empty
        # TLVs.
        first = b"abc"[:(room - 3) % 3 or 3]
        count = (room - 3 - len(first)) // 3
        data = with_tlvs(tlv(0xE5, first) + tlv(0xE5) * count)
        assert len(data) == 16 + 65535, len(data)
        fields = tlv_fields(dc, data)
        assert fields == {"haproxy_tlv_0xe5": first.hex(),
                          "haproxy_tlv_skipped": str(count)}, fields

    with t.check("40 types: the first TLV of each of the first 32 types is "
                 "a field, its first 128 bytes in hex; the rest counted"):
        # Types no rule of the spec constrains at the top level.
        types = list(range(0x06, 0x20)) + list(range(0x21, 0x2f))
        assert len(types) == 40
        # One value longer than a field shows, the others short: the
        # exported event must fit a log line.
        values = {t: bytes([t]) * (130 if t == types[0] else 2)
                  for t in types}
        data = with_tlvs(b"".join(tlv(t, values[t]) for t in types)
                         + tlv(types[0], b"again"))
        fields = tlv_fields(dc, data)
        expected = {f"haproxy_tlv_0x{t:02x}": values[t][:128].hex()
                    for t in types[:32]}
        expected["haproxy_tlv_skipped"] = "9"
        assert fields == expected, sorted(set(fields.items()) ^
                                          set(expected.items()))

    with t.check("an endpoint ID three times: the first is the ID, the "
                 "second a raw field with a debug line, the third counted"):
        mark = dc.log_mark()
        other = AWS_ID[:-1] + b"9"
        fields = tlv_fields(dc, with_tlvs(tlv(0xEA, AWS_ID)
                                          + tlv(0xEA, other) * 2))
        assert fields == {"haproxy_aws_vpce_id": AWS_ID[1:].decode(),
                          "haproxy_tlv_0xea": other.hex(),
                          "haproxy_tlv_skipped": "1"}, fields
        log = dc.log_text(mark)
        assert log.count("Keeping TLV 0xea raw: aws_vpce_id repeated") == 1, \
            log


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
