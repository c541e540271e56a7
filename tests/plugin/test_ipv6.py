#!/usr/bin/env python3
"""IPv6 from end to end, on both lines of Dovecot. The README promises
pinned here:

- "What the plugin does with a header": PROXY TCP6 and v2 PROXY over
  INET6 give the client's and the server's address and port; the
  connection is proxied, the proxy stays the real peer. The login line,
  auth (allow_nets of an IPv6 network), login_trusted_networks (an IPv6
  network makes the client trusted: its ID may name the address of its
  login) and the haproxy_header_finished event all see the header's
  IPv6 addresses; the debug line writes them as [address]:port.
- IPv4-mapped addresses (::ffff:a.b.c.d) in a header arrive as IPv4, "as
  Dovecot's own accept() reports it", and as "peers arrive as IPv4 and
  are compared as IPv4": the login line, auth's allow_nets, and
  login_trusted_networks see 127.0.0.7, not ::ffff:127.0.0.7. A real
  HAProxy listening on an IPv6 socket (bound to ::ffff:127.0.0.1) sends
  such headers for its IPv4 clients.
- haproxy_trusted_networks "= 10.0.0.0/8 2001:db8::/32": IPv6 entries,
  with or without a prefix length; and haproxy_direct_networks "in the
  syntax of haproxy_trusted_networks". A peer that connects over ::1 is
  trusted, direct, both or neither by those entries, exactly as an IPv4
  peer is by IPv4 ones ("Kubernetes and direct clients").
- Dovecot listening on ::1, and HAProxy (its "source [::1]") and
  haproxy-connect connecting from there; HAProxy accepting its clients on
  ::1, so that the header is PROXY TCP6 ::1 ::1.

The formatter behind the plugin's own address text, haproxy_ip_str(), is
checked against inet_ntop() in test-text.c.

README: "What the plugin does with a header", "Kubernetes and direct
clients" and "Logs and events".
"""

import re

from headers import (HEADER_FINISHED, header, header_finished, proxy_connect,
                     run_client)
from sandbox import (CLIENT_IP, DOVECOT_IP, PASSWORD, PROXY_IP, Dovecot,
                     Endpoint, HAProxy, IMAP, Listener, Sandbox,
                     assert_login, connect, dovecot_under_test, plugin_dir,
                     recv_all, unmet_requirements)
from tap import Tap

LOOPBACK6 = "::1"
# The header's client and server: documentation addresses (RFC 3849).
SRC6, DST6 = "2001:db8:7::7", "2001:db8::3"
OTHER6 = "2001:db8:8::8"     # a client outside every list below
ORIGINATING_IP = "203.0.113.5"
SRC_PORT, DST_PORT = 40000, 143
USERS = {
    "alice": {},
    "near6": {"allow_nets": "2001:db8:7::/48"},
    "near4": {"allow_nets": CLIENT_IP + "/32"},
    "local6": {"allow_nets": LOOPBACK6 + "/128"},
    "far": {"allow_nets": PROXY_IP + "/32"},
}


def config(dut):
    """Plaintext logins everywhere (the TLS of these sessions is not the
    point), accepted headers logged, their events exported, and
    login_trusted_networks with an IPv6 network and the IPv4 client."""
    return (dut.cleartext_auth()
            + "log_debug = category=haproxy\n"
            + f"login_trusted_networks = 2001:db8:7::/48 {CLIENT_IP}/32\n"
            + dut.exported(HEADER_FINISHED))


def session(listener, data, commands, source=PROXY_IP):
    """data (a header), then commands (tag, command) pipelined and a
    LOGOUT, from source; the peer's port and the transcript's lines."""
    with proxy_connect(listener, source) as sock:
        port = sock.getsockname()[1]
        sock.sendall(data + b"".join(
            f"{tag} {command}\r\n".encode() for tag, command in commands)
            + b"z LOGOUT\r\n")
        return port, recv_all(sock).decode(errors="replace").splitlines()


def tagged(lines, tag):
    return next((line for line in lines if line.startswith(tag + " ")),
                f"(no {tag} line in {lines})")


def hostport(address, port):
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def headers(version, src, dst):
    """The header of version (v1, v2) from src to dst (address, port)."""
    return header("-1" if version == "v1" else "-2",
                  "--src", hostport(*src), "--dst", hostport(*dst))


def listener_of(source):
    """The haproxy listener of the peer's family."""
    return "imap-proxy6" if ":" in source else "imap-proxy"


def login(t, dc, what, data, user, expected, source=PROXY_IP):
    """A LOGIN as user after data from source: must succeed, with the login
    line's fields expected; returns the peer's port."""
    port = None
    with t.check(f"{what}: {user} logs in; the login line shows "
                 + ", ".join(f"{k}={v}" for k, v in expected.items())):
        mark = dc.log_mark()
        port, lines = session(dc.listener(listener_of(source)), data,
                              [("a", f"LOGIN {user} {PASSWORD}")], source)
        assert tagged(lines, "a").startswith("a OK "), lines
        assert_login(dc.wait_for_login(user, mark), **expected)
    return port


def refused(t, dc, what, data, user, ip):
    """A LOGIN as user after data must fail allow_nets, auth seeing ip."""
    with t.check(f"{what}: {user} is refused: auth saw {ip}"):
        mark = dc.log_mark()
        _, lines = session(dc.listener("imap-proxy"), data,
                           [("a", f"LOGIN {user} {PASSWORD}")])
        assert tagged(lines, "a").startswith("a NO "), lines
        dc.wait_for_log(dc.under_test.auth_info(
            "passwd-file", user, ip, "allow_nets check failed"), since=mark)


def trusted_client(t, dc, what, data, client, trusted):
    """Whether login_trusted_networks makes the header's client trusted:
    a trusted client's ID sets the address its login is for."""
    with t.check(f"{what}: the client {client} is " + (
            "trusted (login_trusted_networks): its ID sets the login's "
            "address" if trusted else "not trusted: its ID sets nothing")):
        mark = dc.log_mark()
        _, lines = session(dc.listener("imap-proxy"), data, [
            ("b", f'ID ("x-originating-ip" "{ORIGINATING_IP}")'),
            ("c", f"LOGIN alice {PASSWORD}")])
        assert tagged(lines, "c").startswith("c OK "), lines
        assert_login(dc.wait_for_login("alice", mark),
                     rip=ORIGINATING_IP if trusted else client)


def event(t, dc, what, port, mark, expected):
    with t.check(f"{what}: the haproxy_header_finished event has "
                 + ", ".join(f"{k}={v}" for k, v in expected.items())):
        fields = header_finished(dc, port, mark)
        got = {key: fields.get(key) for key in expected}
        assert got == expected, f"event has {got}, expected {expected}"


def ipv6_headers(t, dc):
    """v1 TCP6 and v2 INET6 headers of SRC6 from the IPv4 proxy."""
    for version in ("v1", "v2"):
        what = f"{version} {SRC6} -> {DST6}"
        data = headers(version, (SRC6, SRC_PORT), (DST6, DST_PORT))
        mark = dc.log_mark()
        port = login(t, dc, what, data, "near6", {
            "rip": SRC6, "rport": SRC_PORT, "lip": DST6, "lport": DST_PORT,
            "real_rip": PROXY_IP})
        with t.check(f"{what}: the debug line writes the addresses as "
                     "[address]:port"):
            dc.wait_for_log(
                rf"Debug: haproxy: PROXY {version}: client "
                rf"{re.escape(hostport(SRC6, SRC_PORT))}, server "
                rf"{re.escape(hostport(DST6, DST_PORT))} "
                rf"\(rip={re.escape(PROXY_IP)}, rport={port},", since=mark)
        event(t, dc, what, port, mark, {
            "result": "accepted", "remote_ip": PROXY_IP, "src_ip": SRC6,
            "src_port": SRC_PORT, "dst_ip": DST6, "dst_port": DST_PORT})
        refused(t, dc, what, data, "far", SRC6)
        trusted_client(t, dc, what, data, SRC6, True)
        other = headers(version, (OTHER6, SRC_PORT), (DST6, DST_PORT))
        trusted_client(t, dc, f"{version} {OTHER6} -> {DST6}", other,
                       OTHER6, False)


def mapped_headers(t, dc):
    """::ffff:127.0.0.7 in the header is the IPv4 client 127.0.0.7."""
    for version in ("v1", "v2"):
        for dst in ("::ffff:" + DOVECOT_IP, DST6):
            what = f"{version} ::ffff:{CLIENT_IP} -> {dst}"
            data = headers(version, ("::ffff:" + CLIENT_IP, SRC_PORT),
                           (dst, DST_PORT))
            mark = dc.log_mark()
            local = dst.replace("::ffff:", "")
            port = login(t, dc, what, data, "near4", {
                "rip": CLIENT_IP, "rport": SRC_PORT, "lip": local,
                "lport": DST_PORT})
            event(t, dc, what, port, mark, {
                "src_ip": CLIENT_IP, "dst_ip": local})
            refused(t, dc, what, data, "far", CLIENT_IP)
            trusted_client(t, dc, what, data, CLIENT_IP, True)


def loopback_peer(t, dc):
    """haproxy-connect and a raw socket connecting from ::1 to Dovecot's
    listener on ::1, trusted by the entry ::1/128."""
    listener = dc.listener("imap-proxy6")
    for version in ("v1", "v2"):
        what = f"from [::1], {version} {SRC6}"
        data = headers(version, (SRC6, SRC_PORT), (DST6, DST_PORT))
        mark = dc.log_mark()
        port = login(t, dc, what, data, "near6", {
            "rip": SRC6, "rport": SRC_PORT, "real_rip": LOOPBACK6},
            source=LOOPBACK6)
        event(t, dc, what, port, mark, {
            "result": "accepted", "remote_ip": LOOPBACK6,
            "remote_port": port, "local_ip": LOOPBACK6,
            "local_port": listener.port, "src_ip": SRC6})
    with t.check("haproxy-connect from [::1] with its own addresses: "
                 "PROXY TCP6 ::1 ::1 through to the login line"):
        mark = dc.log_mark()
        run = run_client(listener, "-1", data=f"a LOGIN local6 {PASSWORD}\r\n"
                         "b LOGOUT\r\n".encode(), source=LOOPBACK6)
        assert b"\r\na OK " in run.stdout, run
        assert_login(dc.wait_for_login("local6", mark), rip=LOOPBACK6,
                     lip=LOOPBACK6, lport=listener.port,
                     real_rip=LOOPBACK6)


def through_haproxy(t, sb, dc):
    """A real HAProxy: clients on ::1, clients on an IPv6 socket bound to
    ::ffff:127.0.0.1, and HAProxy reaching Dovecot's ::1 listener from
    ::1."""
    hap = HAProxy(sb)
    cases = []
    for version, option in (("v1", "send-proxy"), ("v2", "send-proxy-v2")):
        hap.backend(f"v4-{version}", [(dc.listener("imap-proxy"), option)])
        hap.backend(f"v6-{version}", [(dc.listener("imap-proxy6"), option)],
                    "source [::1]")
        front = hap.frontend(f"loopback6-{version}", f"v4-{version}",
                             address=LOOPBACK6)
        cases.append((f"HAProxy {version}, client and frontend on ::1: "
                       "local6 logs in as ::1 to ::1", front, "local6",
                       LOOPBACK6, {"rip": LOOPBACK6, "lip": LOOPBACK6,
                                   "lport": front.port,
                                   "real_rip": PROXY_IP}))
        # An IPv6 socket; its clients connect over IPv4.
        front = hap.frontend(f"mapped-{version}", f"v4-{version}",
                             address="::ffff:" + PROXY_IP)
        front = Endpoint(PROXY_IP, front.port)
        cases.append((f"HAProxy {version} on an IPv6 socket, client over "
                       "IPv4: its ::ffff: header makes near4 log in as the "
                       "IPv4 client", front, "near4", CLIENT_IP,
                       {"rip": CLIENT_IP, "lip": PROXY_IP,
                        "lport": front.port, "real_rip": PROXY_IP}))
        front = hap.frontend(f"to6-{version}", f"v6-{version}")
        cases.append((f"HAProxy {version} connecting from ::1 to Dovecot's "
                       "::1 listener: near4 logs in as the client", front,
                       "near4", CLIENT_IP, {"rip": CLIENT_IP, "lip": PROXY_IP,
                                            "lport": front.port,
                                            "real_rip": LOOPBACK6}))
    with hap:
        for what, front, user, source, expected in cases:
            with t.check(what):
                mark = dc.log_mark()
                with IMAP(front, source=source) as imap:
                    imap.login(user, PASSWORD)
                    port = imap.sock.getsockname()[1]
                # The plugin's own text of the client's address.
                dc.wait_for_log(r"Debug: haproxy: PROXY v\d: client "
                                + re.escape(hostport(source, port)) + ", ",
                                since=mark)
                assert_login(dc.wait_for_login(user, mark), rport=port,
                             **expected)


def peer_lists(t, sb):
    """A peer on ::1 in each combination of the two lists, by IPv6
    entries only: bare, with a prefix length, and ranges."""
    dut = dovecot_under_test()
    for name, trusted, direct in (
            ("direct", PROXY_IP, "::1"),
            ("both", "::1", "::/64"),
            ("neither", f"{PROXY_IP}/32 2001:db8::/32 ::2", "2001:db8::/32")):
        dc = Dovecot(sb, [Listener("imap", "imap-proxy6", address=LOOPBACK6,
                                   haproxy=True)],
                     users={"local6": USERS["local6"], "near6": USERS["near6"]},
                     plugin_dir=plugin_dir(), haproxy_trusted_networks=trusted,
                     name=f"dovecot-{name}", extra_config=(
                         dut.cleartext_auth()
                         + f"haproxy_direct_networks = {direct}\n"
                         "haproxy_direct_wait = 200ms\n"
                         "log_debug = category=haproxy\n"))
        listener = dc.listener("imap-proxy6")
        lists = (f"haproxy_trusted_networks = {trusted}, "
                 f"haproxy_direct_networks = {direct}")
        with dc:
            if name in ("direct", "both"):
                reason = ("peer is in haproxy_direct_networks only"
                          if name == "direct" else
                          "nothing sent within haproxy_direct_wait")
                with t.check(f"{lists}: ::1 without a header is a direct "
                             f"client ({reason}) with its own address"):
                    mark = dc.log_mark()
                    with IMAP(listener, source=LOOPBACK6) as imap:
                        imap.login("local6", PASSWORD)
                        port = imap.sock.getsockname()[1]
                    dc.wait_for_log(
                        rf"Debug: haproxy: Direct client: {reason} "
                        rf"\(rip={re.escape(LOOPBACK6)}, rport={port}, ",
                        since=mark)
                    assert_login(dc.wait_for_login("local6", mark),
                                 rip=LOOPBACK6, rport=port)
            if name == "both":
                with t.check(f"{lists}: ::1 with a header is a proxy"):
                    mark = dc.log_mark()
                    _, lines = session(listener, headers(
                        "v2", (SRC6, SRC_PORT), (DST6, DST_PORT)),
                        [("a", f"LOGIN near6 {PASSWORD}")], LOOPBACK6)
                    assert tagged(lines, "a").startswith("a OK "), lines
                    assert_login(dc.wait_for_login("near6", mark),
                                 rip=SRC6, real_rip=LOOPBACK6)
            if name == "neither":
                with t.check(f"{lists}: ::1 is closed at once with a "
                             "warning"):
                    mark = dc.log_mark()
                    with connect(listener, LOOPBACK6) as sock:
                        port = sock.getsockname()[1]
                        assert recv_all(sock) == b""
                    dc.wait_for_log(
                        r"Warning: haproxy: Peer not in haproxy_trusted_"
                        rf"networks \(rip={re.escape(LOOPBACK6)}, "
                        rf"rport={port}, ", since=mark)


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                          Listener("imap", "imap-proxy6", address=LOOPBACK6,
                                   haproxy=True)],
                     USERS, plugin_dir(),
                     haproxy_trusted_networks=f"{PROXY_IP}/32 ::1/128",
                     extra_config=config(dut))
        with dc:
            ipv6_headers(t, dc)
            mapped_headers(t, dc)
            loopback_peer(t, dc)
            through_haproxy(t, sb, dc)
        peer_lists(t, sb)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
