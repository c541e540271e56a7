#!/usr/bin/env python3
"""Validates the integration harness against Dovecot's built-in PROXY parser.

Clients connect from CLIENT_IP through HAProxy (PROXY_IP) to Dovecot
(DOVECOT_IP). A login proves what Dovecot saw: the user "near" may only
log in from the client's address and "far" only from the proxy's, so auth
must have seen the client's address; the login line shows both.
"""

import imaplib
import os

from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, Dovecot, HAProxy, IMAP,
                     Listener, POP3S, SMTP, Sandbox, connect, recv_all,
                     sandbox_processes, unmet_requirements)
from tap import Tap

USERS = {
    "near": {"allow_nets": CLIENT_IP + "/32"},
    "far": {"allow_nets": PROXY_IP + "/32"},
}


def login_line(dovecot, service, user, since):
    return dovecot.wait_for_log(
        rf"{service}: Info: Login: user=<{user}>.*", since=since).group(0)


def assert_in(needle, haystack):
    assert needle in haystack, f"{needle!r} not in {haystack!r}"


def imap_login(endpoint, context, user):
    with IMAP(endpoint) as imap:
        imap.starttls(context)
        imap.login(user, PASSWORD)


with Tap() as t:
    reason = unmet_requirements()
    if reason:
        t.skip_all(reason)
    with Sandbox() as sb:
        path = sb.path
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                          Listener("imap", "imap"),
                          Listener("pop3", "pop3-proxy", haproxy=True),
                          Listener("submission", "sub-proxy", haproxy=True)],
                     users=USERS)
        hap = HAProxy(sb)
        hap.backend("imap-v1", [(dc.listener("imap-proxy"), "send-proxy")])
        hap.backend("imap-v2", [(dc.listener("imap-proxy"), "send-proxy-v2")])
        # TLS ends at HAProxy; the SSL TLV tells Dovecot the client is secured.
        hap.backend("pop3", [(dc.listener("pop3-proxy"), "send-proxy-v2-ssl")])
        hap.backend("submission",
                    [(dc.listener("sub-proxy"), "send-proxy-v2")])
        fronts = {"v1": hap.frontend("imap-v1", "imap-v1"),
                  "v2": hap.frontend("imap-v2", "imap-v2")}
        pop3s = hap.frontend("pop3s", "pop3", tls=True)
        submission = hap.frontend("submission", "submission")
        context = sb.certs.context()

        with dc, hap:
            t.diag(f"Dovecot started in {dc.start_seconds:.3f} s, "
                   f"HAProxy in {hap.start_seconds:.3f} s")

            for version, front in fronts.items():
                with t.check(f"IMAP login through HAProxy, PROXY {version}"):
                    mark, hap_mark = dc.log_mark(), hap.log_mark()
                    imap_login(front, context, "near")
                    line = login_line(dc, "imap-login", "near", mark)
                    assert_in(f" rip={CLIENT_IP},", line)
                    assert_in(f" lip={PROXY_IP}, lport={front.port},", line)
                    assert_in(f" real_rip={PROXY_IP},", line)
                    assert_in("listener=imap-proxy,", line)
                    hap.wait_for_log(rf"^{CLIENT_IP}:\d+ .* imap-{version} "
                                     rf"imap-{version}/s1 ", since=hap_mark)

            with t.check("auth sees the client's address, not the proxy's"):
                mark = dc.log_mark()
                try:
                    imap_login(fronts["v2"], context, "far")
                except imaplib.IMAP4.error:
                    pass
                else:
                    raise AssertionError("far logged in through the proxy")
                dc.wait_for_log(rf"passwd-file\(far,{CLIENT_IP},.*\): "
                                r"allow_nets check failed", since=mark)

            with t.check("plaintext login through HAProxy is refused"):
                with IMAP(fronts["v1"]) as imap:
                    try:
                        imap.login("near", PASSWORD)
                    except imaplib.IMAP4.error as e:
                        assert_in("PRIVACYREQUIRED", str(e))
                    else:
                        raise AssertionError("plaintext login succeeded")

            with t.check("direct IMAP login on the plain listener"):
                mark = dc.log_mark()
                imap_login(dc.listener("imap"), context, "near")
                line = login_line(dc, "imap-login", "near", mark)
                assert_in(f" rip={CLIENT_IP},", line)
                assert_in(f" real_rip={CLIENT_IP},", line)

            with t.check("hand-written PROXY v1 header from PROXY_IP"):
                mark = dc.log_mark()
                imap = dc.listener("imap-proxy")
                with connect(imap, source=PROXY_IP) as sock:
                    sock.sendall(b"PROXY TCP4 127.0.0.9 127.0.0.1 4242 143\r\n"
                                 b"a LOGOUT\r\n")
                    reply = recv_all(sock)
                assert reply.startswith(b"* OK "), reply
                assert_in(b"\r\na OK ", reply)
                line = dc.wait_for_log(r"imap-login: Info: Disconnected.*",
                                       since=mark).group(0)
                assert_in(" rip=127.0.0.9, rport=4242,", line)

            with t.check("POP3 login through HAProxy TLS, send-proxy-v2-ssl"):
                mark = dc.log_mark()
                pop3 = POP3S(pop3s, context)
                try:
                    pop3.user("near")
                    pop3.pass_(PASSWORD)
                finally:
                    pop3.quit()
                line = login_line(dc, "pop3-login", "near", mark)
                assert_in(f" rip={CLIENT_IP},", line)
                assert_in(f" real_rip={PROXY_IP},", line)

            with t.check("submission login and relay through HAProxy"):
                mark = dc.log_mark()
                with SMTP(submission) as smtp:
                    smtp.starttls(context=context)
                    smtp.login("near", PASSWORD)
                    smtp.sendmail("near@example.com", ["bob@example.com"],
                                  "Subject: test\r\n\r\nhello\r\n")
                line = login_line(dc, "submission-login", "near", mark)
                assert_in(f" rip={CLIENT_IP},", line)
                assert_in(f" real_rip={PROXY_IP},", line)
                message = dc.smtp_sink.messages[-1]
                received = message.split(b"\r\n")[0]
                assert_in(f"([{CLIENT_IP}])".encode(), received)

    t.eq(sandbox_processes(path), [], "no process refers to the sandbox")
    t.ok(not os.path.exists(path), "the sandbox directory is removed")
