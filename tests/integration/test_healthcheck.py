#!/usr/bin/env python3
"""HAProxy health checks with check-send-proxy: v2 sends a LOCAL header,
v1 (HAProxy 2.6) a TCP4 line with the check connection's own addresses.
Either way the login process must see the connection's own addresses and
log no error, and the server must stay UP in HAProxy.

Each backend has a listener of its own, so the log tells the checks apart.
"imap-v2" and "imap-v1" are layer 4 checks (HAProxy closes after the
header); "imap-greeting" also expects IMAP's greeting after the header.

The login processes run in their default mode, one client each. From
Dovecot 2.4.2 on the master accepts that client itself before the process
is up, and a layer 4 check has reset the connection by then: the process
can no longer ask who the peer was, nor read the header, and the plugin
logs that at Info level instead.
"""

import re

from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, Dovecot, HAProxy, IMAP,
                     Listener, Sandbox, assert_login, plugin_dir,
                     unmet_requirements)
from tap import Tap

CHECK = "check check-send-proxy inter 200ms"
# The plugin's debug line for a check: LOCAL, or addresses that are the
# connection's own (rport is the client port of the header).
LOCAL = (r"PROXY v2 LOCAL: using the connection's own addresses "
         rf"\(rip={PROXY_IP}, rport=\d+")
V1 = (rf"PROXY v1: client {PROXY_IP}:(\d+), server [\d.]+:\d+ "
      rf"\(rip={PROXY_IP}, rport=\1")
# backend: (server options, backend lines, the check's debug line, the
# check status HAProxy must report)
BACKENDS = {
    "imap-v2": ("send-proxy-v2 " + CHECK, (), LOCAL, "L4OK"),
    "imap-v1": ("send-proxy " + CHECK, (), V1, "L4OK"),
    "imap-greeting": ("send-proxy-v2 " + CHECK,
                      ("option tcp-check", 'tcp-check expect string "* OK"'),
                      LOCAL, "L7OK"),
}
CHECKS = 5  # how many checks of each backend to wait for
RESET = r"Info: haproxy: Connection reset before its peer could be identified"


with Tap() as t:
    t.require(unmet_requirements(plugin=True))
    with Sandbox() as sb:
        context = sb.certs.context()
        dc = Dovecot(sb, [Listener("imap", name, haproxy=True)
                          for name in BACKENDS],
                     plugin_dir=plugin_dir(),
                     extra_config="log_debug = category=haproxy\n")
        hap = HAProxy(sb)
        fronts = {}
        for name, (options, lines, _, _) in BACKENDS.items():
            hap.backend(name, [(dc.listener(name), options)], *lines)
            fronts[name] = hap.frontend(name, name)

        with dc, hap:
            for name, (_, _, debug_line, status) in BACKENDS.items():
                reached = rf"Debug: haproxy: {debug_line}, listener={name}\)"
                if status == "L4OK" and dc.under_test.master_accepts:
                    reached = (rf"(?:{reached}|{RESET} "
                               rf"\(listener={name}\))")
                with t.check(f"{name}: {CHECKS} checks reach the plugin, "
                             "which keeps the connection's own addresses"):
                    # The checks begin when HAProxy starts: count from there.
                    dc.wait_for_log(rf"(?s)(?:{reached}.*?){{{CHECKS}}}")
                stat = hap.stats(name, "s1")
                got = {k: stat[k] for k in ("status", "check_status",
                                            "chkfail")}
                t.eq(got, {"status": "UP", "check_status": status,
                           "chkfail": "0"}, f"{name}: HAProxy has the "
                     f"server UP, last check {status}, no check failed")
                with t.check(f"{name}: a login through the checked server "
                             "shows the client's address"):
                    mark = dc.log_mark()
                    with IMAP(fronts[name]) as imap:
                        imap.starttls(context)
                        imap.login("alice", PASSWORD)
                    assert_login(dc.wait_for_login("alice", mark),
                                 rip=CLIENT_IP, real_rip=PROXY_IP,
                                 listener=name)

            # Before stopping: the master warns that it was killed.
            problems = re.findall(r"^.*: (?:Error|Warning|Panic|Fatal): .*$",
                                  dc.log_text(), re.MULTILINE)
            t.eq(problems, [], "Dovecot logged no error or warning")
