#!/usr/bin/env python3
"""Configuration: haproxy_trusted_networks as the plugin reads it, and the
shipped example conf.d/30-haproxy.conf.

- An invalid entry stops the login process at start with one fatal
  configuration error naming the entry; the master keeps running. A login
  service with no haproxy = yes listener never reads the list, as
  Dovecot's own parser does not: it keeps serving.
- An empty list trusts nobody, and the warning says why.
- haproxy_timeout must fit the timers in milliseconds: a longer one stops
  the login process at start, as an invalid network does.
- The example for the Dovecot under test, conf.d/2.3 or conf.d/2.4,
  passes its doveconf, and included into a sandbox configuration (only the
  trusted networks and the ports changed) it serves headers on its four
  listeners and counts them with its metric.

README: "Configure" (the list parsed once, an invalid entry stops the
login process; services without a haproxy = yes listener never read it;
the shipped conf.d example).
"""

import os
import re

from headers import run_client
from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, POP3, Dovecot, Listener,
                     Sandbox, assert_login, connect, dovecot_under_test,
                     plugin_dir, recv_all, unmet_requirements)
from tap import Tap

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        os.pardir, os.pardir, "conf.d")
# The master starts a login process at once instead of on a connection.
LOGIN_AT_START = """
service imap-login {
  process_min_avail = 1
}
"""


def alive(pid):
    """Whether process pid runs (an exited child stays as a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def invalid_line(entry):
    """The login process's fatal error for an invalid entry."""
    return ("imap-login: Fatal: haproxy_trusted_networks: "
            f"Invalid network '{entry}'")


def invalid_entry(t, sb, name, networks, entry):
    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                 plugin_dir=plugin_dir(), haproxy_trusted_networks=networks,
                 extra_config=LOGIN_AT_START, name=name)
    expected = invalid_line(entry)
    dc.provokes(re.escape(expected))
    with dc:
        with t.check(f"haproxy_trusted_networks = {networks}: the login "
                     f"process stops with one fatal error naming '{entry}'"):
            # Two processes log: the login process its error, the master
            # that the process failed. Either line may come first.
            dc.wait_for_log(re.escape(expected) + "$")
            dc.wait_for_log(r"master: Error: service\(imap-login\): command "
                            r"startup failed")
            # Each attempt fails alike (the master tries again after a
            # while), and a Fatal line ends its process: every crash line
            # must be this one.
            assert dc.crashes() == [], dc.crashes()
        t.ok(alive(dc.pid), f"with {entry} Dovecot itself keeps running")


def other_service(t, sb):
    """The same invalid list, and a POP3 service whose only listener is a
    plain one next to the IMAP one with haproxy = yes."""
    networks = f"{PROXY_IP}/32, 10.0.0.0/33"
    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                      Listener("pop3", "pop3")],
                 plugin_dir=plugin_dir(), haproxy_trusted_networks=networks,
                 extra_config=LOGIN_AT_START, name="dovecot-pop3")
    dc.provokes(re.escape(invalid_line("10.0.0.0/33")))
    with dc:
        with t.check(f"haproxy_trusted_networks = {networks}: pop3-login, "
                     "with no haproxy listener, still serves its plain "
                     "listener: a login works"):
            mark = dc.log_mark()
            pop3 = POP3(dc.listener("pop3"))
            try:
                port = pop3.sock.getsockname()[1]
                pop3.stls(sb.certs.context())
                pop3.user("alice")
                pop3.pass_(PASSWORD)
            finally:
                pop3.quit()
            assert_login(dc.wait_for_login("alice", mark, "pop3-login"),
                         rip=CLIENT_IP, rport=port, listener="pop3")
        with t.check("while imap-login, with a haproxy listener, stops with "
                     "the fatal error naming the entry"):
            dc.wait_for_log(re.escape(invalid_line("10.0.0.0/33")) + "$")
        t.eq(dc.crashes(), [], "no other process logged a fatal error or "
             "crashed")


def timeout_bound(t, sb):
    """haproxy_timeout whose milliseconds do not fit the timers: 4294968 s
    would wrap around to 704 ms. The largest that fits still serves."""
    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                 plugin_dir=plugin_dir(), haproxy_timeout="4294968s",
                 extra_config=LOGIN_AT_START, name="dovecot-timeout")
    expected = ("imap-login: Fatal: haproxy_timeout (4294968 s) "
                "must be at most 2147483 s")
    with dc.provokes(re.escape(expected)):
        with t.check("haproxy_timeout = 4294968s: the login process stops "
                     "with one fatal error that gives the bound"):
            dc.wait_for_log(re.escape(expected) + "$")
            fatal = re.findall(r"\S+: Fatal: .*", dc.log_text())
            assert set(fatal) == {expected}, fatal
    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                 plugin_dir=plugin_dir(), haproxy_timeout="2147483s",
                 name="dovecot-timeout-max")
    with dc:
        with t.check("haproxy_timeout = 2147483s: a header is read"):
            reply = run_client(dc.listener("imap-proxy"), "-2",
                               data=b"a LOGOUT\r\n").stdout
            assert b"\r\na OK " in reply, reply


def empty_list(t, sb):
    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                 plugin_dir=plugin_dir(), haproxy_trusted_networks="",
                 name="dovecot-empty")
    listener = dc.listener("imap-proxy")
    with dc:
        for source in (PROXY_IP, CLIENT_IP):
            with t.check(f"empty haproxy_trusted_networks: {source} is "
                         "turned away with a warning that says so"):
                # Silent, so that no byte of it can be there at the
                # accept: the warning would say what it sent.
                mark = dc.log_mark()
                with connect(listener, source) as sock:
                    assert recv_all(sock) == b""
                dc.wait_for_log(r"imap-login: Warning: haproxy: Peer not "
                                r"trusted: haproxy_trusted_networks is empty "
                                rf"\(rip={source}, ", since=mark)


def example(t, sb):
    dut = dovecot_under_test()
    example = os.path.abspath(os.path.join(EXAMPLES, dut.syntax,
                                           "30-haproxy.conf"))
    # The example's listeners, on free ports of DOVECOT_IP; login_plugins
    # is left to the example.
    listeners = [Listener("imap", "imap_haproxy", haproxy=True),
                 Listener("imap", "imaps_haproxy", haproxy=True, ssl=True),
                 Listener("pop3", "pop3_haproxy", haproxy=True),
                 Listener("submission", "submission_haproxy", haproxy=True)]
    dc = Dovecot(sb, listeners, name="dovecot-example")

    with t.check(f"Dovecot {dut.version}'s doveconf accepts the example "
                 f"conf.d/{dut.syntax}/30-haproxy.conf"):
        alone = os.path.join(dc.dir, "example-alone.conf")
        with open(alone, "w") as f:
            f.write(dut.preamble() + f"!include {example}\n")
        run = dc.tool("doveconf", "-c", alone, "-n")
        assert run.returncode == 0 and run.stderr == "", run.stderr
        assert re.search(r"^haproxy_trusted_networks = ", run.stdout,
                         re.M), run.stdout

    ports = "".join(
        f"service {l.protocol}-login {{\n  inet_listener {l.name} {{\n"
        f"    port = {l.port}\n  }}\n}}\n" for l in listeners)
    dc.extra_config = (f"login_plugin_dir = {plugin_dir()}\n"
                       f"!include {example}\n"
                       f"haproxy_trusted_networks = {PROXY_IP}/32\n" + ports)

    with t.check("Dovecot starts with the example included"):
        dc.start()
    with t.check("each of the example's listeners takes a header and "
                 "answers"):
        imap = (b"a LOGOUT\r\n", b"\r\na OK ")
        sessions = [(listeners[0], [], imap),
                    (listeners[1], ["--tls", "--ca", sb.certs.ca], imap),
                    (listeners[2], [], (b"QUIT\r\n", b"\r\n+OK ")),
                    (listeners[3], [], (b"QUIT\r\n", b"\r\n221 "))]
        for listener, options, (command, answer) in sessions:
            run = run_client(listener, *options, data=command)
            assert run.returncode == 0 and answer in run.stdout, \
                (listener.name, run.stdout)
    with t.check("the example's metric counts them"):
        counts = dc.counted("haproxy_headers", 4)
        assert (counts.get("haproxy_headers"),
                counts.get("haproxy_headers_accepted")) == (4, 4), counts


def main(t):
    with Sandbox() as sb:
        invalid_entry(t, sb, "dovecot-cidr", f"{PROXY_IP}/32, 10.0.0.0/33",
                      "10.0.0.0/33")
        invalid_entry(t, sb, "dovecot-word", "nonsense", "nonsense")
        other_service(t, sb)
        timeout_bound(t, sb)
        empty_list(t, sb)
        example(t, sb)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
