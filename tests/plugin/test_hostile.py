#!/usr/bin/env python3
"""Hostile, malformed and odd input on a haproxy = yes listener.

Every connection comes from the trusted proxy address unless a case says
otherwise, with a header made by haproxy-connect and then cut, delayed or
corrupted here. Each case checks what the client got, that the plugin
logged exactly the one expected "haproxy:" line, that the exported
haproxy_header_finished event has the expected result and error_code, and
that a good connection made afterwards is still served. One long-lived
login process sees every case, so a crash or a leak of state between
connections would show.

README: "Configure" (a header in any number of pieces until
haproxy_timeout, cut off after it; an untrusted peer closed at once),
"What the plugin does with a header" (the table: LOCAL, UNKNOWN, UNSPEC,
AF_UNIX, DGRAM, malformed; duplicates of once-only TLVs; CRC32C; the
64 KiB length) and "Logs and events" (one line per rejection, bytes
escaped; the event's result and error_code).
"""

import re
import time

from headers import (DST, HEADER_FINISHED, exchange, header, header_finished,
                     login_pids, proxy_connect, run_client, unread_bytes)
from sandbox import (CLIENT_IP, PROXY_IP, Dovecot, Listener, Sandbox, connect,
                     dovecot_under_test, plugin_dir, recv_all,
                     unmet_requirements, wait_until)
from tap import Tap

SRC = "127.0.0.9:4242"
LOGOUT = b"a LOGOUT\r\n"
# The lines of the plugin.
HAPROXY_LINE = re.compile(r"^.* imap-login: (\w+): haproxy: (.*)$", re.M)


def set_byte(data, offset, value):
    return data[:offset] + bytes([value]) + data[offset + 1:]


def set_v2_length(data, length):
    return data[:14] + length.to_bytes(2, "big") + data[16:]


def widen(line, size):
    """A v1 line padded with spaces after the protocol to size bytes."""
    return line[:10] + b" " * (size - len(line)) + line[10:]


# What the error of a proxy that sends no header adds, and the start of a
# decoder's error.
NO_HEADER = ("came instead: the proxy sends no PROXY header (send-proxy-v2 "
             "on its server line), or this client belongs in "
             "haproxy_direct_networks")
INVALID = "Invalid PROXY header: "


def rejected_cases():
    """(what, bytes, error_code, error) of headers the plugin must refuse:
    error, the text that both the event's field error and the log line
    give."""
    v1 = header("-1", "--src", SRC, "--dst", DST)
    v1_tcp6 = header("-1", "--src", "[2001:db8::9]:4242",
                     "--dst", "[2001:db8::3]:143")
    v2 = header("--src", SRC, "--dst", DST)
    crc = header("--src", SRC, "--dst", DST, "--crc32c")
    authority = header("--src", SRC, "--dst", DST,
                       "--authority", "mail.example.test")
    spaces = INVALID + "v1 header fields are not separated by single spaces"
    too_long = INVALID + "v1 header has no CRLF within 107 bytes"
    line_end = INVALID + "v1 header has a CR or LF that is not a CRLF"
    address = INVALID + "v1 address is not valid for its protocol"
    return [
        ("missing header: an IMAP command first", b"a CAPABILITY\r\n",
         "not_proxy", f"{INVALID}an IMAP command {NO_HEADER}"),
        ("garbage: a TLS ClientHello",
         b"\x16\x03\x01\x00\xc4\x01\x00\x00\xc0\x03\x03" + bytes(32),
         "not_proxy", f"{INVALID}a TLS ClientHello {NO_HEADER}"),
        ("PROXYx TCP4 ...", v1.replace(b"PROXY ", b"PROXYx ", 1),
         "v1_bad_syntax", spaces),
        ("PROXY\\tTCP4 ...", v1.replace(b"PROXY ", b"PROXY\t", 1),
         "v1_bad_syntax", spaces),
        ("v1 of 108 bytes", widen(v1, 108), "v1_too_long", too_long),
        ("v1 of 232 bytes", widen(v1, 232), "v1_too_long", too_long),
        ("v1 with a lone CR", v1[:-1] + b" ", "v1_bad_line_end", line_end),
        ("v1 with a lone LF", v1[:-2] + b"\n", "v1_bad_line_end", line_end),
        ("v1 bad address", v1.replace(b"127.0.0.9", b"127.0.0.256"),
         "v1_bad_address", address),
        ("v1 bad port", v1.replace(b" 4242 ", b" 65536 "), "v1_bad_port",
         INVALID + "v1 port is not a number 0-65535"),
        ("v1 TCP4 with IPv6 addresses", v1_tcp6.replace(b"TCP6", b"TCP4"),
         "v1_bad_address", address),
        ("v2 version 3", set_byte(v2, 12, 0x31), "v2_bad_version",
         INVALID + "v2 version is not 2"),
        ("v2 command 2", set_byte(v2, 12, 0x22), "v2_bad_command",
         INVALID + "v2 command is neither LOCAL nor PROXY"),
        ("v2 family 4", set_byte(v2, 13, 0x41), "v2_bad_family",
         INVALID + "v2 address family is unknown"),
        ("v2 transport 3", set_byte(v2, 13, 0x13), "v2_bad_transport",
         INVALID + "v2 transport protocol is unknown"),
        ("v2 INET with an 8-byte address block",
         set_v2_length(v2, 8)[:24], "v2_short_address",
         INVALID + "v2 length is too short for the address block"),
        ("v2 TLV running past the end",
         set_v2_length(authority, len(authority) - 17)[:-1],
         "v2_tlv_truncated", INVALID + "v2 TLV runs past the end of the "
         "header"),
        # Byte 24 is in the source port, which the checksum covers.
        ("v2 bad CRC32C", set_byte(crc, 24, crc[24] ^ 0xff),
         "v2_crc_mismatch", INVALID + "v2 CRC32C does not match the header"),
        ("v2 AUTHORITY twice",
         header("--src", SRC, "--dst", DST, "--authority", "a.example.test",
                "--tlv", "0x02:" + b"b.example.test".hex()),
         "v2_duplicate_tlv", INVALID + "v2 TLV that may occur once is "
         "repeated"),
        ("v2 UNIQUE_ID of 129 bytes",
         header("--src", SRC, "--dst", DST, "--tlv", "0x05:" + "41" * 129),
         "v2_bad_tlv_length", INVALID + "v2 TLV length is invalid for its "
         "type"),
        ("v2 PROXY over AF_UNIX",
         header("--src", "unix:/run/client", "--dst", "unix:/run/server"),
         "unsupported_family", "PROXY header is for an AF_UNIX connection"),
        ("v2 PROXY over DGRAM", header("--dgram", "--src", SRC, "--dst", DST),
         "unsupported_transport", "PROXY header is for a UDP connection"),
    ]


def own_address_cases():
    """(what, header) of headers that keep the connection's addresses."""
    local = header("--local")
    return [("v2 PROXY with family UNSPEC", set_byte(local, 12, 0x21)),
            ("v2 LOCAL", local),
            ("v1 UNKNOWN", header("--unknown"))]


def big_cases():
    """(what, header, its least size) of large v2 headers."""
    inet = ["--src", SRC, "--dst", DST]
    # Three TLVs fill the 65535 bytes after the fixed part; each value
    # stays short enough for one command line argument.
    third = (65535 - len(header(*inet)) + 16) // 3 - 3
    largest = []
    for tlv_type in ("0xe2", "0xe3", "0xe4"):
        largest += ["--tlv", f"{tlv_type}:" + "cd" * third]
    return [
        # 0xE6: no cloud vendor's type (0xE1 is Alibaba's).
        ("NOOP and custom TLVs",
         header(*inet, "--tlv", "0x04:" + "00" * 1000,
                "--tlv", "0xe6:" + "ab" * 3000), 4000),
        ("the largest length, 16+65535", header(*inet, *largest),
         16 + 65535),
    ]


class Cases:
    """Runs a case on the listener and checks what the plugin logged."""

    def __init__(self, dc, listener):
        self.dc = dc
        self.listener = listener
        self.sentinels = 0

    def lines(self, mark):
        """The haproxy: lines since mark, as (level, message), up to a good
        connection made now: it must be served, and no login process may
        have died meanwhile."""
        self.sentinels += 1
        src = f"127.0.0.99:{self.sentinels}"
        _, reply = exchange(self.listener,
                            header("-1", "--src", src, "--dst", DST) + LOGOUT)
        assert b"\r\na OK " in reply, f"next connection not served: {reply!r}"
        end = self.dc.wait_for_log(rf"haproxy: PROXY v1: client {src},",
                                   since=mark)
        crashes = self.dc.crashes(mark)
        assert not crashes, f"a process crashed: {crashes}"
        return HAPROXY_LINE.findall(self.dc.log_text(mark)[:end.start()])

    def one_line(self, mark, level, message):
        """Asserts the case logged exactly one haproxy: line, at level and
        starting with message, and whole: bytes off the wire escaped."""
        lines = self.lines(mark)
        assert len(lines) == 1 and lines[0][0] == level and \
            lines[0][1].startswith(message), \
            f"want one {level} line {message!r}..., got {lines}"
        assert lines[0][1].isprintable() and lines[0][1].endswith(")"), \
            lines[0][1]

    def rejected(self, data, error_code, error):
        """data is refused: closed without a word; its event says
        error_code and error, and one error line error, naming the
        peer."""
        mark = self.dc.log_mark()
        port, reply = exchange(self.listener, data)
        assert reply == b"", f"server sent {reply!r}"
        event = header_finished(self.dc, port, mark)
        got = {key: event.get(key) for key in ("result", "error_code",
                                               "error")}
        assert got == {"result": "rejected", "error_code": error_code,
                       "error": error}, event
        self.one_line(mark, "Error", f"{error} (rip={PROXY_IP}, "
                      f"rport={port}, listener={self.listener.name}")

    def accepted(self, data, rip):
        """data + LOGOUT works; the login's line shows rip."""
        mark = self.dc.log_mark()
        port, reply = exchange(self.listener, data + LOGOUT)
        assert reply.startswith(b"* OK ") and b"\r\na OK " in reply, reply
        assert header_finished(self.dc, port, mark)["result"] == "accepted"
        self.dc.wait_for_log(rf"imap-login: Info: "
                             rf"{self.dc.under_test.login_aborted}: .* "
                             rf"rip={rip}, .* real_rport={port},", since=mark)
        lines = self.lines(mark)
        assert len(lines) == 1 and lines[0][0] == "Debug", lines
        return port, mark


def split_everywhere(listener, data):
    """One connection per offset inside data: it sends data up to the offset,
    and the rest with a LOGOUT once Dovecot has read the first part, so the
    header arrives in two separate reads. Returns the replies."""
    socks = [proxy_connect(listener) for _ in range(1, len(data))]
    try:
        for cut, sock in enumerate(socks, 1):
            sock.sendall(data[:cut])
        assert wait_until(lambda: unread_bytes(listener, socks) ==
                          [0] * len(socks)), "first parts not read"
        for cut, sock in enumerate(socks, 1):
            sock.sendall(data[cut:] + LOGOUT)
        return [recv_all(sock) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def pending(listener, count, data):
    """count sockets that sent data (half a header), once Dovecot has
    read it."""
    socks = [proxy_connect(listener) for _ in range(count)]
    for sock in socks:
        sock.sendall(data)
    assert wait_until(lambda: unread_bytes(listener, socks) ==
                      [0] * count), "half headers not read"
    return socks


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                     plugin_dir=plugin_dir(), haproxy_timeout="1s",
                     extra_config=dut.long_lived("imap-login")
                     + "log_debug = category=haproxy\n"
                     + dut.exported(HEADER_FINISHED))
        listener = dc.listener("imap-proxy")
        cases = Cases(dc, listener)
        v1 = header("-1", "--src", SRC, "--dst", DST)
        v2 = header("--src", SRC, "--dst", DST, "--crc32c",
                    "--authority", "mail.example.test", "--unique-id", "frag",
                    "--ssl", "--ssl-version", "TLSv1.3")
        with dc:
            # A peer that has sent nothing yet: what one that has is told
            # is in test_diagnosis.py, where its bytes are surely there.
            with t.check("untrusted peer: closed before anything is sent, "
                         "one warning naming it"):
                mark = dc.log_mark()
                with connect(listener, CLIENT_IP) as sock:
                    assert recv_all(sock) == b""
                    port = sock.getsockname()[1]
                event = header_finished(dc, port, mark)
                assert event["result"] == "untrusted", event
                cases.one_line(mark, "Warning", "Peer not in haproxy_trusted_"
                               f"networks (rip={CLIENT_IP}, rport={port}, "
                               "listener=imap-proxy)")
            first_pids = login_pids(dc)

            for what, data, error_code, error in rejected_cases():
                with t.check(f"{what}: rejected, {error_code}"):
                    cases.rejected(data, error_code, error)

            for what, data in own_address_cases():
                with t.check(f"{what}: accepted with the connection's own "
                             "addresses"):
                    port, mark = cases.accepted(data, PROXY_IP)
                    dc.wait_for_log(r"Debug: haproxy: PROXY v\d .*using the "
                                    rf"connection's own addresses .*rport="
                                    rf"{port},", since=mark)

            for what, data, size in big_cases():
                with t.check(f"v2 of {len(data)} bytes, {what}: accepted"):
                    assert len(data) >= size, f"only {len(data)} bytes"
                    cases.accepted(data, "127.0.0.9")

            # 0xE5: an application type that no cloud vendor uses
            # (test_endpoints.py has theirs).
            with t.check("v2 with a 1.5 KB TLV 0xE5: accepted, shown as the "
                         "field haproxy_tlv_0xe5"):
                value = bytes(range(256)) * 6
                data = header("--src", SRC, "--dst", DST,
                              "--tlv", "0xe5:" + value.hex())
                port, mark = cases.accepted(data, "127.0.0.9")
                # Only the first 128 bytes: a field is no place for more.
                field = header_finished(dc, port, mark).get("haproxy_tlv_0xe5")
                assert field == value[:128].hex(), field

            with t.check("v2 with an empty ALPN, UNIQUE_ID and NETNS: "
                         "accepted, the login process lives"):
                data = header("--src", SRC, "--dst", DST, "--tlv", "0x01:",
                              "--tlv", "0x05:", "--tlv", "0x30:", "--ssl")
                port, mark = cases.accepted(data, "127.0.0.9")
                event = header_finished(dc, port, mark)
                assert event.get("haproxy_ssl") == "yes", event

            with t.check("header and IMAP command in one segment: the "
                         "command is answered"):
                mark = dc.log_mark()
                _, reply = exchange(listener,
                                    v2 + b"a CAPABILITY\r\nb LOGOUT\r\n")
                assert b"\r\na OK " in reply and b"\r\nb OK " in reply, reply
                assert len(cases.lines(mark)) == 1

            for version, data in (("v1", v1), ("v2", v2)):
                with t.check(f"{version} header of {len(data)} bytes cut at "
                             "every offset: each accepted, each session "
                             "works"):
                    mark = dc.log_mark()
                    replies = split_everywhere(listener, data)
                    failed = [cut for cut, reply in enumerate(replies, 1)
                              if b"\r\na OK " not in reply]
                    assert not failed, f"failed at offsets {failed}"
                    lines = cases.lines(mark)
                    debug = [l for l in lines if l[0] == "Debug" and
                             l[1].startswith(f"PROXY {version}: client {SRC},")]
                    assert len(debug) == len(lines) == len(data) - 1, lines

            with t.check("timeout: half a header, and nothing at all, are cut "
                         "off after 1 s with one line giving the bytes "
                         "received; nothing at all is diagnosed as silent"):
                mark = dc.log_mark()
                with proxy_connect(listener) as half, \
                        proxy_connect(listener) as silent:
                    half.sendall(v2[:10])
                    began = time.monotonic()
                    assert recv_all(half) == b""
                    elapsed = time.monotonic() - began
                    assert recv_all(silent) == b""
                    ports = half.getsockname()[1], silent.getsockname()[1]
                # Not before the timer; how much after it a busy login
                # process gets to it is no matter of the plugin's.
                assert elapsed > 0.9, f"closed after {elapsed:.2f} s"
                lines = cases.lines(mark)
                silent = (": nothing came, as from a proxy that sends no "
                          "PROXY header (send-proxy-v2 on its server line)")
                for port, received, said, diagnosis in (
                        (ports[0], 10, "", None),
                        (ports[1], 0, silent, "silent")):
                    line = ("Error", "Timed out after 1 secs waiting for the "
                            f"PROXY header{said} (rip={PROXY_IP}, rport={port}"
                            f", listener=imap-proxy, received={received} "
                            "bytes)")
                    assert line in lines, f"no {line} in {lines}"
                    event = header_finished(dc, port, mark)
                    assert (event["result"], event.get("diagnosis")) == \
                        ("timeout", diagnosis), event
                assert len(lines) == 2, lines

            with t.check("disconnect in the middle of the header: one error"):
                mark = dc.log_mark()
                sock = pending(listener, 1, v2[:10])[0]
                port = sock.getsockname()[1]
                sock.close()
                event = header_finished(dc, port, mark)
                assert event["result"] == "disconnected", event
                cases.one_line(mark, "Error", "Connection closed in the middle "
                               f"of the PROXY header (rip={PROXY_IP}, rport="
                               f"{port}, listener=imap-proxy, received=10 "
                               "bytes)")

            with t.check("disconnect before any byte: one Info line"):
                mark = dc.log_mark()
                with proxy_connect(listener) as sock:
                    port = sock.getsockname()[1]
                event = header_finished(dc, port, mark)
                assert event["result"] == "disconnected", event
                cases.one_line(mark, "Info", "Connection closed before "
                               f"sending a PROXY header (rip={PROXY_IP}, "
                               f"rport={port}, ")

            with t.check("50 pending connections do not hold up a good one"):
                mark = dc.log_mark()
                socks = pending(listener, 50, v2[:10])
                try:
                    run = run_client(listener, data=LOGOUT)
                    assert run.returncode == 0 and \
                        b"\r\na OK " in run.stdout, run
                    assert unread_bytes(listener, socks) == [0] * 50, \
                        "the pending ones were dropped meanwhile"
                finally:
                    for sock in socks:
                        sock.close()
                lines = cases.lines(mark)
                closed = [l for l in lines if l[1].startswith(
                    "Connection closed in the middle of the PROXY header")]
                assert len(closed) == 50 and len(lines) == 51, lines

            with t.check("one login process served every case"):
                assert len(first_pids) == 1, first_pids
                assert login_pids(dc) == first_pids, \
                    f"{first_pids} then {login_pids(dc)}"

            with t.check("shutdown with pending connections: each is closed "
                         "by haproxy_timeout, Dovecot stops cleanly"):
                socks = pending(listener, 5, v2[:10])
                ports = [sock.getsockname()[1] for sock in socks]
                mark = dc.log_mark()
                try:
                    # Dovecot lets a login process finish the connections
                    # it has: these end by the header timeout at the latest.
                    # stop() raises if a process crashed, was killed or is
                    # left.
                    dc.stop()
                    assert [recv_all(sock) for sock in socks] == [b""] * 5
                finally:
                    for sock in socks:
                        sock.close()
                results = [header_finished(dc, port, mark)["result"]
                           for port in ports]
                assert results == ["timeout"] * 5, results


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
