#!/usr/bin/env python3
"""Logins through a real HAProxy to the plugin, PROXY v1 and v2, and
through a real nginx (its stream module, PROXY v1), for every login
service; and a plain listener next to the haproxy ones, untouched.

Clients connect from CLIENT_IP through HAProxy or nginx (PROXY_IP) to
Dovecot (DOVECOT_IP). The user "near" may only log in from the client's
address and "far" only from the proxy's, so a login proves which address
auth saw.

The login services run in their default mode, one client per login
process, which login lines ending in the process's pid show. From Dovecot
2.4.2 on the master accepts that one connection itself, before the process
and the plugin are up, and the plugin must take it over.

README: "Configure" (a haproxy = yes listener takes the header, a
listener without it is untouched; HAProxy's send-proxy and
send-proxy-v2), "What Dovecot 2.4 does differently" (the master accepts,
from 2.4.2) and the address auth sees (allow_nets).
"""

import imaplib
import poplib
import re
import smtplib

from sandbox import (CLIENT_IP, NGINX, PASSWORD, PROXY_IP, Dovecot, HAProxy,
                     IMAP, Listener, ManageSieve, POP3, POP3S, SMTP, Sandbox,
                     assert_login, connect, dovecot_under_test, plugin_dir,
                     recv_all, unmet_requirements)
from tap import Tap

USERS = {
    "near": {"allow_nets": CLIENT_IP + "/32"},
    "far": {"allow_nets": PROXY_IP + "/32"},
}
VERSIONS = {"v1": "send-proxy", "v2": "send-proxy-v2"}
# Each peer's proxy and the header version it sends.
PEERS = {"v1": ("HAProxy", "v1"), "v2": ("HAProxy", "v2"),
         "nginx": ("nginx", "v1")}


# One login per protocol: STARTTLS (the proxies send no SSL TLV here, so
# Dovecot 2.3 does not count the connection as secured), then a plaintext
# login. Each returns whether the login was accepted and the client's own
# port.

def login_imap(front, context, user):
    with IMAP(front) as imap:
        imap.starttls(context)
        try:
            imap.login(user, PASSWORD)
        except imaplib.IMAP4.error:
            return False, imap.sock.getsockname()[1]
        return True, imap.sock.getsockname()[1]


def login_pop3(front, context, user):
    pop3 = POP3(front)
    port = pop3.sock.getsockname()[1]
    try:
        pop3.stls(context)
        pop3.user(user)
        pop3.pass_(PASSWORD)
    except poplib.error_proto:
        return False, port
    finally:
        pop3.quit()
    return True, port


def login_submission(front, context, user):
    with SMTP(front) as smtp:
        smtp.starttls(context=context)
        try:
            smtp.login(user, PASSWORD)
        except smtplib.SMTPAuthenticationError:
            return False, smtp.sock.getsockname()[1]
        # The relayed message shows what the submission process was told.
        smtp.sendmail(f"{user}@example.com", ["bob@example.com"],
                      "Subject: test\r\n\r\nhello\r\n")
        return True, smtp.sock.getsockname()[1]


def login_sieve(front, context, user):
    with ManageSieve(front) as sieve:
        sieve.starttls(context)
        try:
            sieve.login(user, PASSWORD)
        except ManageSieve.error:
            return False, sieve.sock.getsockname()[1]
        return True, sieve.sock.getsockname()[1]


LOGINS = {"imap": login_imap, "pop3": login_pop3,
          "submission": login_submission, "sieve": login_sieve}


def imap_transcript(endpoint):
    """A scripted session on a raw socket: the greeting, then each
    command's response up to its tagged line."""
    with connect(endpoint) as sock:
        lines = sock.makefile("rb")
        transcript = lines.readline()
        for tag, command in ((b"a", b"CAPABILITY"),
                             (b"b", b"LOGIN near wrong"), (b"c", b"LOGOUT")):
            sock.sendall(tag + b" " + command + b"\r\n")
            while True:
                line = lines.readline()
                transcript += line
                if not line or line.startswith(tag + b" "):
                    break
        return transcript + recv_all(sock)


def config(dut):
    """Accepted headers logged (at debug level), login lines that end with
    the login process's pid."""
    return ("log_debug = category=haproxy\n"
            f"login_log_format = {dut.login_log_format}, "
            f"pid={dut.pid_variable}\n")


def session_log(dovecot, endpoint):
    """The transcript of a session on endpoint and the imap-login lines it
    logged, with ports, session IDs and pids blanked."""
    mark = dovecot.log_mark()
    transcript = imap_transcript(endpoint)
    dovecot.wait_for_log(
        rf"imap-login: Info: {dovecot.under_test.login_aborted}", since=mark)
    lines = re.findall(r" (imap-login: .*)", dovecot.log_text(mark))
    return transcript, [re.sub(r"\b(\w*port|session|pid)=[^,]*", r"\1=*",
                               line) for line in lines]


with Tap() as t:
    t.require(unmet_requirements(plugin=True, nginx=True))
    dut = dovecot_under_test()
    with Sandbox() as sb:
        context = sb.certs.context()
        listeners = [Listener(p, p + "-proxy", haproxy=True)
                     for p in dut.login_services]
        dc = Dovecot(sb, listeners + [Listener("imap", "imap")], USERS,
                     plugin_dir(), extra_config=config(dut))
        # The same listeners without the plugin: the reference for the
        # plain listener.
        builtin = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                               Listener("imap", "imap")], USERS,
                          extra_config=config(dut), name="builtin")
        hap = HAProxy(sb)
        ngx = NGINX(sb)
        fronts = {}
        for protocol in dut.login_services:
            for version, option in VERSIONS.items():
                name = f"{protocol}-{version}"
                hap.backend(name, [(dc.listener(protocol + "-proxy"), option)])
                fronts[protocol, version] = hap.frontend(name, name)
            fronts[protocol, "nginx"] = ngx.proxy(
                dc.listener(protocol + "-proxy"))
        # TLS ends at HAProxy; the SSL TLV tells Dovecot the client used it.
        hap.backend("pop3-ssl", [(dc.listener("pop3-proxy"),
                                  "send-proxy-v2-ssl")])
        pop3s = hap.frontend("pop3s", "pop3-ssl", tls=True)

        with dc, builtin, hap, ngx:
            if "sieve" not in dut.login_services:
                t.skip("ManageSieve logins", "managesieve-login not installed")
            login_pids = []
            for (protocol, peer), front in fronts.items():
                service = dut.login_services[protocol][0]
                proxy, version = PEERS[peer]
                name = f"{protocol} {peer}"
                mark = dc.log_mark()
                fields = {}
                with t.check(f"{name}: near logs in through {proxy}; the "
                             f"login line shows the client and {proxy}'s "
                             "frontend"):
                    accepted, port = LOGINS[protocol](front, context, "near")
                    assert accepted, "login refused"
                    fields = dc.wait_for_login("near", mark, service)
                    assert_login(fields, rip=CLIENT_IP, rport=port,
                                 lip=PROXY_IP, lport=front.port,
                                 real_rip=PROXY_IP)
                    login_pids.append(fields["pid"])
                # The plugin names the peer it read the header from: the
                # proxy, from the login line's real_rport.
                with t.check(f"{name}: the plugin read the header from the "
                             "login's real peer, the proxy"):
                    dc.wait_for_log(
                        rf"{service}: Debug: haproxy: PROXY {version}: client "
                        rf"{CLIENT_IP}:{port}, server {PROXY_IP}:{front.port} "
                        rf"\(rip={PROXY_IP}, "
                        rf"rport={fields.get('real_rport')},", since=mark)
                with t.check(f"{name}: far, allowed only from the proxy, is "
                             "refused: auth saw the client's address"):
                    mark = dc.log_mark()
                    accepted, _ = LOGINS[protocol](front, context, "far")
                    assert not accepted, "far logged in through the proxy"
                    dc.wait_for_log(dut.auth_info(
                        "passwd-file", "far", CLIENT_IP,
                        "allow_nets check failed"), since=mark)
                if protocol == "submission":
                    received = (dc.smtp_sink.messages or [b""])[-1]
                    received = received.split(b"\r\n")[0]
                    t.ok(f"([{CLIENT_IP}])".encode() in received,
                         f"{name}: the relayed message's Received: header "
                         "names the client", received)

            t.eq(len(set(login_pids)), len(fronts), f"{len(fronts)} logins, "
                 "each in a login process of its own (default mode)")

            # Without the SSL TLV nothing says that the client used TLS.
            # Dovecot 2.3 then does not count the connection as secured and
            # refuses plaintext login; 2.4 trusts the proxy and counts it as
            # secured, but not as TLS (unless ssl = required).
            if not dut.secured_no_ssl_tlv:
                with t.check("without the SSL TLV, plaintext login is "
                             "refused"):
                    mark = dc.log_mark()
                    with IMAP(fronts["imap", "v2"]) as imap:
                        try:
                            imap.login("near", PASSWORD)
                        except imaplib.IMAP4.error as e:
                            assert "PRIVACYREQUIRED" in str(e), e
                        else:
                            raise AssertionError("plaintext login succeeded")
                    dc.wait_for_log(r"imap-login: Info: Login failed: "
                                    r"Plaintext authentication disabled: "
                                    rf".*\brip={CLIENT_IP},", since=mark)
            else:
                with t.check("without the SSL TLV, plaintext login is "
                             f"allowed: {dut.secured_no_ssl_tlv}, not TLS"):
                    mark = dc.log_mark()
                    with IMAP(fronts["imap", "v2"]) as imap:
                        imap.login("near", PASSWORD)
                        port = imap.sock.getsockname()[1]
                    assert_login(dc.wait_for_login("near", mark, "imap-login"),
                                 rip=CLIENT_IP, rport=port,
                                 secured=dut.secured_no_ssl_tlv)

            with t.check("with the SSL TLV (send-proxy-v2-ssl), POP3 USER/"
                         "PASS is allowed and the login is secured"):
                mark = dc.log_mark()
                pop3 = POP3S(pop3s, context)
                try:
                    pop3.user("near")
                    pop3.pass_(PASSWORD)
                    port = pop3.sock.getsockname()[1]
                finally:
                    pop3.quit()
                assert_login(dc.wait_for_login("near", mark, "pop3-login"),
                             rip=CLIENT_IP, rport=port, real_rip=PROXY_IP,
                             secured=dut.secured_ssl_tlv)

            with t.check("hand-written PROXY v1 header from PROXY_IP"):
                mark = dc.log_mark()
                with connect(dc.listener("imap-proxy"), PROXY_IP) as sock:
                    sock.sendall(b"PROXY TCP4 127.0.0.9 127.0.0.1 4242 143\r\n"
                                 b"a LOGOUT\r\n")
                    reply = recv_all(sock)
                assert reply.startswith(b"* OK ") and b"\r\na OK " in reply, \
                    reply
                dc.wait_for_log(rf"imap-login: Info: {dut.login_aborted}.* "
                                r"rip=127\.0\.0\.9, rport=4242, "
                                r"lip=127\.0\.0\.1, lport=143,", since=mark)

            with t.check("direct login on the plain listener next to them"):
                mark = dc.log_mark()
                accepted, port = login_imap(dc.listener("imap"), context,
                                            "near")
                assert accepted, "login refused"
                assert_login(dc.wait_for_login("near", mark, "imap-login"),
                             rip=CLIENT_IP, rport=port, real_rip=CLIENT_IP,
                             listener="imap")

            plugin = session_log(dc, dc.listener("imap"))
            reference = session_log(builtin, builtin.listener("imap"))
            t.eq(plugin[0], reference[0], "plain listener: the session's "
                 "bytes are the same with the plugin and without it")
            t.eq(plugin[1], reference[1], "plain listener: so are its log "
                 "lines (ports and session IDs blanked)")
