#!/usr/bin/env python3
"""HAProxy terminates TLS and tells Dovecot about it in PROXY v2 TLVs: the
SSL TLV (secured, the certificate CN), AUTHORITY, UNIQUE_ID and CRC32C.

Passwords tell the outcomes apart: "someone" has PASSWORD, "certuser"
CERT_PASSWORD, so logging in as someone with CERT_PASSWORD succeeds only
if the certificate's CN replaced the user name.

README: "What the plugin does with a header" (SSL: secured, the CN only
from a verified certificate; AUTHORITY, UNIQUE_ID, CRC32C) and "What
Dovecot 2.4 does differently" (secured connections).
"""

import imaplib
import re

from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, Dovecot, HAProxy, IMAPS,
                     Listener, Sandbox, dovecot_under_test, log_fields,
                     plugin_dir, unmet_requirements)
from tap import Tap

CERT_PASSWORD = "certpass"
USERS = {
    "someone": {},
    "certuser": {"password": CERT_PASSWORD},
    # SASL EXTERNAL verifies an empty password: the passdb must allow it.
    "extuser": {"password": "", "nopassword": "y"},
}
GREETING = "Hello from mail.example.test"
CONFIG = f"""\
log_debug = category=haproxy
auth_debug = yes
auth_ssl_username_from_cert = yes
auth_mechanisms = plain login external
local_name mail.example.test {{
  login_greeting = {GREETING}
}}
"""
# The client can compute it: "client address:port_frontend address:port".
UNIQUE_ID_FORMAT = "unique-id-format %ci:%cp_%fi:%fp"


def unique_id(imap, front):
    return f"{CLIENT_IP}:{imap.sock.getsockname()[1]}_{PROXY_IP}:{front.port}"


def sni_context(sb):
    """A client context for a name the server certificate does not have:
    the chain is still verified."""
    context = sb.certs.context()
    context.check_hostname = False
    return context


with Tap() as t:
    t.require(unmet_requirements(plugin=True))
    dut = dovecot_under_test()
    with Sandbox() as sb:
        # The user "uid" is not in the passwd-file; its password is the
        # UNIQUE_ID that HAProxy sent, as auth sees it.
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)], USERS,
                     plugin_dir(), extra_config=CONFIG + dut.static_passdb(
                         "%{passdb:forward_haproxy_unique_id}", "uid"))
        hap = HAProxy(sb)
        fronts = {}
        for name, options, lines in (
                ("ssl", "", ()),
                ("authority", "proxy-v2-options authority", ()),
                ("unique-id", "proxy-v2-options unique-id",
                 (UNIQUE_ID_FORMAT,)),
                ("crc32c", "proxy-v2-options authority,unique-id,crc32c",
                 (UNIQUE_ID_FORMAT,))):
            hap.backend(name, [(dc.listener("imap-proxy"),
                                "send-proxy-v2-ssl-cn " + options)])
            fronts[name] = hap.frontend(name, name, *lines, tls=True)
        certs = sb.certs

        def login(user, password, context=None):
            """Logs in through TLS at HAProxy; returns the login line's
            fields and the log since the connection began."""
            mark = dc.log_mark()
            with IMAPS(fronts["ssl"], context or certs.context()) as imap:
                imap.login(user, password)
            line = dc.wait_for_log(rf"imap-login: Info: {dut.logged_in}: .*",
                                   since=mark)
            return log_fields(line.group(0)), dc.log_text(mark)

        def external(cn, trusted):
            """SASL EXTERNAL with a client certificate; True if accepted."""
            mark = dc.log_mark()
            with IMAPS(fronts["ssl"], certs.context(cn, trusted)) as imap:
                try:
                    imap.authenticate("EXTERNAL", lambda challenge: b"")
                except imaplib.IMAP4.error:
                    dc.wait_for_log(dut.unknown_username("external",
                                                         CLIENT_IP),
                                    since=mark)
                    return False
            dc.wait_for_login(cn, mark)
            return True

        with dc, hap:
            with t.check("the SSL TLV secures the connection: plaintext "
                         "LOGIN is allowed (disable_plaintext_auth = yes)"):
                fields, _ = login("someone", PASSWORD)
                assert (fields["user"], fields["rip"], fields["secured"]) == \
                    ("someone", CLIENT_IP, dut.secured_ssl_tlv), fields

            with t.check("a verified client certificate's CN is the user "
                         "name (auth_ssl_username_from_cert)"):
                fields, _ = login("someone", CERT_PASSWORD,
                                  certs.context("certuser"))
                assert fields["user"] == "certuser", fields

            with t.check("an unverified certificate's CN is not used, and a "
                         "debug line says why"):
                fields, log = login("someone", PASSWORD,
                                    certs.context("certuser", trusted=False))
                assert fields["user"] == "someone", fields
                assert "Debug: haproxy: Ignoring certificate CN 'certuser': " \
                    "verify failed (" in log, log

            with t.check("no client certificate: no CN, nothing ignored"):
                fields, log = login("someone", PASSWORD)
                assert fields["user"] == "someone", fields
                assert "Debug: haproxy: PROXY v2: client" in log, log
                assert "haproxy_ssl_cn=" not in log, log
                assert "Ignoring certificate CN" not in log, log

            t.ok(external("extuser", trusted=True), "SASL EXTERNAL logs in "
                 "as the verified certificate's CN")
            t.ok(not external("extuser", trusted=False), "SASL EXTERNAL with "
                 "an unverified certificate is refused")

            for sni, greeting in (("mail.example.test", GREETING),
                                  ("other.example.test", dut.greeting)):
                with t.check(f"AUTHORITY {sni}: greeting '{greeting}', "
                             f"%{{local_name}} {sni}"):
                    mark = dc.log_mark()
                    with IMAPS(fronts["authority"], sni_context(sb),
                               server_hostname=sni) as imap:
                        welcome = imap.welcome.decode()
                        imap.login("someone", PASSWORD)
                    assert welcome.endswith("] " + greeting), welcome
                    fields = dc.wait_for_login("someone", mark)
                    assert fields["local_name"] == sni, fields

            with t.check("UNIQUE_ID reaches auth as "
                         "%{passdb:forward_haproxy_unique_id}"):
                mark = dc.log_mark()
                with IMAPS(fronts["unique-id"], certs.context()) as imap:
                    expected = unique_id(imap, fronts["unique-id"])
                    imap.login("uid", expected)
                dc.wait_for_login("uid", mark)

            with t.check("UNIQUE_ID shows in the plugin's debug line and in "
                         "auth's request"):
                log = dc.log_text(mark)
                assert re.search(rf"Debug: haproxy: PROXY v2: .* "
                                 rf"haproxy_unique_id={re.escape(expected)}"
                                 r"[,)]", log), log
                assert f"\tforward_fields=haproxy_unique_id={expected}\t" \
                    in log, log

            with t.check("CRC32C over a header with SSL, AUTHORITY and "
                         "UNIQUE_ID is accepted"):
                mark = dc.log_mark()
                with IMAPS(fronts["crc32c"], sni_context(sb),
                           server_hostname="mail.example.test") as imap:
                    imap.login("uid", unique_id(imap, fronts["crc32c"]))
                fields = dc.wait_for_login("uid", mark)
                assert fields["local_name"] == "mail.example.test", fields
                assert re.search(r"Debug: haproxy: PROXY v2: .* "
                                 r"haproxy_crc32c=verified[,)]",
                                 dc.log_text(mark)), dc.log_text(mark)
