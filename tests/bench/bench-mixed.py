#!/usr/bin/env python3
"""Under load, does the plugin classify every peer right?

One Dovecot with the plugin and exactly two long-lived imap-login
processes, a haproxy = yes listener, and a plain listener served by the
same processes. For SECONDS, all at once:

- TLS_WORKERS loops of STARTTLS on the plain listener: greeting,
  STARTTLS, a full handshake with an RSA key of RSA_BITS, LOGOUT, so that
  both login processes are busy and late to run their timers. STARTTLS
  rather than an ssl = yes listener: Dovecot accepts one connection per
  listener and pass of its ioloop and starts the handshake on the
  ClientHello already there, which spreads the handshakes over passes;
  STARTTLS ClientHellos come on connections accepted already, and all
  that have come are handled in one pass. Few handshakes, each dear (an
  RSA 7680 signature takes some 40 ms of the test machine's core): a
  pass with a few of them outlasts haproxy_direct_wait, and in between
  the processes are idle enough to accept a connection the moment it
  comes, before its header. Kept saturated (96 handshakes at a time,
  RSA 4096), they accepted each connection long after its header had
  come and misclassified none in a minute.
- PEERS connections at a time of each kind of peer on the haproxy
  listener, each kind from a loopback address of its own:

  haproxy        a real HAProxy (send-proxy-v2) from PROXY_IP, trusted only
  trusted v1/v2  trusted only, sending a header themselves
  direct only    in haproxy_direct_networks only, waiting for the greeting
  both v1/v2     in both lists, sending a header right after connecting
  both silent    in both lists, waiting for the greeting
  stranger       in neither list

A peer that sends a header names a client of its own in it, 198.18.X.Y
(the benchmarking range) and a port, both from its own source port, which
the peer binds itself so that no two connections of a kind share one.
Each peer then reads the greeting and logs out.

What the plugin did with each connection is its haproxy_header_finished
event, exported as JSON to the log, keyed by the peer's address and port
(for HAProxy's connections, by the port HAProxy logs having connected
from for each client port). A connection is misclassified when its event
differs from its kind's expectation: accepted with the header's client,
direct for direct_network, direct for no_header, untrusted. Lost: no
event at all. What each peer saw is counted too: the greeting and a
clean LOGOUT, or for a stranger a close without a greeting; "wrong" is
anything else, such as a BAD answer to a header read as IMAP input.

A peer in both lists that sent its header only after haproxy_direct_wait
had passed since connect() may rightly be a direct client: it is counted
as "late", not misclassified. A header sent within haproxy_direct_wait
came in time, however late the login process accepted the connection.

How busy it was: the STARTTLS handshakes done, the login processes' CPU
time, the machine's load, and the greeting latency per kind; a silent
peer is greeted after haproxy_direct_wait, so what its latency has above
that is how late its login process was. Prints a table per kind and the
misclassified outcomes; asserts nothing.

BENCH_SECONDS (60), BENCH_PEERS (16), BENCH_TLS_WORKERS (twice the cores)
and BENCH_RSA_BITS (7680) set SECONDS, PEERS, TLS_WORKERS and RSA_BITS.
"""

import itertools
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing import Process, Queue

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import (CLIENT_IP, PROXY_IP, Dovecot, HAProxy,  # noqa: E402
                     Listener, Sandbox, dovecot_under_test, plugin_dir,
                     wait_until)
from headers import HEADER_FINISHED, login_pids  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
PEERS = int(os.environ.get("BENCH_PEERS", "16"))
TLS_WORKERS = int(os.environ.get("BENCH_TLS_WORKERS",
                                 str(2 * os.cpu_count())))
RSA_BITS = int(os.environ.get("BENCH_RSA_BITS", "7680"))
DIRECT_WAIT_MS = 200
HAPROXY_TIMEOUT = "3s"
# A peer waits this long for each answer: far longer than any stall, so
# that no peer gives up before the login process has decided.
PEER_TIMEOUT = 30.0
FIRST_PORT = 10000
# The peers of each kind connect from an address of their own in one of
# these: trusted only, direct only, both. The TLS load comes from one
# address per process.
TRUSTED_NET, DIRECT_NET, BOTH_NET = ("127.0.2.0/24", "127.0.3.0/24",
                                     "127.0.4.0/24")
LOAD_SOURCE = "127.0.6.{}"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


@dataclass(frozen=True)
class Kind:
    name: str
    source: str            # the peer's address; CLIENT_IP for HAProxy's
    header: int            # the PROXY version it sends itself, or 0
    expected: str          # the outcome() it must get
    greeted: bool = True   # whether it must get the greeting
    via_haproxy: bool = False


KINDS = (
    Kind("haproxy", CLIENT_IP, 0, "accepted", via_haproxy=True),
    Kind("trusted v1", "127.0.2.1", 1, "accepted"),
    Kind("trusted v2", "127.0.2.2", 2, "accepted"),
    Kind("direct only", "127.0.3.1", 0, "direct direct_network"),
    Kind("both v1", "127.0.4.1", 1, "accepted"),
    Kind("both v2", "127.0.4.2", 2, "accepted"),
    Kind("both silent", "127.0.4.3", 0, "direct no_header"),
    Kind("stranger", "127.0.5.1", 0, "untrusted", greeted=False),
)


def fake_client(port):
    """The client a peer's header names for its connection from port."""
    return f"198.18.{port >> 8}.{port & 0xff}", port


def proxy_header(version, port, server):
    """A PROXY header of version 1 or 2 (TCP over IPv4) from
    fake_client(port) to server; made here rather than by haproxy-connect,
    as each connection needs its own."""
    address, client_port = fake_client(port)
    if version == 1:
        return (f"PROXY TCP4 {address} {server.address} {client_port} "
                f"{server.port}\r\n").encode()
    return V2_SIGNATURE + struct.pack(
        "!BBH4s4sHH", 0x21, 0x11, 12, socket.inet_aton(address),
        socket.inet_aton(server.address), client_port, server.port)


def visit(kind, target, server, port):
    """One connection of kind to target from port: its header at once (if
    it sends one), the greeting, LOGOUT. Returns what the peer saw ("ok",
    "closed" without a greeting, "wrong ..."), the ms from connect() to
    the greeting or close, and the ms from connect() to its header sent
    (None without one)."""
    sent_ms = None
    began = time.perf_counter()
    try:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.settimeout(PEER_TIMEOUT)
            sock.bind((kind.source, port))
            sock.connect((target.address, target.port))
            if kind.header:
                sock.sendall(proxy_header(kind.header, port, server))
                sent_ms = (time.perf_counter() - began) * 1000
            lines = sock.makefile("rb")
            greeting = lines.readline()
            latency_ms = (time.perf_counter() - began) * 1000
            if not greeting:
                return "closed", latency_ms, sent_ms
            if not greeting.startswith(b"* OK "):
                return f"wrong {greeting[:40]!r}", latency_ms, sent_ms
            sock.sendall(b"a LOGOUT\r\n")
            rest = [line for line in lines
                    if not line.startswith((b"* BYE ", b"a OK "))]
            return (f"wrong {rest[0][:40]!r}" if rest else "ok",
                    latency_ms, sent_ms)
    except OSError as e:
        return (f"wrong {type(e).__name__}",
                (time.perf_counter() - began) * 1000, sent_ms)


def peers(kind, target, server, deadline, results):
    """PEERS threads of kind, each visiting until deadline, every
    connection from the next port. Puts (kind name, [(port, seen,
    latency_ms, sent_ms)]) on results."""
    ports = itertools.count(FIRST_PORT)
    records = []

    def loop():
        while time.monotonic() < deadline:
            port = next(ports)
            if port > 65535:
                return
            records.append((port, *visit(kind, target, server, port)))

    run_threads(loop, PEERS)
    results.put((kind.name, records))


def tls_load(target, source, threads, deadline, results):
    """threads loops of starttls() against target from source until
    deadline. Puts (handshakes done, failed) on results."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    counts = {"done": 0, "failed": 0}

    def loop():
        while time.monotonic() < deadline:
            try:
                starttls(target, source, context)
                counts["done"] += 1
            except OSError:
                counts["failed"] += 1

    run_threads(loop, threads)
    results.put((counts["done"], counts["failed"]))


def starttls(target, source, context):
    """The greeting, STARTTLS, a full handshake, LOGOUT."""
    with socket.create_connection((target.address, target.port),
                                  PEER_TIMEOUT, (source, 0)) as sock:
        lines = sock.makefile("rb")
        lines.readline()
        sock.sendall(b"a STARTTLS\r\n")
        if not lines.readline().startswith(b"a OK "):
            raise OSError("STARTTLS refused")
        with context.wrap_socket(sock) as tls:
            tls.sendall(b"b LOGOUT\r\n")
            tls.recv(256)


def run_threads(target, count):
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run(front, server, load_target):
    """Every kind's peers and the TLS load, in processes of their own,
    for SECONDS. Returns ({kind name: records}, (handshakes done, failed),
    seconds elapsed)."""
    results, load_results = Queue(), Queue()
    began = time.monotonic()
    deadline = began + SECONDS
    procs = [Process(target=peers, args=(
        kind, front if kind.via_haproxy else server, server, deadline,
        results)) for kind in KINDS]
    load_procs = min(TLS_WORKERS, 2 * os.cpu_count())
    procs += [Process(target=tls_load, args=(
        load_target, LOAD_SOURCE.format(i + 1),
        TLS_WORKERS // load_procs + (i < TLS_WORKERS % load_procs),
        deadline, load_results)) for i in range(load_procs)]
    for proc in procs:
        proc.start()
    bound = SECONDS + 3 * PEER_TIMEOUT
    records = dict(results.get(timeout=bound) for _ in KINDS)
    load = [load_results.get(timeout=bound) for _ in range(load_procs)]
    for proc in procs:
        proc.join()
    return (records, tuple(map(sum, zip(*load))),
            time.monotonic() - began)


def rsa_cert(directory):
    """A self-signed certificate with an RSA key of RSA_BITS, so that each
    handshake costs the login process an RSA signature of that size.
    Returns (cert, key) paths."""
    cert, key = (os.path.join(directory, "rsa." + ext)
                 for ext in ("crt", "key"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", f"rsa:{RSA_BITS}",
                    "-noenc", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=600)
    return cert, key


def dovecot_config(dut, cert, key, ca):
    return (f"haproxy_direct_networks = {DIRECT_NET} {BOTH_NET}\n"
            f"haproxy_direct_wait = {DIRECT_WAIT_MS}ms\n"
            + dut.ssl_server(cert, key, ca)
            + dut.long_lived("imap-login", "process_min_avail = 2",
                             "process_limit = 2")
            + dut.exported(HEADER_FINISHED))


def cpu_seconds(pid):
    """User and system CPU time of process pid so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def events(dovecot):
    """The haproxy_header_finished events exported to the log, as
    {(remote_ip, remote_port): [their fields, in order]}."""
    found = {}
    for line in re.findall(r' stats: Info: (\{"event":"haproxy_header_'
                           r'finished",.*\})$', dovecot.log_text(), re.M):
        fields = json.loads(line)["fields"]
        key = (fields.get("remote_ip"), int(fields.get("remote_port", 0)))
        found.setdefault(key, []).append(fields)
    return found


def haproxy_ports(hap):
    """{client port: [HAProxy's source port towards Dovecot, in order]},
    from the frontend's log lines "CLIENT_IP:cp PROXY_IP:bp"."""
    found = {}
    for client_port, backend_port in re.findall(
            rf"^{re.escape(CLIENT_IP)}:(\d+) {re.escape(PROXY_IP)}:(\d+)$",
            hap.log_text(), re.M):
        found.setdefault(int(client_port), []).append(int(backend_port))
    return found


def outcome(fields, client):
    """What the plugin did, as one string: "accepted" (with client, the
    address the header named), "accepted, client A:P" (another one),
    "direct REASON", "RESULT ERROR_CODE", or RESULT alone where its
    error_code says no more (untrusted, timeout)."""
    result, error_code = fields["result"], fields.get("error_code")
    if result == "direct":
        return f"direct {fields.get('direct_reason')}"
    if result == "accepted":
        got = (fields.get("src_ip"), int(fields.get("src_port", 0)))
        return "accepted" if got == client else \
            f"accepted, client {got[0]}:{got[1]}"
    return result if error_code == result else f"{result} {error_code}"


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


class Tally:
    """What happened to the connections of one kind."""

    def __init__(self, kind):
        self.kind = kind
        self.connections = self.misclassified = self.lost = 0
        self.late = self.wrong_seen = 0
        self.latencies = []
        self.sent = []           # ms from connect() to the header sent
        # Misclassified: {(outcome, what the peer saw): [ms after
        # connect() that each one's header was sent, or None]}
        self.outcomes = {}
        self.lost_ports = {}     # {why: [the peers' ports]}

    def add(self, event, seen, latency_ms, sent_ms, client, port,
            why_lost="no event"):
        self.connections += 1
        self.latencies.append(latency_ms)
        if sent_ms is not None:
            self.sent.append(sent_ms)
        got = event and outcome(event, client)
        if got == "direct no_header" and sent_ms is not None and \
                sent_ms > DIRECT_WAIT_MS:
            self.late += 1
            return
        if seen != ("ok" if self.kind.greeted else "closed"):
            self.wrong_seen += 1
        if got is None:
            self.lost += 1
            self.lost_ports.setdefault(why_lost, []).append(port)
        elif got != self.kind.expected:
            self.misclassified += 1
            self.outcomes.setdefault((got, seen), []).append(sent_ms)


def tally(records, found):
    """A Tally per kind from each peer's records and the events found
    (events() of Dovecot, haproxy_ports() of HAProxy)."""
    events_by_key, backend_ports = found
    tallies = {}
    for kind in KINDS:
        t = tallies[kind.name] = Tally(kind)
        for port, seen, latency_ms, sent_ms in records[kind.name]:
            why_lost = "no event"
            if kind.via_haproxy:
                backend_port = pop(backend_ports, port)
                key = (PROXY_IP, backend_port)
                client = (CLIENT_IP, port)
                if backend_port is None:
                    why_lost = "HAProxy logged no connection for it"
            else:
                key = (kind.source, port)
                client = fake_client(port)
            t.add(pop(events_by_key, key), seen, latency_ms, sent_ms,
                  client, port, why_lost)
    return tallies


def pop(ordered, key):
    """The first value left in ordered[key], taken out; None if none."""
    values = ordered.get(key)
    return values.pop(0) if values else None


def report(tallies):
    print(f"{'kind':12} {'expected':22} {'conns':>6} {'miscl':>6} "
          f"{'lost':>5} {'late':>5} {'wrong':>6}   greeting ms: "
          f"{'p50':>7} {'p99':>7} {'max':>7}")
    for t in tallies.values():
        print(f"{t.kind.name:12} {t.kind.expected:22} {t.connections:6} "
              f"{t.misclassified:6} {t.lost:5} {t.late:5} {t.wrong_seen:6}"
              f"{'':16}{percentile(t.latencies, 50):7.1f} "
              f"{percentile(t.latencies, 99):7.1f} {max(t.latencies):7.1f}")
    print("miscl: the plugin's event differs from the expected; lost: no "
          "event; late: header\nsent after haproxy_direct_wait, served "
          "direct; wrong: the peer saw something else\nthan the greeting "
          "and a clean LOGOUT (a stranger: than a close)")
    for t in tallies.values():
        if t.sent:
            print(f"{t.kind.name}: header sent {percentile(t.sent, 50):.2f}"
                  f" / {percentile(t.sent, 99):.2f} / {max(t.sent):.2f} ms"
                  " (p50 / p99 / max) after connect()")
    for t in tallies.values():
        for (got, seen), sent in sorted(t.outcomes.items()):
            when = ("" if None in sent else
                    f", headers sent {min(sent):.2f} to {max(sent):.2f} ms "
                    "after connect()")
            print(f"misclassified {t.kind.name}: {got} x{len(sent)}{when}; "
                  f"the peer saw: {seen}")
        for why, ports in t.lost_ports.items():
            print(f"lost {t.kind.name}: {why} x{len(ports)}, from ports "
                  + " ".join(map(str, ports[:5]))
                  + (" ..." if len(ports) > 5 else ""))


def main():
    if plugin_dir() is None:
        sys.exit("bench-mixed: HAPROXY_PLUGIN_DIR does not hold the plugin")
    dut = dovecot_under_test()
    with Sandbox() as sb:
        cert, key = rsa_cert(sb.path)
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                          Listener("imap", "tls-load")],
                     plugin_dir=plugin_dir(), haproxy_timeout=HAPROXY_TIMEOUT,
                     haproxy_trusted_networks=f"{PROXY_IP}/32 {TRUSTED_NET}"
                     f" {BOTH_NET}",
                     extra_config=dovecot_config(dut, cert, key,
                                                 sb.certs.ca))
        server = dc.listener("imap-proxy")
        hap = HAProxy(sb)
        hap.backend("imap", [(server, "send-proxy-v2")])
        front = hap.frontend("imap", "imap", 'log-format "%ci:%cp %bi:%bp"')
        with dc, hap:
            pids = wait_until(lambda: len(login_pids(dc)) == 2
                              and login_pids(dc))
            if not pids:
                raise RuntimeError("not two imap-login processes: "
                                   f"{login_pids(dc)}")
            cpu = {pid: cpu_seconds(pid) for pid in pids}
            records, (done, failed), elapsed = run(
                front, server, dc.listener("tls-load"))
            cpu = {pid: cpu_seconds(pid) - cpu[pid] for pid in pids
                   if os.path.exists(f"/proc/{pid}")}
            load_average = os.getloadavg()[0]
            total = sum(map(len, records.values()))
            wait_until(lambda: sum(map(len, events(dc).values())) >= total,
                       timeout=30)
            pids_after = login_pids(dc)
        tallies = tally(records, (events(dc), haproxy_ports(hap)))

    print(f"bench-mixed: Dovecot {dut.version}, {elapsed:.0f} s, "
          f"{os.cpu_count()} cores, 2 long-lived imap-login processes")
    print(f"haproxy_direct_wait {DIRECT_WAIT_MS} ms, haproxy_timeout "
          f"{HAPROXY_TIMEOUT}; {PEERS} peers of each kind at a time")
    print(f"load: {TLS_WORKERS} STARTTLS loops, RSA {RSA_BITS}: {done} "
          f"handshakes ({done / elapsed:.0f}/s), {failed} failed; "
          f"load average {load_average:.1f} at the end")
    print("imap-login CPU: " + ", ".join(
        f"pid {pid} {seconds / elapsed:.0%} of a core"
        for pid, seconds in cpu.items())
        + ("" if pids_after == pids
           else f"; processes now {pids_after} (restarted)"))
    report(tallies)


if __name__ == "__main__":
    main()
