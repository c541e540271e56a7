#!/usr/bin/env python3
"""Direct clients on haproxy = yes listeners: haproxy_direct_networks and
haproxy_direct_wait, with a real HAProxy and real clients on one port.

Who connects (Dovecot listens on DOVECOT_IP):
- PROXY_IP, HAProxy: only in haproxy_trusted_networks, must send a header;
- MESH_IP, the pod network: in both lists, header or not (HAProxy sends
  from there too, with "source");
- CLIENT_IP, webmail and the like: only in haproxy_direct_networks;
- STRANGER_IP: in neither.

Each direct client's debug line says why it was served without a header
(direct_network, not_proxy, no_header), which is what tells the paths
apart; time is only measured where silence is the point, as a lower
bound. A metric counts the results and reasons. The settings are real
Dovecot settings: doveconf shows them, an invalid network stops Dovecot,
and protocol blocks (and on 2.4 inet_listener blocks) scope them.

A peer in both lists is classified only by bytes that decide, however its
bytes are cut into segments: the whole 6-byte v1 signature "PROXY " or the
12-byte v2 one makes it a header; a byte that no signature can continue
makes it a direct client (not_proxy), with every byte it sent left for the
login service; the first part of a signature is neither, and the peer is
no longer silent. Each input is cut at every offset. The first part must
reach the plugin alone: the connections wait in the listen queue of a
stopped long-lived login process until it has arrived. The rest follows
once the process has accepted them all, looked at each first part, and
run the haproxy_direct_wait timer of each (it sleeps in epoll_wait after
they expired: headers.idle_after()), so a first part taken for silence
would show.

README: "Kubernetes and direct clients" (both settings, every row of the
table, the wait, scope per protocol and listener; a busy login process in
test_busy.py).
"""

import imaplib
import poplib
import re
import smtplib
import time

from headers import (DST, HEADER_FINISHED, asleep, header, header_finished,
                     idle_after, login_pids, proxy_connect, run_client,
                     stopped)
from sandbox import (CLIENT_IP, MESH_IP, PASSWORD, PROXY_IP, STRANGER_IP,
                     Dovecot, HAProxy, IMAP, IMAPS, Listener, ManageSieve,
                     POP3, SMTP, Sandbox, assert_login, connect,
                     dovecot_under_test, plugin_dir, recv_all,
                     unmet_requirements, wait_until)
from tap import Tap
from tcp import accept_queue

WAIT_MS = 1500
SETTINGS = f"""\
haproxy_direct_networks = {CLIENT_IP} {MESH_IP}/32
haproxy_direct_wait = {WAIT_MS}ms
haproxy_timeout = 4s
log_debug = category=haproxy
"""


def login_imap(endpoint, context, source):
    """STARTTLS and a login as alice; the client's port."""
    with IMAP(endpoint, source=source) as imap:
        imap.starttls(context)
        imap.login("alice", PASSWORD)
        return imap.sock.getsockname()[1]


def login_pop3(endpoint, context, source):
    pop3 = POP3(endpoint, source=source)
    try:
        pop3.stls(context)
        pop3.user("alice")
        pop3.pass_(PASSWORD)
        return pop3.sock.getsockname()[1]
    finally:
        pop3.quit()


def login_submission(endpoint, context, source):
    with SMTP(endpoint, source=source) as smtp:
        smtp.starttls(context=context)
        smtp.login("alice", PASSWORD)
        return smtp.sock.getsockname()[1]


def login_sieve(endpoint, context, source):
    with ManageSieve(endpoint, source=source) as sieve:
        sieve.starttls(context)
        sieve.login("alice", PASSWORD)
        return sieve.sock.getsockname()[1]


LOGINS = {"imap": login_imap, "pop3": login_pop3,
          "submission": login_submission, "sieve": login_sieve}
ERRORS = (imaplib.IMAP4.error, poplib.error_proto, smtplib.SMTPException,
          ManageSieve.error, OSError, EOFError)


def direct_line(dc, reason, source, port, since):
    """Waits for the debug line of a direct client from source:port."""
    return dc.wait_for_log(
        rf"haproxy: Direct client: {re.escape(reason)} "
        rf"\(rip={re.escape(source)}, rport={port}, ", since=since)


def login_imaps(dc, context, source, reason):
    """Logs in as alice over TLS to the ssl = yes haproxy listener from
    source, which must be served as a direct client for reason, with its
    own address."""
    mark = dc.log_mark()
    with IMAPS(dc.listener("imaps-proxy"), context, source=source) as imap:
        imap.login("alice", PASSWORD)
        port = imap.sock.getsockname()[1]
    direct_line(dc, reason, source, port, mark)
    assert_login(dc.wait_for_login("alice", since=mark), rip=source,
                 rport=port)


def settings_shown(t, dc):
    with t.check("doveconf -n shows haproxy_direct_networks and "
                 "haproxy_direct_wait"):
        run = dc.tool("doveconf", "-c", dc.config_path, "-n")
        assert run.returncode == 0, run.stderr
        shown = re.findall(r"^haproxy_direct_\w+ = .*$", run.stdout, re.M)
        assert shown == [f"haproxy_direct_networks = {CLIENT_IP} "
                         f"{MESH_IP}/32",
                         f"haproxy_direct_wait = {WAIT_MS}"
                         f"{' ms' if dc.under_test.syntax == '2.3' else 'ms'}"
                         ], shown


def direct_only(t, dc, context):
    """CLIENT_IP is served at once on every haproxy listener, with its own
    address, over STARTTLS and over TLS from the first byte."""
    for protocol, login in LOGINS.items():
        if protocol not in dc.under_test.login_services:
            continue
        listener = dc.listener(protocol + "-proxy")
        with t.check(f"{protocol}: a peer in haproxy_direct_networks only "
                     "logs in with its own address, served at once"):
            mark = dc.log_mark()
            port = login(listener, context, CLIENT_IP)
            direct_line(dc, "peer is in haproxy_direct_networks only",
                        CLIENT_IP, port, mark)
            service = dc.under_test.login_services[protocol][0]
            assert_login(dc.wait_for_login("alice", since=mark,
                                           service=service),
                         rip=CLIENT_IP, rport=port, real_rip=CLIENT_IP)

    with t.check("imaps: the same over TLS on an ssl = yes haproxy "
                 "listener"):
        login_imaps(dc, context, CLIENT_IP,
                    "peer is in haproxy_direct_networks only")

    with t.check("a PROXY header from a peer in haproxy_direct_networks "
                 "only is IMAP input, and changes no address"):
        mark = dc.log_mark()
        with IMAP(dc.listener("imap-proxy"), source=CLIENT_IP) as imap:
            port = imap.sock.getsockname()[1]
            imap.send(b"PROXY TCP4 198.51.100.7 127.0.0.3 40000 143\r\n")
            answer = imap.readline()
            assert answer.startswith(b"PROXY BAD "), answer
            imap.starttls(context)
            imap.login("alice", PASSWORD)
        assert_login(dc.wait_for_login("alice", since=mark),
                     rip=CLIENT_IP, rport=port)


def login_via(dc, front, context, proxy_ip):
    """Logs in as alice through HAProxy's TLS frontend front, HAProxy
    connecting from proxy_ip; the login line must show the client."""
    mark = dc.log_mark()
    with IMAPS(front, context) as imap:
        imap.login("alice", PASSWORD)
        port = imap.sock.getsockname()[1]
    assert_login(dc.wait_for_login("alice", since=mark),
                 rip=CLIENT_IP, rport=port, real_rip=proxy_ip)


def trusted_only(t, dc, front, context):
    with t.check("through HAProxy (trusted only) the header gives the "
                 "client's address"):
        login_via(dc, front, context, PROXY_IP)

    with t.check("a trusted-only peer without a header is still rejected"):
        mark = dc.log_mark()
        with connect(dc.listener("imap-proxy"), source=PROXY_IP) as sock:
            sock.sendall(b"a LOGOUT\r\n")
            assert recv_all(sock) == b""
        # It says what came: test_diagnosis.py has each kind.
        dc.wait_for_log(r"haproxy: Invalid PROXY header: an IMAP command "
                        r"came instead: .* "
                        rf"\(rip={re.escape(PROXY_IP)}, ", since=mark)


def both(t, dc, mesh_front, context):
    """MESH_IP may do either: its header counts, TLS bytes or silence make
    it a direct client."""
    with t.check("a peer in both lists: its header (HAProxy sending from "
                 "the pod network) gives the client's address"):
        login_via(dc, mesh_front, context, MESH_IP)

    with t.check("a peer in both lists: a header in two pieces 300 ms "
                 "apart is still a header"):
        mark = dc.log_mark()
        run = run_client(dc.listener("imap-proxy"), "--src",
                         "198.51.100.7:40000", "--dst", DST,
                         "--split", "2", "--delay", "300",
                         data=b"a LOGOUT\r\n", source=MESH_IP)
        assert b"\r\na OK " in run.stdout, run
        dc.wait_for_log(r"haproxy: PROXY v2: client 198\.51\.100\.7:40000, "
                        rf".*\(rip={re.escape(MESH_IP)}, ", since=mark)

    with t.check("a peer in both lists that starts TLS is served at once "
                 "as a direct client"):
        login_imaps(dc, context, MESH_IP,
                    "it did not start with a PROXY header")

    with t.check(f"a peer in both lists that keeps silent is greeted as a "
                 f"direct client after haproxy_direct_wait ({WAIT_MS} ms)"):
        mark = dc.log_mark()
        began = time.monotonic()
        with IMAP(dc.listener("imap-proxy"), source=MESH_IP) as imap:
            waited = time.monotonic() - began
            imap.starttls(context)
            imap.login("alice", PASSWORD)
            port = imap.sock.getsockname()[1]
        assert waited >= WAIT_MS / 1000, f"greeted after {waited:.3f} s"
        direct_line(dc, "nothing sent within haproxy_direct_wait", MESH_IP,
                    port, mark)
        assert_login(dc.wait_for_login("alice", since=mark),
                     rip=MESH_IP, rport=port)


def stranger(t, dc):
    with t.check("a peer in neither list is closed at once with a "
                 "warning"):
        mark = dc.log_mark()
        with connect(dc.listener("imap-proxy"), source=STRANGER_IP) as sock:
            assert recv_all(sock) == b""
        dc.wait_for_log(r"Warning: haproxy: Peer not in haproxy_trusted_"
                        rf"networks \(rip={re.escape(STRANGER_IP)}, ",
                        since=mark)


def metric(t, dc):
    """On a listener of its own, whose events the metric alone counts: one
    connection of each result and reason."""
    listener = dc.listener("imap-metric")
    logout = b"a LOGOUT\r\n"
    header_logout = header("--src", "198.51.100.7:40000",
                           "--dst", DST) + logout
    # (source, what it sends, whether it is served)
    connections = [(CLIENT_IP, logout, True),        # direct_network
                   (MESH_IP, logout, True),          # not_proxy
                   (MESH_IP, b"", True),             # no_header
                   (PROXY_IP, header_logout, True),  # accepted
                   (PROXY_IP, logout, False),        # rejected
                   (STRANGER_IP, b"", False)]        # untrusted
    with t.check("the metric counts each result and reason"):
        for source, data, served in connections:
            with connect(listener, source) as sock:
                if data:
                    sock.sendall(data)
                elif served:
                    # Greeted after haproxy_direct_wait: then the LOGOUT.
                    assert sock.recv(1) == b"*", "no greeting"
                    sock.sendall(logout)
                reply = recv_all(sock)
            assert (b"\r\na OK " in reply) == served, (source, data, reply)
        expected = {
            "haproxy_results": 6,
            "haproxy_results_direct": 3,
            "haproxy_results_direct_direct_network": 1,
            "haproxy_results_direct_not_proxy": 1,
            "haproxy_results_direct_no_header": 1,
            "haproxy_results_accepted": 1,
            "haproxy_results_rejected": 1,
            "haproxy_results_untrusted": 1,
        }
        if dc.under_test.groups_missing_field:
            # 2.4 counts the events without direct_reason under an empty
            # one; 2.3 in no sub-metric of that field.
            expected.update({"haproxy_results_accepted_": 1,
                             "haproxy_results_rejected_": 1,
                             "haproxy_results_untrusted_": 1})
        counts = dc.counted("haproxy_results", 6)
        assert counts == expected, f"{counts}, expected {expected}"


def refused(sb, name, setting):
    """The log of a Dovecot with the plugin and setting that must not
    start."""
    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                 plugin_dir=plugin_dir(), name=name,
                 extra_config=setting + "\n")
    try:
        dc.start()
    except RuntimeError:
        return dc.log_text()
    raise AssertionError(f"Dovecot started with {setting}")


def invalid(t, sb):
    with t.check("an invalid haproxy_direct_networks stops Dovecot at start "
                 "with an error naming it"):
        log = refused(sb, "dovecot-invalid",
                      "haproxy_direct_networks = 10.0.0.0/33")
        assert re.search(r"haproxy_direct_networks: Invalid network "
                         r"'10\.0\.0\.0/33'", log), log
    with t.check("a misspelt setting name stops Dovecot at start"):
        log = refused(sb, "dovecot-typo",
                      "haproxy_direct_network = 10.0.0.0/8")
        assert "Unknown setting: haproxy_direct_network\n" in log, log


def scope(t, sb):
    """The settings follow Dovecot's filters: protocol blocks on both lines,
    inet_listener blocks on 2.4, which 2.3 does not have."""
    dut = dovecot_under_test()
    listeners = [Listener("imap", "imap-proxy", haproxy=True),
                 Listener("pop3", "pop3-proxy", haproxy=True)]
    config = (f"haproxy_direct_networks = {CLIENT_IP}\n"
              "protocol pop3 {\n  haproxy_direct_networks =\n}\n")
    if dut.syntax != "2.3":
        listeners.append(Listener("imap", "imap-strict", haproxy=True))
        config += ("service imap-login {\n  inet_listener imap-strict {\n"
                   "    haproxy_direct_networks =\n  }\n}\n")
    dc = Dovecot(sb, listeners, plugin_dir=plugin_dir(), name="dovecot-scope",
                 extra_config=config)
    with dc:
        for listener in dc.listeners:
            served = listener.name == "imap-proxy"
            scoped = ("a protocol pop3 block" if listener.protocol == "pop3"
                      else "an inet_listener block")
            with t.check(f"{listener.name}: " + (
                    "the top-level haproxy_direct_networks applies" if served
                    else f"{scoped} empties haproxy_direct_networks")):
                mark = dc.log_mark()
                with connect(listener) as sock:
                    answer = recv_all(sock, limit=3)
                if served:
                    assert answer == b"* O", answer
                else:
                    assert answer == b"", answer
                    dc.wait_for_log(r"haproxy: Peer not in haproxy_trusted_"
                                    rf"networks \(rip={re.escape(CLIENT_IP)}"
                                    rf", rport=\d+, listener={listener.name}"
                                    r"\)", since=mark)
    if dut.syntax == "2.3":
        with t.check("Dovecot 2.3 has no listener filters: "
                     "haproxy_direct_networks in an inet_listener block stops "
                     "it at start"):
            log = refused(sb, "dovecot-listener-filter",
                          "service imap-login {\n  inet_listener imap-strict "
                          "{\n    haproxy_direct_networks =\n  }\n}")
            assert "Unknown setting: service { inet_listener { "\
                "haproxy_direct_networks" in log, log


# The Dovecot of the cuts: a long-lived imap-login, a short
# haproxy_direct_wait, which the rest of each input comes after.
CUTS_WAIT_MS, CUTS_TIMEOUT = 200, 2
NOOP = b"\r\na1 NOOP\r\n"  # an empty line, then a command
PROXYX = b"PROXYx NOOP\r\n"  # "PROXY" and a byte no signature has there


def cuts_dovecot(sb, dut):
    return Dovecot(sb, [Listener("imap", "imap-cuts", haproxy=True)],
                   plugin_dir=plugin_dir(), name="dovecot-cuts",
                   haproxy_trusted_networks=f"{PROXY_IP} {MESH_IP}",
                   haproxy_timeout=f"{CUTS_TIMEOUT}s",
                   extra_config=(
                       f"haproxy_direct_networks = {MESH_IP}\n"
                       f"haproxy_direct_wait = {CUTS_WAIT_MS}ms\n"
                       "log_debug = category=haproxy\n"
                       + dut.long_lived("imap-login", "process_min_avail = 1")
                       + dut.exported(HEADER_FINISHED)))


def send_in_parts(dc, parts):
    """One connection from MESH_IP for each (first, rest): first arrives
    with the connection, the rest once the login process has looked at
    every first part and run every haproxy_direct_wait timer. Returns each
    connection's port and what the server sent until it closed."""
    listener = dc.listener("imap-cuts")
    pids = login_pids(dc)
    assert len(pids) == 1, f"login processes: {pids}"
    socks = []
    try:
        with stopped(pids[0]):
            for first, _ in parts:
                sock = proxy_connect(listener, MESH_IP)
                socks.append(sock)
                if first:
                    sock.sendall(first)
        # Idle with none left to accept: it has armed every timer.
        assert wait_until(lambda: accept_queue(listener) == 0 and
                          asleep(pids[0]), interval=0.001), \
            f"{accept_queue(listener)} connections not accepted"
        idle_after(pids[0], time.monotonic() + CUTS_WAIT_MS / 1000)
        for sock, (_, rest) in zip(socks, parts):
            try:
                sock.sendall(rest)
            except OSError:  # closed by the server: the reply shows it
                pass
        return [(sock.getsockname()[1], recv_all(sock)) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def outcomes(dc, ports, since):
    """{port: (result, direct_reason)} of the connections' events."""
    got = {}
    for port in ports:
        fields = header_finished(dc, port, since)
        got[port] = fields["result"], fields.get("direct_reason")
    return got


def every_cut(data):
    """(cut, first, rest) for each offset inside data."""
    return [(cut, data[:cut], data[cut:]) for cut in range(1, len(data))]


def direct_at_every_cut(dc, data, answer, uncut=False):
    """data from a peer in both lists, cut everywhere: a direct client
    (not_proxy) whose input all reaches imap-login, which answers."""
    cuts = every_cut(data) + ([(0, data, b"")] if uncut else [])
    mark = dc.log_mark()
    replies = send_in_parts(dc, [(first, rest + b"a2 LOGOUT\r\n")
                                 for _, first, rest in cuts])
    ports = [port for port, _ in replies]
    events = outcomes(dc, ports, mark)
    wrong = {cut: (events[port], reply[-80:]) for (cut, _, _), (port, reply)
             in zip(cuts, replies) if events[port] != ("direct", "not_proxy")
             or answer not in reply or b"\r\na2 OK " not in reply}
    assert not wrong, f"cut at offset: (event, reply): {wrong}"
    lines = set(int(port) for port in re.findall(
        r"imap-login: Debug: haproxy: Direct client: it did not start with a "
        rf"PROXY header \(rip={re.escape(MESH_IP)}, rport=(\d+), "
        r"listener=imap-cuts\)$", dc.log_text(mark), re.M))
    assert lines >= set(ports), f"no debug line for {set(ports) - lines}"


def header_at_every_cut(dc, version):
    """A header from a peer in both lists, cut everywhere: applied."""
    src = "198.51.100.7:40000"
    data = header(*(["-1"] if version == "v1" else []), "--src", src,
                  "--dst", DST)
    cuts = every_cut(data)
    mark = dc.log_mark()
    replies = send_in_parts(dc, [(first, rest + b"a LOGOUT\r\n")
                                 for _, first, rest in cuts])
    events = outcomes(dc, [port for port, _ in replies], mark)
    wrong = {cut: (events[port], reply[-80:]) for (cut, _, _), (port, reply)
             in zip(cuts, replies) if events[port] != ("accepted", None)
             or b"\r\na OK " not in reply}
    assert not wrong, f"cut at offset: (event, reply): {wrong}"
    lines = set(int(port) for port in re.findall(
        rf"imap-login: Debug: haproxy: PROXY {version}: client "
        rf"{re.escape(src)}, server {re.escape(DST)} "
        rf"\(rip={re.escape(MESH_IP)}, rport=(\d+), listener=imap-cuts\)$",
        dc.log_text(mark), re.M))
    ports = {port for port, _ in replies}
    assert lines >= ports, f"no debug line for {ports - lines}"


def prefix_then_silence(dc):
    """The first bytes of a v1 and a v2 signature, then nothing."""
    prefixes = (b"PROX", b"\r\n\r\n\x00")
    mark = dc.log_mark()
    began = time.monotonic()
    replies = send_in_parts(dc, [(prefix, b"") for prefix in prefixes])
    waited = time.monotonic() - began
    assert [reply for _, reply in replies] == [b"", b""], replies
    assert waited >= CUTS_TIMEOUT, f"closed after {waited:.3f} s"
    events = outcomes(dc, [port for port, _ in replies], mark)
    assert set(events.values()) == {("timeout", None)}, events
    for (port, _), prefix in zip(replies, prefixes):
        dc.wait_for_log(
            rf"imap-login: Error: haproxy: Timed out after {CUTS_TIMEOUT} "
            r"secs waiting for the PROXY header "
            rf"\(rip={re.escape(MESH_IP)}, rport={port}, "
            rf"listener=imap-cuts, received={len(prefix)} bytes\)$",
            since=mark)


def cuts(t, sb):
    dc = cuts_dovecot(sb, dovecot_under_test())
    with dc:
        wait_until(lambda: login_pids(dc))
        with t.check("a peer in both lists: \\r\\na1 NOOP cut at every "
                     "offset: a direct client (not_proxy), imap-login "
                     "answers the NOOP"):
            direct_at_every_cut(dc, NOOP, b"\r\na1 OK ")
        with t.check("a peer in both lists: PROXYx NOOP, whole and cut at "
                     "every offset: a direct client (not_proxy), imap-login "
                     "answers the NOOP"):
            direct_at_every_cut(dc, PROXYX, b"PROXYx OK ", uncut=True)
        for version in ("v1", "v2"):
            with t.check(f"a peer in both lists: a {version} header cut at "
                         "every offset: applied"):
                header_at_every_cut(dc, version)
        with t.check("a peer in both lists that sends the first bytes of a "
                     "signature and then nothing: timed out after "
                     "haproxy_timeout, not a direct client"):
            prefix_then_silence(dc)


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        context = sb.certs.context()
        listeners = [Listener(protocol, protocol + "-proxy", haproxy=True)
                     for protocol in LOGINS if protocol in dut.login_services]
        listeners += [Listener("imap", "imaps-proxy", haproxy=True, ssl=True),
                      Listener("imap", "imap-metric", haproxy=True)]
        dc = Dovecot(sb, listeners, plugin_dir=plugin_dir(),
                     haproxy_trusted_networks=f"{PROXY_IP} {MESH_IP}",
                     extra_config=SETTINGS + dut.metric(
                         "haproxy_results", "event=haproxy_header_finished "
                         "AND listener=imap-metric",
                         group_by=("result", "direct_reason")))
        hap = HAProxy(sb)
        hap.backend("imap", [(dc.listener("imap-proxy"),
                              "send-proxy-v2-ssl")])
        hap.backend("mesh", [(dc.listener("imap-proxy"),
                              "send-proxy-v2-ssl")], f"source {MESH_IP}")
        front = hap.frontend("imap", "imap", tls=True)
        mesh_front = hap.frontend("mesh", "mesh", tls=True)
        with dc, hap:
            settings_shown(t, dc)
            direct_only(t, dc, context)
            trusted_only(t, dc, front, context)
            both(t, dc, mesh_front, context)
            stranger(t, dc)
            metric(t, dc)
        scope(t, sb)
        invalid(t, sb)
        cuts(t, sb)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
