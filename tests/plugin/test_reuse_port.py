#!/usr/bin/env python3
"""service_reuse_port = yes (Dovecot 2.4.4 on): the master makes one
listening socket per login process, all bound to the same port, and the
kernel spreads the connections over them; the master no longer accepts.
The plugin must take each process's own socket over.

In both modes of a login service, one client per process (the default,
restarted after each client) and long-lived processes, logins through
HAProxy with PROXY v1 and v2 show the client's address, and the plugin's
debug line says that it read the header. With long-lived processes,
logins go on until each of the two processes has served one. Skipped
where Dovecot has no service_reuse_port.

README: "Supported Dovecot versions" (service_reuse_port).
"""

import re

from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, Dovecot, HAProxy, IMAP,
                     Listener, Sandbox, assert_login, dovecot_under_test,
                     plugin_dir, unmet_requirements)
from headers import login_pids
from tap import Tap

PROCESSES = 2
VERSIONS = {"v1": "send-proxy", "v2": "send-proxy-v2"}


REUSE_PORT = ["service_reuse_port = yes",
              # It wants them equal: a socket for each process.
              f"process_min_avail = {PROCESSES}",
              f"process_limit = {PROCESSES}"]


def reuse_port():
    return "service imap-login {\n%s}\n" % "".join(
        f"  {line}\n" for line in REUSE_PORT)


def config(dut, long_lived):
    """The settings of the mode: accepted headers logged, the login
    process's pid on the login line."""
    if long_lived:
        service = dut.long_lived("imap-login", *REUSE_PORT)
    else:
        service = reuse_port()
    return (service + "log_debug = category=haproxy\n"
            f"login_log_format = {dut.login_log_format}, "
            f"pid={dut.pid_variable}\n")


def login(dc, front, version, context):
    """A login through front; returns the login process's pid."""
    mark = dc.log_mark()
    with IMAP(front) as imap:
        imap.starttls(context)
        imap.login("alice", PASSWORD)
        port = imap.sock.getsockname()[1]
    fields = dc.wait_for_login("alice", mark, "imap-login")
    assert_login(fields, rip=CLIENT_IP, rport=port, lip=PROXY_IP,
                 lport=front.port)
    dc.wait_for_log(rf"imap-login: Debug: haproxy: PROXY {version}: client "
                    rf"{CLIENT_IP}:{port}, server {PROXY_IP}:{front.port} ",
                    since=mark)
    return fields["pid"]


def mode(t, sb, dut, long_lived):
    what = "long-lived processes" if long_lived else "one client per process"
    name = "long-lived" if long_lived else "one-client"
    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                 plugin_dir=plugin_dir(), extra_config=config(dut, long_lived),
                 name=f"dovecot-{name}")
    hap = HAProxy(sb, name=f"haproxy-{name}")
    fronts = {}
    for version, option in VERSIONS.items():
        hap.backend(version, [(dc.listener("imap-proxy"), option)])
        fronts[version] = hap.frontend(version, version)
    context = sb.certs.context()
    with dc, hap:
        for version, front in fronts.items():
            for attempt in (1, 2):
                with t.check(f"{what}: login {attempt} through HAProxy, "
                             f"PROXY {version}: the plugin read the header"):
                    login(dc, front, version, context)
        if not long_lived:
            return
        with t.check(f"{what}: each of the {PROCESSES} processes, each with "
                     "a socket of its own, serves logins through the plugin"):
            processes = {str(pid) for pid in login_pids(dc)}
            assert len(processes) == PROCESSES, processes
            served = set()
            # The kernel picks a socket by the connection's addresses:
            # give it enough connections to pick each.
            for _ in range(40):
                served.add(login(dc, fronts["v2"], "v2", context))
                if served == processes:
                    break
            assert served == processes, (served, processes)


with Tap() as t:
    t.require(unmet_requirements(plugin=True))
    dut = dovecot_under_test()
    if not dut.accepts(reuse_port()):
        t.skip_all(f"Dovecot {dut.version} has no service_reuse_port")
    with Sandbox() as sb:
        mode(t, sb, dut, long_lived=False)
        mode(t, sb, dut, long_lived=True)
