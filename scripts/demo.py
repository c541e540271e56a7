#!/usr/bin/env python3
"""The main job: a sandboxed Dovecot with the plugin behind a real HAProxy on
loopback, real logins through PROXY v1 and v2, and the log lines that prove
the client's address reached auth. Needs root and the built plugin
(HAPROXY_PLUGIN_DIR); scripts/demo.sh provides both, for the system's
Dovecot. It runs the dovecot first on PATH, 2.3 or 2.4, for which the
plugin must be built."""

import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "sandbox"))
from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, POP3S, IMAP, Dovecot,  # noqa: E402
                     HAProxy, Listener, Sandbox, connect, plugin_dir, recv_all)

USERS = {
    # auth accepts alice only from the client's address ...
    "alice": {"allow_nets": CLIENT_IP + "/32"},
    # ... and proxyonly only from the proxy's: it must be refused.
    "proxyonly": {"allow_nets": PROXY_IP + "/32"},
}


def show(dovecot, since, pattern):
    """Print the log lines after since that match pattern."""
    for line in dovecot.log_text(since).splitlines():
        if re.search(pattern, line):
            print("     " + line)


def step(title):
    print(f"\n{title}")


def main():
    plugins = plugin_dir()
    if plugins is None:
        sys.exit("demo: HAPROXY_PLUGIN_DIR does not hold the built plugin")
    keep = tempfile.mkdtemp(prefix="dovecot-haproxy-demo-")
    proved = []

    with Sandbox() as sb:
        dc = Dovecot(sb, [Listener("imap", "imap_haproxy", haproxy=True),
                          Listener("pop3", "pop3_haproxy", haproxy=True)],
                     users=USERS, plugin_dir=plugins,
                     extra_config="log_debug = category=haproxy\n")
        hap = HAProxy(sb)
        hap.backend("imap_v1", [(dc.listener("imap_haproxy"), "send-proxy")])
        hap.backend("imap_v2", [(dc.listener("imap_haproxy"), "send-proxy-v2")])
        hap.backend("pop3_tls", [(dc.listener("pop3_haproxy"),
                                  "send-proxy-v2-ssl-cn")])
        v1 = hap.frontend("imap_v1", "imap_v1")
        v2 = hap.frontend("imap_v2", "imap_v2")
        pop3s = hap.frontend("pop3s", "pop3_tls", tls=True)
        imap = dc.listener("imap_haproxy")
        dut = dc.under_test
        logins = rf"haproxy: PROXY|{dut.logged_in}: user=<alice>"

        with dc, hap:
            print(f"dovecot-haproxy demo, Dovecot {dut.version}")
            print(f"  client {CLIENT_IP} -> HAProxy {PROXY_IP} -> Dovecot "
                  f"{imap.address}:{imap.port} (haproxy = yes, plugin loaded)")
            print(f"  passdb: alice only from {CLIENT_IP}, "
                  f"proxyonly only from {PROXY_IP}")

            for version, front in (("v1 (send-proxy)", v1),
                                   ("v2 (send-proxy-v2)", v2)):
                step(f"IMAP login as alice through HAProxy, PROXY {version}")
                mark = dc.log_mark()
                with IMAP(front) as client:
                    client.starttls(sb.certs.context())
                    client.login("alice", PASSWORD)
                fields = dc.wait_for_login("alice", mark)
                show(dc, mark, logins)
                proved.append(fields["rip"] == CLIENT_IP and (
                    fields["real_rip"] == PROXY_IP if dut.logs_real_rip
                    else fields["real_rip"] == fields["real_lip"]))
                if not dut.logs_real_rip:
                    print(f"     (Dovecot {dut.version} logs its own address "
                          "as real_rip; the proxy's is in the haproxy: line)")

            step("POP3 over TLS ended at HAProxy, send-proxy-v2-ssl-cn: "
                 "plaintext login allowed, the SSL TLV says the client used TLS")
            mark = dc.log_mark()
            client = POP3S(pop3s, sb.certs.context())
            client.user("alice")
            client.pass_(PASSWORD)
            client.quit()
            fields = dc.wait_for_login("alice", mark, "pop3-login")
            show(dc, mark, logins)
            proved.append(fields["rip"] == CLIENT_IP)

            step("Control: proxyonly may log in only from the proxy's "
                 "address, so auth must refuse it")
            mark = dc.log_mark()
            with IMAP(v2) as client:
                client.starttls(sb.certs.context())
                try:
                    client.login("proxyonly", PASSWORD)
                    proved.append(False)
                except IMAP.error:
                    proved.append(True)
            dc.wait_for_log(r"allow_nets check failed", since=mark)
            show(dc, mark, r"allow_nets")

            step(f"An untrusted peer ({CLIENT_IP}) straight to the haproxy "
                 "listener: closed at once, one warning")
            mark = dc.log_mark()
            with connect(imap) as sock:
                proved.append(recv_all(sock) == b"")
            dc.wait_for_log(r"haproxy: Peer not", since=mark)
            show(dc, mark, r"haproxy:")

        for server, files in ((dc, ("dovecot.conf", "dovecot.log")),
                              (hap, ("haproxy.cfg", "haproxy.log"))):
            for name in files:
                shutil.copy(os.path.join(server.dir, name), keep)

    print(f"\nConfiguration and logs: {keep}/")
    for name in sorted(os.listdir(keep)):
        print(f"  {keep}/{name}")
    if all(proved):
        print("\nThe client's address reached every login and auth lookup.")
        return 0
    print("\nFAILED: see the lines above.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
