#!/usr/bin/env python3
"""The values of the TLV fields, not only their names. The README promises
pinned here ("What the plugin does with a header"): "Everything the header
carried becomes a field of the accepted header's haproxy_header_finished
event ... and of the login client's event, which Dovecot passes on to the
client's named child events (proxy_session_* when the login process
proxies)", with the value the manual gives for each: the text TLVs and
SSL sub-TLVs as they came, escaped (bytes outside printable ASCII, \\ and "
as \\xNN); haproxy_crc32c "verified"; haproxy_ssl yes or no and
haproxy_ssl_client the client field in hexadecimal; haproxy_ssl_verify in
decimal; haproxy_ssl_client_cert_sha256 the SHA-256 of the DER
certificate of CLIENT_CERT; haproxy_tlv_0xNN the value of any other type
in hexadecimal, its first 128 bytes.

Every expected value is computed here from what was sent: the header's
options, the test's certificate (its SHA-256 with hashlib), and for a
real HAProxy that terminates TLS, what the client's own TLS socket
negotiated (version, cipher, ALPN) and what openssl says of the
frontend's certificate (its signature algorithm and key), which HAProxy
names in SIG_ALG and KEY_ALG. Both events of each login must hold exactly
these haproxy_* fields, no more, no fewer.

"ALPN is passed on to login-common": Dovecot 2.4's refuses a client whose
ALPN is not its protocol (README, "What Dovecot 2.4 does differently"),
so an ALPN of odd bytes is checked on the header's event alone there.

README: "What the plugin does with a header" and "What Dovecot 2.4 does
differently".
"""

import hashlib
import json
import re
import ssl
import subprocess

from headers import (HEADER_FINISHED, escaped, exported_event, header,
                     proxy_connect)
from sandbox import (CLIENT_IP, PASSWORD, TIMEOUT, Dovecot, HAProxy,
                     Listener, Sandbox, connect, dovecot_under_test,
                     plugin_dir, proxied_backend, recv_all,
                     unmet_requirements)
from tap import Tap

SRC, DST = "198.51.100.7:40000", "127.0.0.3:143"
# Every field the README lists for the header's TLVs but the endpoint IDs
# (test_endpoints.py), and the two unknown types sent below.
FIELDS = ("haproxy_authority", "haproxy_alpn", "haproxy_unique_id",
          "haproxy_netns", "haproxy_crc32c", "haproxy_ssl",
          "haproxy_ssl_client", "haproxy_ssl_verify", "haproxy_ssl_version",
          "haproxy_ssl_cn", "haproxy_ssl_cipher", "haproxy_ssl_sig_alg",
          "haproxy_ssl_key_alg", "haproxy_ssl_group",
          "haproxy_ssl_sig_scheme", "haproxy_ssl_client_cert_sha256",
          "haproxy_tlv_0xe5", "haproxy_tlv_0xf0")
LOGIN = f"a LOGIN remote {PASSWORD}\r\nb LOGOUT\r\n".encode()


def option_fields(options):
    """{field: value} of haproxy-connect's {--option: value} for text TLVs:
    --ssl-cn VALUE is haproxy_ssl_cn, its value escaped."""
    return {"haproxy_" + option[2:].replace("-", "_"):
            escaped(value if isinstance(value, bytes) else value.encode())
            for option, value in options.items()}


def config(dut):
    """Both events exported, the client's through proxy_session_started
    with every field above."""
    return (dut.cleartext_auth()
            + dut.exported(HEADER_FINISHED, ("haproxy_proxied",
                                             "event=proxy_session_started",
                                             FIELDS)))


def tlv_fields(fields):
    return {k: v for k, v in fields.items() if k.startswith("haproxy_")}


def event_fields(dc, name, unique_id, mark):
    """The haproxy_* fields of the event called name of the login whose
    UNIQUE_ID (as the events show it) is unique_id."""
    pattern = r'.*"haproxy_unique_id":%s.*' % re.escape(
        json.dumps(unique_id))
    return tlv_fields(exported_event(dc, name, pattern, mark)["fields"])


def check_events(t, dc, what, unique_id, mark, expected):
    t.eq(event_fields(dc, "haproxy_header_finished", unique_id, mark),
         expected, f"{what}: the haproxy_header_finished event's haproxy_* "
         "fields")
    what = (f"{what}: the login client's, as its proxy_session_started "
            "event has them")
    if not dc.under_test.login_proxy_events:
        t.skip(what, f"Dovecot {dc.under_test.version}'s login proxy makes "
               "no named events")
        return
    t.eq(event_fields(dc, "proxy_session_started", unique_id, mark),
         expected, what)


def by_hand(t, sb, dc):
    """haproxy-connect sends every TLV, once with plain values and once
    with bytes that must be escaped or cut."""
    cert = sb.certs.client("certuser")[0]
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    plain = {
        "--authority": "mail.example.test", "--alpn": "imap",
        "--unique-id": "req-0001", "--netns": "ns-blue",
        "--ssl-verify": "0", "--ssl-version": "TLSv1.3",
        "--ssl-cn": "certuser", "--ssl-cipher": "TLS_AES_256_GCM_SHA384",
        "--ssl-sig-alg": "ecdsa-with-SHA256", "--ssl-key-alg": "EC256",
        "--ssl-group": "X25519", "--ssl-sig-scheme": "ecdsa_secp256r1_sha256",
    }
    unknown = bytes(range(200))          # cut to its first 128 bytes
    options = [x for pair in plain.items() for x in pair] + [
        "--crc32c", "--ssl", "--client-cert", "--ssl-cert", cert,
        "--tlv", "0xe5:" + unknown.hex(), "--tlv", "0xf0:"]
    expected = dict(option_fields(plain), **{
        "haproxy_crc32c": "verified", "haproxy_ssl": "yes",
        "haproxy_ssl_client": "0x07",
        "haproxy_ssl_client_cert_sha256": hashlib.sha256(der).hexdigest(),
        "haproxy_tlv_0xe5": unknown[:128].hex(), "haproxy_tlv_0xf0": "",
    })
    login(t, dc, "by hand, every TLV", header("--src", SRC, "--dst", DST,
                                              *options),
          "req-0001", expected)

    # Bytes to escape in every text field; the SSL TLV without its SSL
    # bit, with a verify error and no certificate.
    odd = {
        "--unique-id": b"id\x01\x7f\x80", "--netns": b"ns\tx",
        "--ssl-version": b"TLS\xc3\xa9", "--ssl-cn": b'Ann "A" O\'Neil',
        "--ssl-cipher": b"a\\b", "--ssl-sig-alg": b"\x1b[0m",
        "--ssl-key-alg": b"k\r\n", "--ssl-group": b"\xfe",
        "--ssl-sig-scheme": b"s s",
    }
    data = header("--src", SRC, "--dst", DST, "--ssl-verify", "20",
                  "--alpn", "imap", *[x for pair in odd.items() for x in pair])
    expected = dict(option_fields(odd), **{
        "haproxy_alpn": "imap", "haproxy_ssl": "no",
        "haproxy_ssl_client": "0x00", "haproxy_ssl_verify": "20"})
    login(t, dc, "by hand, bytes to escape", data,
          expected["haproxy_unique_id"], expected)
    odd_alpn(t, dc)


def odd_alpn(t, dc):
    """An ALPN of bytes to escape, NUL among them (an argument cannot hold
    one: a raw TLV). Dovecot 2.4's login-common refuses a client whose
    ALPN is not its protocol; 2.3 takes it."""
    dut = dc.under_test
    alpn = b'h2\x00"\\\xff'
    expected = {"haproxy_alpn": escaped(alpn), "haproxy_unique_id": "alpn"}
    data = header("--src", SRC, "--dst", DST, "--unique-id", "alpn",
                  "--tlv", "0x01:" + alpn.hex())
    if not dut.alpn_must_match:
        login(t, dc, "by hand, an ALPN to escape", data, "alpn", expected)
        return
    # login-common leaks the settings of a client it refuses for its ALPN
    # (client_alloc() returns without freeing them): each is reported when
    # the process exits.
    dc.provokes(r"imap-login: Warning: Leaked settings: "
                r"(?:ssl-settings|client-common)\.c:\d+")
    mark = dc.log_mark()
    with t.check("by hand, an ALPN to escape: Dovecot refuses the client "
                 "(application protocol mismatch)"):
        with proxy_connect(dc.listener("imap-proxy")) as sock:
            sock.sendall(data + LOGIN)
            assert recv_all(sock) == b""
        dc.wait_for_log(r"imap-login: Error: HAproxy application protocol "
                        r"mismatch \(requested 'h2'\)", since=mark)
    pattern = r'.*"haproxy_unique_id":"alpn".*'
    t.eq(tlv_fields(exported_event(dc, "haproxy_header_finished", pattern,
                                   mark)["fields"]), expected,
         "by hand, an ALPN to escape: the haproxy_header_finished event's "
         "haproxy_* fields")


def login(t, dc, what, data, unique_id, expected):
    mark = dc.log_mark()
    with t.check(f"{what}: the login is proxied to the backend"):
        with proxy_connect(dc.listener("imap-proxy")) as sock:
            sock.sendall(data + LOGIN)
            reply = recv_all(sock)
        assert b"\r\na OK " in reply, reply
    check_events(t, dc, what, unique_id, mark, expected)


def certificate_text(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-noout",
                           "-text"], check=True, capture_output=True,
                          text=True, timeout=TIMEOUT).stdout


def through_haproxy(t, sb, dc):
    """HAProxy terminates TLS with the server certificate and sends
    everything it can: SSL with CN, cipher, SIG_ALG and KEY_ALG,
    AUTHORITY, UNIQUE_ID, CRC32C, and the ALPN it negotiated."""
    hap = HAProxy(sb)
    hap.backend("all", [(dc.listener("imap-proxy"),
                         "send-proxy-v2-ssl-cn proxy-v2-options ssl-cipher,"
                         "cert-sig,cert-key,authority,unique-id,crc32c")])
    front = hap.frontend("all", "all", "unique-id-format %ci:%cp", tls=True,
                         bind_options="alpn imap")
    cert = certificate_text(sb.certs.server_cert)
    key_type = re.search(r"Public Key Algorithm: (\S+)", cert).group(1)
    bits = re.search(r"Public-Key: \((\d+) bit\)", cert).group(1)
    with hap:
        context = sb.certs.context("certuser")
        context.check_hostname = False   # the name is not the certificate's
        context.set_alpn_protocols(["imap"])
        mark = dc.log_mark()
        with t.check("through HAProxy: the login is proxied to the "
                     "backend"):
            sock = connect(front, CLIENT_IP)
            with context.wrap_socket(
                    sock, server_hostname="mail.example.test") as tls:
                port = tls.getsockname()[1]
                negotiated = {"haproxy_ssl_version": tls.version(),
                              "haproxy_ssl_cipher": tls.cipher()[0],
                              "haproxy_alpn": tls.selected_alpn_protocol()}
                tls.sendall(LOGIN)
                reply = recv_all(tls)
            assert b"\r\na OK " in reply, reply
        expected = dict(negotiated, **{
            "haproxy_authority": "mail.example.test",
            "haproxy_unique_id": f"{CLIENT_IP}:{port}",
            "haproxy_crc32c": "verified", "haproxy_ssl": "yes",
            "haproxy_ssl_client": "0x07", "haproxy_ssl_verify": "0",
            "haproxy_ssl_cn": "certuser",
            "haproxy_ssl_sig_alg": re.search(
                r"Signature Algorithm: (\S+)", cert).group(1),
            # HAProxy's name for the key: its type and size.
            "haproxy_ssl_key_alg": {"id-ecPublicKey": "EC",
                                    "rsaEncryption": "RSA"}[key_type] + bits,
        })
        check_events(t, dc, "through HAProxy", f"{CLIENT_IP}:{port}", mark,
                     expected)


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        backend, users = proxied_backend(sb)
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                          backend], users=users, plugin_dir=plugin_dir(),
                     extra_config=config(dut))
        with dc:
            by_hand(t, sb, dc)
            through_haproxy(t, sb, dc)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
