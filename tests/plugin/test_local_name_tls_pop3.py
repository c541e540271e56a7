#!/usr/bin/env python3
"""local_name { } blocks for an AUTHORITY, beyond test_local_name.py: the
SSL settings for STARTTLS, and POP3. The README promises pinned here
("What the plugin does with a header", AUTHORITY): the block's "login
settings (..., SSL settings for STARTTLS and for an ssl = yes listener)"
apply to the client; "the name stays the client's when it starts TLS,
whatever TLS SNI it sends or does not send"; "Dovecot 2.4 gives the mail
process the name, whose settings in the block then apply too (pop3_*,
imap_*); 2.3 gives a mail process no local name, not even for TLS SNI":

- STARTTLS, in IMAP and in POP3 (STLS), presents the block's certificate
  to a client whose header names the block, and the default certificate
  to one without AUTHORITY or with another name; so does TLS on an
  ssl = yes listener. Dovecot reads a client's settings again for the TLS
  SNI it sends, and without a name for a client that sends none: the
  header's name stays the client's all the same (the login line's
  local_name after TLS), whether the client sends no SNI or another name.
  Without AUTHORITY, the client's SNI chooses, as ever.
- pop3-login greets with the block's login_greeting.
- pop3_* settings belong to the pop3 process after the login, not to
  pop3-login (which has none of its own). Dovecot 2.4 tells that process
  the client's local name, and the block's pop3_logout_format applies;
  2.3 never tells a mail process the local name, so there the block's
  pop3_* settings apply to nobody, not even to a direct TLS client that
  sent the name as SNI, which this test shows next to it.

README: "What the plugin does with a header" (AUTHORITY).
"""

import ssl

from headers import header, proxy_connect
from sandbox import (PASSWORD, Dovecot, Listener, Sandbox,
                     dovecot_under_test, plugin_dir, connect, recv_all,
                     unmet_requirements)
from tap import Tap

NAME = "mail.example.test"
GREETING = "Hello from mail.example.test."
LOGOUT_FORMAT = "LOCALNAME-LOGOUT"


def block(dut, cert, key, ca):
    lines = (dut.ssl_server(cert, key, ca)
             + f"login_greeting = {GREETING}\n"
             + f"pop3_logout_format = {LOGOUT_FORMAT}\n")
    return (f"local_name {NAME} {{\n"
            + "".join(f"  {line}\n" for line in lines.splitlines())
            + "}\n")


def der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def tls_session(dc, listener, authority, sni, context):
    """A header with AUTHORITY authority (None: none) to listener, then
    TLS: STARTTLS (IMAP), STLS (POP3), or at once on an ssl = yes
    listener, sending sni as TLS SNI (None: none), and a login; the
    certificate presented, as DER, and the login line's local_name."""
    listener = dc.listener(listener)
    options = ["--src", "198.51.100.7:40000"]
    if authority:
        options += ["--authority", authority]
    mark = dc.log_mark()
    with proxy_connect(listener) as sock:
        sock.sendall(header(*options))
        if not listener.ssl:
            lines = sock.makefile("rb")
            assert lines.readline().startswith((b"* OK", b"+OK"))
            command, ok = {"imap": (b"a STARTTLS\r\n", b"a OK "),
                           "pop3": (b"STLS\r\n", b"+OK")}[listener.protocol]
            sock.sendall(command)
            reply = lines.readline()
            assert reply.startswith(ok), reply
        with context.wrap_socket(sock, server_hostname=sni) as tls:
            certificate = tls.getpeercert(binary_form=True)
            if listener.protocol == "imap":
                tls.sendall(f"b LOGIN alice {PASSWORD}\r\nc LOGOUT\r\n"
                            .encode())
            else:
                tls.sendall(f"USER alice\r\nPASS {PASSWORD}\r\nQUIT\r\n"
                            .encode())
            recv_all(tls)
    return certificate, dc.wait_for_login("alice", mark).get("local_name")


def tls(t, dc, certs, named_cert):
    """The certificate each way of starting TLS presents, and the local
    name of the login after it."""
    context = certs.context()
    context.check_hostname = False  # the chain is still verified
    named, default = der(named_cert), der(certs.server_cert)
    cases = [
        ("imap-proxy", NAME, None, named, NAME,
         "the block's certificate"),
        ("imap-proxy", None, None, default, None,
         "the default certificate"),
        ("imap-proxy", "other.example.test", None, default,
         "other.example.test", "the default certificate"),
        # The client's own SNI: Dovecot's way to the block, without a
        # header's name; with one, the proxy's word stays.
        ("imap-proxy", None, NAME, named, NAME,
         "the block's certificate, chosen by SNI as ever"),
        ("imap-proxy", NAME, "other.example.test", named, NAME,
         "still the block's certificate: the header's name stays"),
        ("pop3-proxy", NAME, None, named, NAME, "the block's certificate"),
        ("pop3-proxy", None, None, default, None,
         "the default certificate"),
        ("imaps-proxy", NAME, None, named, NAME, "the block's certificate"),
        ("imaps-proxy", NAME, "other.example.test", named, NAME,
         "still the block's certificate: the header's name stays"),
        ("imaps-proxy", None, None, default, None,
         "the default certificate"),
    ]
    for listener, authority, sni, expected, local_name, which in cases:
        how = ("TLS at once" if dc.listener(listener).ssl else
               "STARTTLS" if listener.startswith("imap") else "STLS")
        what = (f"{listener}, {how}, " + (f"AUTHORITY {authority}"
                                          if authority else "no AUTHORITY")
                + (f", SNI {sni}" if sni else ", no SNI"))
        with t.check(f"{what}: {which}; the login's local_name is "
                     f"{local_name}"):
            got, name = tls_session(dc, listener, authority, sni, context)
            assert got == expected, (
                "the block's certificate" if got == named else
                "the default certificate" if got == default else
                "another certificate")
            assert name == local_name, f"local_name={name}"


def pop3_session(sock):
    sock.sendall(f"USER alice\r\nPASS {PASSWORD}\r\nQUIT\r\n".encode())
    return recv_all(sock).decode(errors="replace")


def pop3(t, dc, certs):
    dut = dc.under_test
    mark = dc.log_mark()
    with t.check(f"pop3, AUTHORITY {NAME}: pop3-login greets with the "
                 "block's login_greeting, and the login works"):
        with proxy_connect(dc.listener("pop3-proxy")) as sock:
            sock.sendall(header("--src", "198.51.100.7:40000",
                                "--authority", NAME))
            transcript = pop3_session(sock)
        assert transcript.startswith(f"+OK {GREETING}\r\n"), transcript
        assert "+OK Logged in." in transcript, transcript
    applies = dut.mail_local_name
    logout = (rf"pop3\(alice\)<\d+><[^>]*>: Info: Disconnected: Logged out"
              rf"(?: (.*))?$")
    with t.check(f"pop3, AUTHORITY {NAME}: the pop3 process " + (
            "applies the block's pop3_logout_format" if applies else
            "(Dovecot 2.3) does not learn the local name, so not its "
            "pop3_logout_format")):
        line = dc.wait_for_log(logout, since=mark)
        assert (line.group(1) == LOGOUT_FORMAT) == applies, line.group(0)

    # The same with TLS SNI, Dovecot's own way to the local name.
    mark = dc.log_mark()
    with t.check(f"pop3s, TLS SNI {NAME} (no plugin involved): the pop3 "
                 "process " + ("applies" if applies else "does not apply")
                 + " the block's pop3_logout_format either"):
        context = certs.context()
        context.check_hostname = False
        with context.wrap_socket(connect(dc.listener("pop3s")),
                                 server_hostname=NAME) as tls:
            assert "+OK Logged in." in pop3_session(tls)
        line = dc.wait_for_log(logout, since=mark)
        assert (line.group(1) == LOGOUT_FORMAT) == applies, line.group(0)


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        certs = sb.certs
        # A certificate of the CA's for the block, that no other setting
        # uses (made as a client certificate: a leaf all the same).
        named_cert, named_key = certs.client(NAME)
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                          Listener("imap", "imaps-proxy", haproxy=True,
                                   ssl=True),
                          Listener("pop3", "pop3-proxy", haproxy=True),
                          Listener("pop3", "pop3s", ssl=True)],
                     plugin_dir=plugin_dir(),
                     extra_config=(dut.cleartext_auth()
                                   + block(dut, named_cert, named_key,
                                           certs.ca)))
        with dc:
            tls(t, dc, certs, named_cert)
            pop3(t, dc, certs)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
