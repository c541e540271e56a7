#!/usr/bin/env python3
"""The two names a v2 header can hand to Dovecot, and the rules that keep
hostile bytes out of them. The README promises pinned here:

- AUTHORITY: "A value that is not a host name rejects the connection."
  A host name is what Dovecot itself takes for one (a TLS SNI name, a
  local name it proxies with): 1 to 255 letters, digits, ".", "-", "_"
  and ":", no two dots in a row. Anything else (empty, too long, spaces,
  NUL, control characters, a "/" or "%", UTF-8, "..") is closed before
  the greeting, with one error line that shows the value escaped
  (dovecot-haproxy(7): bytes outside printable ASCII, \\ and " as \\xNN,
  the first 64 bytes) and a haproxy_header_finished event with
  result=rejected and error_code=bad_authority. A host name is the
  client's local name, up to 255 bytes.
- The certificate CN "becomes the certificate user name
  (auth_ssl_username_from_cert) only when the proxy reports a client
  certificate (CERT_CONN or CERT_SESS) and verify is 0, and only when it
  holds no NUL or control character. Otherwise it is dropped and a debug
  line says why." CERT_SESS alone is a resumed TLS session: its CN counts,
  by hand and from a real HAProxy whose client resumed its TLS 1.2
  session. A CN with a NUL anywhere, "certuser\\0admin" among them, is
  dropped whole, never cut to the part before the NUL.

Passwords tell the outcomes apart, as in test_tls.py: "someone" has
PASSWORD and "certuser" CERT_PASSWORD, so LOGIN someone CERT_PASSWORD
succeeds only as certuser, when the CN replaced the user name.

README: "What the plugin does with a header" (SSL, AUTHORITY).
"""

import re
import ssl

from headers import (HEADER_FINISHED, escaped, header, header_finished,
                     proxy_connect)
from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, Dovecot, HAProxy,
                     Listener, Sandbox, connect, dovecot_under_test,
                     plugin_dir, recv_all, unmet_requirements)
from tap import Tap

SRC, DST = "198.51.100.7:40000", "127.0.0.3:143"
CERT_PASSWORD = "certpass"
USERS = {"someone": {}, "certuser": {"password": CERT_PASSWORD}}
LONGEST = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 63])  # 255 bytes
HOST_NAMES = ["mail.example.test", "xn--mller-kva.example", "dns_server.name",
              "fe80::1", "127.0.0.1", "MAIL-1.Example.TEST", LONGEST]
NOT_HOST_NAMES = [
    ("empty", b""),
    ("256 bytes", LONGEST.encode() + b"e"),
    ("a space", b"mail example.test"),
    ("a NUL", b"mail\x00.example.test"),
    ("a NUL at the end", b"mail.example.test\x00"),
    ("a control character", b"mail\x01.example.test"),
    ("DEL", b"mail\x7f.example.test"),
    ("a tab", b"mail\t.example.test"),
    ("CR LF", b"mail.example.test\r\n"),
    ("two dots in a row", b"mail..example.test"),
    ("a slash", b"mail/../example.test"),
    ("a variable", b"%{user}.example.test"),
    ("a quote and a backslash", b'mail"\\.example.test'),
    ("UTF-8", "müller.example.test".encode()),
]
# How much of a bad value a line shows.
SHOWN = 64
# The SSL TLV's client field.
CLIENT_SSL, CERT_CONN, CERT_SESS = 0x01, 0x02, 0x04
CONFIG = """\
log_debug = category=haproxy
auth_ssl_username_from_cert = yes
"""


def config(dut):
    """CONFIG, plaintext LOGIN without the SSL TLV too, and the events
    exported."""
    return (CONFIG + dut.cleartext_auth()
            + dut.exported(HEADER_FINISHED))


def tlv(kind, value):
    return bytes([kind]) + len(value).to_bytes(2, "big") + value


def ssl_tlv_hex(client, verify, cn):
    """The value of an SSL TLV (type 0x20) with a CN sub-TLV (0x22) of any
    bytes, in hexadecimal for haproxy-connect --tlv."""
    return (bytes([client]) + verify.to_bytes(4, "big")
            + tlv(0x21, b"TLSv1.3") + tlv(0x22, cn)).hex()


def session(dc, data, commands):
    """data, then commands (tag, command) pipelined and a LOGOUT, from the
    proxy; the peer's port and the transcript."""
    with proxy_connect(dc.listener("imap-proxy")) as sock:
        port = sock.getsockname()[1]
        sock.sendall(data + b"".join(f"{tag} {command}\r\n".encode()
                                     for tag, command in commands)
                     + b"z LOGOUT\r\n")
        return port, recv_all(sock).decode(errors="replace")


def authority(t, dc):
    for name in HOST_NAMES:
        what = (f"AUTHORITY of {len(name)} bytes" if name == LONGEST
                else f"AUTHORITY {name}")
        with t.check(f"{what}: a host name, the client's local name"):
            mark = dc.log_mark()
            _, transcript = session(
                dc, header("--src", SRC, "--dst", DST, "--authority", name),
                [("a", f"LOGIN someone {PASSWORD}")])
            assert "\r\na OK " in transcript, transcript
            fields = dc.wait_for_login("someone", mark)
            assert fields["local_name"] == name, fields

    for what, value in NOT_HOST_NAMES:
        with t.check(f"AUTHORITY with {what}: rejected before the greeting, "
                     "one error line showing it escaped, error_code "
                     "bad_authority"):
            mark = dc.log_mark()
            data = header("--src", SRC, "--dst", DST,
                          "--tlv", "0x02:" + value.hex())
            port, transcript = session(dc, data,
                                       [("a", f"LOGIN someone {PASSWORD}")])
            assert transcript == "", transcript
            fields = header_finished(dc, port, mark)
            assert (fields["result"], fields["error_code"]) == \
                ("rejected", "bad_authority"), fields
            line = (f"imap-login: Error: haproxy: AUTHORITY is not a host "
                    f"name: '{escaped(value, SHOWN)}' (rip={PROXY_IP}, "
                    f"rport={port}, listener=imap-proxy)")
            # The event and the line reach the log by different
            # processes: the line may come second.
            dc.wait_for_log(re.escape(line) + "$", since=mark)
            lines = re.findall(r"^\S+ \d+ [\d:]+ (.*haproxy: .*)$",
                               dc.log_text(mark), re.M)
            assert lines == [line], f"{lines}, expected [{line!r}]"
            assert fields["error"] == line.split("haproxy: ", 1)[1].split(
                " (rip=")[0], fields


def logged_in(dc, mark):
    """The user of the first login line after mark, waiting for it."""
    return dc.wait_for_log(rf"imap-login: Info: {dc.under_test.logged_in}: "
                           r"user=<([^>]*)>", since=mark).group(1)


def cn_login(dc, ssl_options, password):
    """A header from the proxy with these SSL TLV options, then LOGIN
    someone password; the login line's user, or None if refused, and the
    log since."""
    mark = dc.log_mark()
    _, transcript = session(
        dc, header("--src", SRC, "--dst", DST, *ssl_options),
        [("a", f"LOGIN someone {password}")])
    if "\r\na OK " not in transcript:
        assert "\r\na NO " in transcript, transcript
        return None, dc.log_text(mark)
    user = logged_in(dc, mark)
    return user, dc.log_text(mark)


def common_name(t, dc):
    """By hand: haproxy-connect's SSL options, or the raw SSL TLV for a
    CN no option can carry."""
    used = [("CERT_CONN and CERT_SESS, verify 0",
             ["--ssl", "--client-cert", "--ssl-cn", "certuser"]),
            ("CERT_SESS only (a resumed session), verify 0",
             ["--ssl", "--client-cert=sess", "--ssl-cn", "certuser"])]
    for what, options in used:
        with t.check(f"CN certuser, {what}: the user name"):
            user, log = cn_login(dc, options, CERT_PASSWORD)
            assert user == "certuser", log
            assert "Ignoring certificate CN" not in log, log

    dropped = [
        ("CERT_SESS only, verify 20",
         ["--ssl", "--client-cert=sess", "--ssl-verify", "20",
          "--ssl-cn", "certuser"], b"certuser", "verify failed (20)"),
        ("no client certificate",
         ["--ssl", "--ssl-cn", "certuser"], b"certuser",
         "no client certificate"),
    ]
    for cn in (b"certuser\x00admin", b"certuser\x00", b"\x00certuser",
               b"cert\x01user", b"certuser\n", b"cert\x7fuser", b""):
        dropped.append((
            "CERT_CONN and CERT_SESS, verify 0",
            ["--tlv", "0x20:" + ssl_tlv_hex(
                CLIENT_SSL | CERT_CONN | CERT_SESS, 0, cn)],
            cn, "not a user name"))
    for what, options, cn, reason in dropped:
        with t.check(f"CN '{escaped(cn, SHOWN)}', {what}: dropped, a debug line "
                     f"says why ({reason})"):
            user, log = cn_login(dc, options, CERT_PASSWORD)
            assert user is None, f"logged in as {user}: {log}"
            user, log = cn_login(dc, options, PASSWORD)
            assert user == "someone", log
            assert (f"Debug: haproxy: Ignoring certificate CN "
                    f"'{escaped(cn, SHOWN)}': {reason}") in log, log


def tls12_context(sb):
    """A client context that presents certuser's certificate and speaks
    TLS 1.2, whose sessions a later connection can resume."""
    context = sb.certs.context("certuser")
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def imaps_login(front, context, sess=None):
    """LOGIN someone CERT_PASSWORD over TLS at HAProxy's frontend, resuming
    sess if given; (whether it resumed, the TLS session, the reply)."""
    sock = connect(front, CLIENT_IP)
    with context.wrap_socket(sock, server_hostname=PROXY_IP,
                             session=sess) as tls:
        lines = tls.makefile("rb")
        lines.readline()  # the greeting
        tls.sendall(f"a LOGIN someone {CERT_PASSWORD}\r\nb LOGOUT\r\n"
                    .encode())
        reply = b""
        while not reply.startswith(b"b ") and b"\r\nb " not in reply:
            line = lines.readline()
            if not line:
                break
            reply += line
        return tls.session_reused, tls.session, reply.decode()


def resumed_session(t, sb, dc):
    """A real HAProxy sends CERT_SESS without CERT_CONN for a client that
    resumed a TLS session in which it had shown its certificate."""
    hap = HAProxy(sb)
    hap.backend("cn", [(dc.listener("imap-proxy"), "send-proxy-v2-ssl-cn")])
    front = hap.frontend("cn", "cn", tls=True)
    with hap:
        context = tls12_context(sb)
        with t.check("HAProxy, full TLS 1.2 handshake with certuser's "
                     "certificate: the CN is the user name"):
            mark = dc.log_mark()
            resumed, sess, reply = imaps_login(front, context)
            assert not resumed and "a OK " in reply, reply
            assert logged_in(dc, mark) == "certuser", dc.log_text(mark)
        with t.check("HAProxy, the same session resumed: SSL TLV client "
                     "0x05 (CERT_SESS only), and the CN is still the user "
                     "name"):
            mark = dc.log_mark()
            resumed, _, reply = imaps_login(front, context, sess)
            assert resumed, "the TLS session was not resumed"
            assert "a OK " in reply, reply
            assert logged_in(dc, mark) == "certuser", dc.log_text(mark)
            dc.wait_for_log(r"Debug: haproxy: PROXY v2: .*"
                            r"haproxy_ssl_client=0x05, haproxy_ssl_verify=0,"
                            r".* haproxy_ssl_cn=certuser[,)]", since=mark)


def main(t):
    with Sandbox() as sb:
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                     USERS, plugin_dir(),
                     extra_config=config(dovecot_under_test()))
        with dc:
            authority(t, dc)
            common_name(t, dc)
            resumed_session(t, sb, dc)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
