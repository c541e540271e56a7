#!/usr/bin/env python3
"""The Dovecot wiki's HAProxy example (wiki2.dovecot.org/HAProxy), used
unchanged with the plugin: imap on 143, imaps on 993, imap_haproxy on
10143, imaps_haproxy on 10993. Only "listen" is added, so that the
well-known ports are bound on a loopback address of their own. The test
runs in a network namespace of its own (sandbox.own_network()), where
those ports are free whatever else runs on the machine.

One departure: the wiki's "haproxy_timeout = 3" stops Dovecot 2.3.19.1
at start ("Time interval '3' is missing units"), so it is "3s" here.

README: "Configure" (the settings are Dovecot's own: the wiki's example
works unchanged; a peer outside haproxy_trusted_networks is turned away).
"""

from sandbox import (CLIENT_IP, PASSWORD, PROXY_IP, Dovecot, Endpoint,
                     HAProxy, IMAP, IMAPS, Sandbox, assert_login, connect,
                     own_network, plugin_dir, recv_all, unmet_requirements)
from tap import Tap

ADDRESS = "127.0.0.9"
WIKI_SERVICE = """\
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
  inet_listener imap_haproxy {
    port = 10143
    haproxy = yes
  }
  inet_listener imaps_haproxy {
    port = 10993
    ssl = yes
    haproxy = yes
  }
}
"""
PORTS = {"imap": 143, "imaps": 993, "imap_haproxy": 10143,
         "imaps_haproxy": 10993}


with Tap() as t:
    t.require(unmet_requirements(plugin=True))
    own_network()
    with Sandbox() as sb:
        listeners = {name: Endpoint(ADDRESS, port)
                     for name, port in PORTS.items()}
        dc = Dovecot(sb, [], plugin_dir=plugin_dir(),
                     haproxy_trusted_networks=PROXY_IP + "/32",
                     haproxy_timeout="3s",
                     extra_config=f"listen = {ADDRESS}\n" + WIKI_SERVICE,
                     endpoints=listeners.values())
        hap = HAProxy(sb)
        hap.backend("imap", [(listeners["imap_haproxy"], "send-proxy-v2")])
        hap.backend("imaps", [(listeners["imaps_haproxy"], "send-proxy-v2")])
        fronts = {"imap_haproxy": hap.frontend("imap", "imap"),
                  "imaps_haproxy": hap.frontend("imaps", "imaps")}
        # The server certificate does not name ADDRESS: verify the chain only.
        context = sb.certs.context()
        context.check_hostname = False

        def login(endpoint, tls):
            """Logs in as alice with IMAPS or IMAP + STARTTLS; returns the
            login line's fields and the client's port."""
            mark = dc.log_mark()
            with (IMAPS(endpoint, context) if tls else IMAP(endpoint)) as imap:
                if not tls:
                    imap.starttls(context)
                imap.login("alice", PASSWORD)
                port = imap.sock.getsockname()[1]
            return dc.wait_for_login("alice", mark), port

        with dc, hap:
            for name, tls in (("imap_haproxy", False), ("imaps_haproxy", True),
                              ("imap", False), ("imaps", True)):
                proxied = name in fronts
                path = "through HAProxy" if proxied else "directly"
                with t.check(f"{name} (port {PORTS[name]}): login {path}"):
                    fields, port = login(fronts.get(name, listeners[name]),
                                         tls)
                    assert_login(fields, listener=name, rip=CLIENT_IP,
                                 rport=port,
                                 real_rip=PROXY_IP if proxied else CLIENT_IP)

            # The plugin's own warning shows that it owns the listener.
            for name in fronts:
                with t.check(f"{name}: the plugin turns away a client "
                             "outside haproxy_trusted_networks"):
                    mark = dc.log_mark()
                    with connect(listeners[name]) as sock:
                        reply = recv_all(sock)
                    assert reply == b"", reply
                    dc.wait_for_log(r"imap-login: Warning: haproxy: Peer not "
                                    r"in haproxy_trusted_networks "
                                    rf"\(rip={CLIENT_IP}, rport=\d+, "
                                    rf"listener={name}\)", since=mark)
