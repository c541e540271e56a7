#!/usr/bin/env python3
"""Diagnostics that name the mistake behind a PROXY port (issue 15).

1. A peer in haproxy_trusted_networks only must send a header. When it
   sends something else, the one error line says what came and what
   usually causes it, and the haproxy_header_finished event has a field
   diagnosis with a stable token: a TLS ClientHello (a real HAProxy in
   TCP mode whose server line lacks send-proxy-v2, TLS passed through to
   an ssl = yes listener, a real IMAPS client), a command of the
   listener's protocol (on each protocol's listener), an HTTP request (a
   real HAProxy's option httpchk without check-send-proxy), other bytes
   (the old line), and nothing at all until haproxy_timeout (a real
   HAProxy without send-proxy, a real IMAP client waiting for the
   greeting).
2. A peer in neither list is closed at once, nothing read and nothing
   sent, with one warning. When its first bytes are already in the socket
   at the accept, the warning says what they are. That is made
   deterministic: the long-lived imap-login process is stopped, the peer
   connects and sends, the kernel holds its bytes in the listen queue,
   and the process is continued. The bytes are still unread when the
   plugin closes the connection: the kernel then resets it, which the
   peer sees.
3. A metric grouped by result and diagnosis counts each case apart: on
   a listener of its own, so that nothing else reaches it.
4. haproxy_trusted_networks and haproxy_direct_networks entries that can
   never match (IPv4-mapped IPv6), and invalid ones, give a warning at
   start. What every version does, pinned here: the master's own
   configuration read at start runs doveconf, which warns once (prefix
   "doveconf:", no time stamp, before the master's first line); the
   config process warns once; doveconf -n warns once on standard error;
   login processes never repeat it.

README: "Logs and events" (what came instead of a header, in the
administrator's words; diagnosis; a peer in neither list closed at once;
entries that never match warned about once).
"""

import imaplib
import re
import ssl

from headers import (DST, HEADER_FINISHED, exchange, header, header_finished,
                     login_pids, stopped, unread_bytes)
from sandbox import (PASSWORD, PROXY_IP, STRANGER_IP, Dovecot, HAProxy, IMAP,
                     IMAPS, Listener, Sandbox, connect, dovecot_under_test,
                     plugin_dir, recv_all, unmet_requirements, wait_until)
from tap import Tap
from tcp import unread_from

TIMEOUT_SECS = 1            # haproxy_timeout

# What a proxy that sends no header forwards, and the usual cause.
NO_HEADER = ("the proxy sends no PROXY header (send-proxy-v2 on its server "
             "line), or this client belongs in haproxy_direct_networks")
# What a peer in neither list sends that a client would, and where it
# belongs.
A_CLIENT = ("a client, which belongs on a listener without haproxy = yes, "
            "or in haproxy_direct_networks")
HTTP_ADVICE = ("an HTTP health check or web client: check this port with "
               "check-send-proxy in TCP mode")
NOT_TRUSTED = "Peer not in haproxy_trusted_networks"

# protocol: (a command its clients send, how the line names it)
COMMANDS = {
    "imap": (b"a1 CAPABILITY\r\n", "an IMAP command"),
    "pop3": (b"CAPA\r\n", "a POP3 command"),
    "submission": (b"EHLO x\r\n", "an SMTP command"),
    "sieve": (b"CAPABILITY\r\n", "a ManageSieve command"),
}
# A scanner's first line: no PROXY header, no command, nothing known.
GARBAGE = b"SSH-2.0-OpenSSH_9.2p1\r\n"
HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"
# A line of the plugin in a login process: its level and message.
HAPROXY_LINE = re.compile(r"^.* [\w-]+-login: (\w+): haproxy: (.*)$", re.M)


def escaped(data):
    """data as the plugin's log lines show text from the wire."""
    return "".join(chr(b) if 0x20 <= b < 0x7f and b not in b'\\"'
                   else "\\x%02x" % b for b in data)


def client_hello(context):
    """The bytes of a real TLS ClientHello made with context."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:  # it waits for the ServerHello
        pass
    return outgoing.read()


def haproxy_lines(dc, since):
    """Every haproxy: line of a login process since the offset, as
    (level, message)."""
    return HAPROXY_LINE.findall(dc.log_text(since))


def expect_one(dc, mark, level, message, port, result, error_code,
               diagnosis):
    """The case logged exactly the line level: haproxy: message, and its
    event has result, error_code and diagnosis (None: no such field)."""
    event = header_finished(dc, port, mark)
    got = {key: event.get(key) for key in
           ("result", "error_code", "diagnosis")}
    assert got == {"result": result, "error_code": error_code,
                   "diagnosis": diagnosis}, event
    # The line and the event reach the log by different processes.
    wait_until(lambda: haproxy_lines(dc, mark) == [(level, message)])
    lines = haproxy_lines(dc, mark)
    assert lines == [(level, message)], \
        f"want [{(level, message)}], got {lines}"
    return event


def rejected_line(what, peer, listener, shown):
    """The error of a trusted peer that sent something else."""
    return (f"Invalid PROXY header: {what} (rip={PROXY_IP}, rport={peer}, "
            f"listener={listener}, header=\"{shown}\")")


def send_instead(listener, data):
    """data from the trusted address where a header belongs: the server
    closes without a word. Returns our port."""
    port, reply = exchange(listener, data)
    assert reply == b"", f"the server answered {reply!r}"
    return port


def trusted_peers(t, dc, fronts, context):
    """Section 1: a peer that must send a header sends something else."""
    with t.check("TLS passed through by a HAProxy without send-proxy-v2 to "
                 "an ssl = yes listener: the IMAPS client is refused, the "
                 "error says a TLS ClientHello came instead "
                 "(diagnosis tls_client_hello)"):
        mark = dc.log_mark()
        try:
            with IMAPS(fronts["tls"], context):
                raise AssertionError("the TLS handshake succeeded")
        except (OSError, imaplib.IMAP4.error):  # ssl.SSLError is an OSError
            pass
        # HAProxy's port towards Dovecot, and the ClientHello's first
        # bytes in hex: a TLS 1.x handshake record.
        line = dc.wait_for_log(
            r"imap-login: Error: haproxy: Invalid PROXY header: a TLS "
            rf"ClientHello came instead: {re.escape(NO_HEADER)} "
            rf"\(rip={re.escape(PROXY_IP)}, rport=(\d+), "
            r'listener=imaps-proxy, header="(160301[0-9a-f]*)(\.\.\.)?"\)$',
            since=mark)
        assert len(line.group(2)) == 96 and line.group(3), \
            f"not the first 48 bytes of a longer record: {line.group(0)}"
        expect_one(dc, mark, "Error", line.group(0).split("haproxy: ", 1)[1],
                   line.group(1), "rejected", "not_proxy", "tls_client_hello")

    for protocol, (command, what) in COMMANDS.items():
        if protocol not in dc.under_test.login_services:
            continue
        name = f"{protocol}-proxy"
        with t.check(f"{name}: {command.strip().decode()} instead of a "
                     f"header: the error says {what} came instead "
                     "(diagnosis client_command)"):
            mark = dc.log_mark()
            port = send_instead(dc.listener(name), command)
            expect_one(dc, mark, "Error", rejected_line(
                f"{what} came instead: {NO_HEADER}", port, name,
                escaped(command)), port, "rejected", "not_proxy",
                "client_command")

    with t.check("a HAProxy's option httpchk without check-send-proxy: the "
                 "error says an HTTP request came instead, and what to do "
                 "(diagnosis http_request)"):
        mark = dc.log_mark()
        with fronts["httpchk"]:
            # One check at start; the next only after inter (60 s).
            line = dc.wait_for_log(r"haproxy: Invalid PROXY header: .* "
                                   r"rport=(\d+),", since=mark)
        port = line.group(1)
        expect_one(dc, mark, "Error", rejected_line(
            f"an HTTP request came instead: {HTTP_ADVICE}", port,
            "imap-proxy", escaped(b"OPTIONS / HTTP/1.0\r\n\r\n")),
            port, "rejected", "not_proxy", "http_request")

    with t.check("other bytes instead of a header: the old error, Not a "
                 "PROXY protocol header (diagnosis other)"):
        mark = dc.log_mark()
        port = send_instead(dc.listener("imap-proxy"), GARBAGE)
        expect_one(dc, mark, "Error", rejected_line(
            "Not a PROXY protocol header", port, "imap-proxy",
            escaped(GARBAGE)), port, "rejected", "not_proxy", "other")

    with t.check("a HAProxy without send-proxy in front of the IMAP "
                 "listener: the IMAP client waits for the greeting until "
                 "haproxy_timeout; the error says nothing came, as from "
                 "such a proxy (diagnosis silent)"):
        mark = dc.log_mark()
        try:
            with IMAP(fronts["silent"]):
                raise AssertionError("greeted without a header")
        except imaplib.IMAP4.abort:  # EOF instead of the greeting
            pass
        line = dc.wait_for_log(r"haproxy: Timed out .* rport=(\d+),",
                               since=mark)
        port = line.group(1)
        expect_one(dc, mark, "Error",
                   f"Timed out after {TIMEOUT_SECS} secs waiting for the "
                   "PROXY header: nothing came, as from a proxy that sends "
                   "no PROXY header (send-proxy-v2 on its server line) "
                   f"(rip={PROXY_IP}, rport={port}, listener=imap-proxy, "
                   "received=0 bytes)", port, "timeout", "timeout", "silent")


def held_back(dc, listener, data):
    """Connects from STRANGER_IP and sends data while the imap-login
    process is stopped: the bytes are in the socket before it accepts.
    Returns the socket, once the process runs again."""
    pids = login_pids(dc)
    assert len(pids) == 1, f"imap-login processes: {pids}"
    with stopped(pids[0]):
        sock = connect(listener, STRANGER_IP)
        if data:
            sock.sendall(data)
        assert wait_until(lambda: unread_bytes(listener, [sock]) ==
                          [len(data)]), "the bytes did not arrive"
    return sock


def closed_unread(sock):
    """Whether the server closed sock with our bytes unread: the kernel
    then resets the connection instead of ending it."""
    try:
        reply = sock.recv(1024)
    except ConnectionResetError:
        return True
    raise AssertionError(f"no reset: the server sent {reply!r}")


def decided_at_once(event):
    """The event's duration, from the accept to the decision in
    microseconds, shows no wait for bytes: that would last until
    haproxy_timeout."""
    assert event["duration"] < TIMEOUT_SECS * 1e6 / 2, event


def stranger_line(port, listener, sent=None):
    """The warning for a peer in neither list from port; sent, what it
    said about the bytes."""
    return (NOT_TRUSTED + (f": it sent {sent}" if sent else "")
            + f" (rip={STRANGER_IP}, rport={port}, listener={listener})")


def strangers(t, dc, fronts, context):
    """Section 2: peers in neither list, their bytes there at the accept."""
    imap = dc.listener("imap-proxy")
    with t.check("a real HAProxy at an address not in haproxy_trusted_"
                 "networks: closed at once; the warning says it sent a "
                 "PROXY v2 header and to trust its address (diagnosis "
                 "proxy_header)"):
        mark = dc.log_mark()
        pids = login_pids(dc)
        assert len(pids) == 1, f"imap-login processes: {pids}"
        client = None
        try:
            with stopped(pids[0]):
                # HAProxy connects at once and sends its 28-byte header.
                client = connect(fronts["untrusted"])
                assert wait_until(lambda: unread_from(imap, STRANGER_IP) ==
                                  [28]), unread_from(imap, STRANGER_IP)
            # HAProxy passes the close on.
            assert recv_all(client) == b""
        finally:
            if client is not None:
                client.close()
        line = dc.wait_for_log(rf"haproxy: {NOT_TRUSTED}: .* "
                               r"rport=(\d+),", since=mark)
        port = line.group(1)
        decided_at_once(expect_one(dc, mark, "Warning", stranger_line(
            port, "imap-proxy", "a PROXY v2 header: if it is your proxy, "
            "add its address to haproxy_trusted_networks"),
            port, "untrusted", "untrusted", "proxy_header"))

    cases = [
        ("a PROXY v1 header", "imap-proxy",
         header("-1", "--src", "192.0.2.7:40000", "--dst", DST),
         "a PROXY v1 header: if it is your proxy, add its address to "
         "haproxy_trusted_networks", "proxy_header"),
        ("a TLS ClientHello", "imaps-proxy", client_hello(context),
         "a TLS ClientHello: " + A_CLIENT, "tls_client_hello"),
        ("an IMAP command", "imap-proxy", COMMANDS["imap"][0],
         "an IMAP command: " + A_CLIENT, "client_command"),
        ("an HTTP request", "imap-proxy", HTTP_GET,
         "an HTTP request: " + HTTP_ADVICE, "http_request"),
        ("other bytes", "imap-proxy", GARBAGE, None, "other"),
    ]
    for what, name, data, sent, diagnosis in cases:
        said = (f"the warning says it sent {what}" if sent else
                "the old warning")
        with t.check(f"a peer in neither list with {what} in the socket "
                     f"at the accept: closed at once, the bytes unread; "
                     f"{said} (diagnosis {diagnosis})"):
            mark = dc.log_mark()
            listener = dc.listener(name)
            with held_back(dc, listener, data) as sock:
                port = sock.getsockname()[1]
                assert closed_unread(sock)
            decided_at_once(expect_one(dc, mark, "Warning",
                                       stranger_line(port, name, sent), port,
                                       "untrusted", "untrusted", diagnosis))

    with t.check("a peer in neither list that has sent nothing yet: closed "
                 "at once, not waited for; the old warning, no diagnosis"):
        mark = dc.log_mark()
        with held_back(dc, imap, b"") as sock:
            port = sock.getsockname()[1]
            assert recv_all(sock) == b""
        decided_at_once(expect_one(dc, mark, "Warning",
                                   stranger_line(port, "imap-proxy"), port,
                                   "untrusted", "untrusted", None))


def metric(t, dc, context):
    """Section 3: on a listener of its own, whose events the metric alone
    counts, one connection of each kind above."""
    listener = dc.listener("imap-metric")
    sent = {"tls_client_hello": client_hello(context),
            "client_command": COMMANDS["imap"][0],
            "http_request": HTTP_GET, "other": GARBAGE}
    with t.check("a metric grouped by result and diagnosis counts a proxy "
                 "that sends no header (silent, tls_client_hello) apart "
                 "from garbage (other) and from each other case"):
        expected = {}

        def counts(result, diagnosis):
            """The names that count one more event: the metric, its
            result's sub-metric and its diagnosis's. An event without
            diagnosis 2.4 counts under an empty one, 2.3 in no sub-metric
            of the field."""
            names = ["", f"_{result}"]
            if diagnosis or dc.under_test.groups_missing_field:
                names.append(f"_{result}_{diagnosis or ''}")
            for name in names:
                name = "haproxy_diagnoses" + name
                expected[name] = expected.get(name, 0) + 1
        for diagnosis, data in sent.items():
            send_instead(listener, data)
            counts("rejected", diagnosis)
        send_instead(listener, b"")   # until haproxy_timeout
        counts("timeout", "silent")
        proxy = header("--src", "192.0.2.7:40000", "--dst", DST)
        for diagnosis, data in [("proxy_header", proxy), *sent.items()]:
            with held_back(dc, listener, data) as sock:
                assert closed_unread(sock)
            counts("untrusted", diagnosis)
        with held_back(dc, listener, b"") as sock:
            assert recv_all(sock) == b""
        counts("untrusted", None)
        got = dc.counted("haproxy_diagnoses", expected["haproxy_diagnoses"])
        assert got == expected, f"{got}, expected {expected}"


# Entries that never match: what the warnings name, and what they advise.
MAPPED_TRUSTED = "::ffff:127.0.0.0/104"
MAPPED_DIRECT = "::ffff:127.0.0.9"


def never_matches(setting, entry, instead):
    return (f"Warning: {setting}: '{entry}' never matches: peers connect as "
            f"IPv4 and are compared as IPv4; write '{instead}'")


MAPPED_WARNINGS = [
    never_matches("haproxy_trusted_networks", MAPPED_TRUSTED, "127.0.0.0/8"),
    never_matches("haproxy_direct_networks", MAPPED_DIRECT, "127.0.0.9"),
]
INVALID_WARNINGS = [
    "Warning: haproxy_trusted_networks: Invalid network 'x': the login "
    "processes with a haproxy = yes listener will not start",
]
TIMESTAMP = re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d ")


def start_lines(dc, warnings):
    """The log's lines that carry one of warnings, each without its time
    stamp, and "<master starts>" for the master's first line, in order."""
    lines = []
    for line in dc.log_text().splitlines():
        line = TIMESTAMP.sub("", line)
        if re.match(r"master: Info: Dovecot v\S+ .*starting up", line):
            lines.append("<master starts>")
        elif any(line.endswith(": " + warning) for warning in warnings):
            lines.append(line)
    return lines


def warned_at_start(t, dc, warnings, what):
    """Each of warnings once from the master's doveconf before it starts,
    once from the config process when it reads the configuration; the lines
    expected."""
    expected = ([f"doveconf: {w}" for w in warnings] + ["<master starts>"]
                + [f"config: {w}" for w in warnings])
    wait_until(lambda: start_lines(dc, warnings) == expected)
    t.eq(start_lines(dc, warnings), expected, what)
    return expected


def login(dc, user):
    """A login through a header from the proxy's address; True if it
    worked."""
    data = header("--src", "192.0.2.7:40000", "--dst", DST,
                  "--ssl") + f"a LOGIN {user} {PASSWORD}\r\nb LOGOUT\r\n" \
        .encode()
    return b"\r\na OK " in exchange(dc.listener("imap-proxy"), data)[1]


def start_warnings(t, sb):
    """Section 4."""
    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                 plugin_dir=plugin_dir(), name="dovecot-mapped",
                 haproxy_trusted_networks=f"{MAPPED_TRUSTED} {PROXY_IP}",
                 extra_config=f"haproxy_direct_networks = {MAPPED_DIRECT}\n")
    with dc:
        expected = warned_at_start(
            t, dc, MAPPED_WARNINGS,
            "IPv4-mapped entries of haproxy_trusted_networks (a network) "
            "and haproxy_direct_networks (an address): each warned about "
            "once by the master's doveconf and once by the config "
            "process, naming the IPv4 entry to write")

        run = dc.tool("doveconf", "-c", dc.config_path, "-n")
        t.eq((run.returncode, run.stderr.splitlines()),
             (0, [f"doveconf: {w}" for w in MAPPED_WARNINGS]),
             "doveconf -n gives each warning once on standard error")

        with t.check("the warnings tell the truth: 127.0.0.5 (in "
                     f"{MAPPED_TRUSTED}) and 127.0.0.9 ({MAPPED_DIRECT}) are "
                     "peers in neither list"):
            for peer in ("127.0.0.5", STRANGER_IP):
                mark = dc.log_mark()
                with connect(dc.listener("imap-proxy"), peer) as sock:
                    assert recv_all(sock) == b""
                dc.wait_for_log(rf"imap-login: Warning: haproxy: "
                                rf"{NOT_TRUSTED} \(rip={re.escape(peer)}, ",
                                since=mark)

        with t.check("login processes do not repeat the warnings: three "
                     "logins in the default mode, a process per client"):
            for _ in range(3):
                assert login(dc, "alice"), "login failed"
            wait_until(lambda: dc.log_text().count(
                f"imap-login: Info: {dc.under_test.logged_in}: ") == 3)
            assert dc.log_text().count(
                f"imap-login: Info: {dc.under_test.logged_in}: ") == 3
            assert start_lines(dc, MAPPED_WARNINGS) == expected, \
                start_lines(dc, MAPPED_WARNINGS)

    dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                 plugin_dir=plugin_dir(), name="dovecot-invalid",
                 haproxy_trusted_networks=f"x {PROXY_IP}")
    with dc:
        warned_at_start(
            t, dc, INVALID_WARNINGS,
            "an invalid entry in haproxy_trusted_networks: warned about at "
            "start, once by the master's doveconf and once by the config "
            "process")


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        context = sb.certs.context()
        listeners = [Listener(protocol, protocol + "-proxy", haproxy=True)
                     for protocol in COMMANDS
                     if protocol in dut.login_services]
        listeners += [Listener("imap", "imaps-proxy", haproxy=True, ssl=True),
                      Listener("imap", "imap-metric", haproxy=True)]
        dc = Dovecot(sb, listeners, plugin_dir=plugin_dir(),
                     haproxy_timeout=f"{TIMEOUT_SECS}s",
                     extra_config=(
                         dut.long_lived("imap-login", "process_min_avail = 1")
                         + dut.metric("haproxy_diagnoses",
                                      "event=haproxy_header_finished AND "
                                      "listener=imap-metric",
                                      group_by=("result", "diagnosis"))
                         + dut.exported(HEADER_FINISHED)))
        hap = HAProxy(sb)
        # TLS passed through and plain IMAP forwarded, both without a
        # header; a proxy whose address is not trusted.
        hap.backend("tls", [(dc.listener("imaps-proxy"), "")])
        hap.backend("silent", [(dc.listener("imap-proxy"), "")])
        hap.backend("untrusted", [(dc.listener("imap-proxy"),
                                   "send-proxy-v2")], f"source {STRANGER_IP}")
        fronts = {name: hap.frontend(name, name)
                  for name in ("tls", "silent", "untrusted")}
        # An HTTP health check without check-send-proxy: one at start.
        httpchk = HAProxy(sb, name="haproxy-httpchk")
        httpchk.backend("chk", [(dc.listener("imap-proxy"),
                                 "check inter 60s")], "option httpchk")
        httpchk.frontend("chk", "chk")
        fronts["httpchk"] = httpchk
        with dc, hap:
            wait_until(lambda: len(login_pids(dc)) == 1)
            trusted_peers(t, dc, fronts, context)
            strangers(t, dc, fronts, context)
            metric(t, dc, context)
        start_warnings(t, sb)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
