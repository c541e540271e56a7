#!/usr/bin/env python3
"""The seed layout: one HAProxy frontend, two Dovecot backends with the
plugin, balance leastconn and a stick table on the source address.

Clients log in from several source addresses, each as a user that may
only log in from that address, several rounds each. Every login must land
on exactly one backend with the client's address, both backends must get
some, and a source must always land on the same one.

README: "Configure", with two backends behind one HAProxy: every login
keeps the client's address.
"""

import re

from sandbox import (PASSWORD, Dovecot, HAProxy, IMAP, Listener, Sandbox,
                     plugin_dir, unmet_requirements, wait_until)
from tap import Tap

BACKENDS = {"dovecot1": "127.0.0.3", "dovecot2": "127.0.0.4"}
SOURCES = [f"127.0.0.{n}" for n in range(7, 13)]
ROUNDS = 3
USERS = {"u" + source.rsplit(".", 1)[1]: {"allow_nets": source + "/32"}
         for source in SOURCES}


def login_line(dovecot, user, source, port, since):
    return re.search(rf" {dovecot.under_test.logged_in}: user=<{user}>, .* "
                     rf"rip={re.escape(source)}, rport={port}, ",
                     dovecot.log_text(since))


with Tap() as t:
    t.require(unmet_requirements(plugin=True))
    with Sandbox() as sb:
        context = sb.certs.context()
        backends = {name: Dovecot(sb, [Listener("imap", "imap-proxy", address,
                                                haproxy=True)],
                                  USERS, plugin_dir(), name=name)
                    for name, address in BACKENDS.items()}
        hap = HAProxy(sb)
        hap.backend("imap", [(dc.listener("imap-proxy"), "send-proxy-v2")
                             for dc in backends.values()],
                    "balance leastconn",
                    "stick-table type ip size 1k expire 1m",
                    "stick on src")
        front = hap.frontend("imap", "imap")

        with backends["dovecot1"], backends["dovecot2"], hap:
            # source: for each of its logins, the backends that logged it
            landed = {source: [] for source in SOURCES}
            for n in range(ROUNDS):
                # A new order each round: round-robin among equally loaded
                # servers would land a repeated order where it did before.
                for source in SOURCES[n:] + SOURCES[:n]:
                    user = "u" + source.rsplit(".", 1)[1]
                    marks = {name: dc.log_mark()
                             for name, dc in backends.items()}
                    with IMAP(front, source=source) as imap:
                        imap.starttls(context)
                        imap.login(user, PASSWORD)
                        port = imap.sock.getsockname()[1]
                    # The login line may come a moment after the reply.
                    landed[source].append(wait_until(lambda: [
                        name for name, dc in backends.items()
                        if login_line(dc, user, source, port, marks[name])]))

            for source, found in landed.items():
                t.ok(any(found == [[name]] * ROUNDS for name in backends),
                     f"{source}: its {ROUNDS} logins all reached the same "
                     "one backend, with the client's address",
                     f"backends that logged each login: {found}")
            used = {name for found in landed.values() for names in found
                    for name in names}
            t.eq(used, set(backends), "both backends got logins")
