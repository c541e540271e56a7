#!/usr/bin/env python3
"""What a v2 header of the largest size costs the login process, whatever
its TLVs: CPU per header and memory per client.

Shapes, each as large as the 16-bit length allows (16 + 65535 bytes):
- many empty TLVs: 21,841 custom TLVs of 3 bytes (type 0xE5);
- many types: every type no rule of the spec constrains (the unassigned,
  application, experimental and future ones, NOOP aside), round and round,
  the first of each with a 128-byte value, the rest empty;
- repeated endpoint IDs: 0xEA AWS VPC endpoint TLVs of one letter;
- NOOP padding: one NOOP TLV of 65,523 bytes;
- SSL sub-TLVs: one SSL TLV (the client used TLS) of empty sub-TLVs of
  a type the spec does not define;
and for comparison the plain v2 header (addresses only).

Three measures, all of the plugin's imap-login (the built-in parser
refuses headers over 1500 bytes):
- instructions per session counted by callgrind (connect, header,
  greeting, LOGOUT), as bench-callgrind counts them; the figure to trust
  on a busy machine;
- CPU time per session of a long-lived imap-login, utime + stime from
  /proc/PID/stat over BENCH_TLV_SESSIONS sessions: what the instructions
  cost in time on this machine;
- memory: BENCH_TLV_CLIENTS clients that sent the header and got the
  greeting, waiting to log in, and as many that sent all of the header
  but its last byte; the growth of the process's resident memory divided
  by their count.

Prints the figures and each shape's excess over the plain header; asserts
nothing."""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import (PROXY_IP, Dovecot, Listener, Sandbox,  # noqa: E402
                     connect, dovecot_under_test, plugin_dir, wait_until)
from headers import cpu_seconds, login_pids  # noqa: E402
from bench_sessions import Counted, session  # noqa: E402

CPU_SESSIONS = int(os.environ.get("BENCH_TLV_SESSIONS", "1000"))
CLIENTS = int(os.environ.get("BENCH_TLV_CLIENTS", "200"))
SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
ADDRESSES = bytes([198, 51, 100, 7, 203, 0, 113, 1]) + struct.pack(
    ">HH", 40000, 143)
ROOM = 65535 - len(ADDRESSES)       # bytes for TLVs
# Types that the decoder takes as they come: neither defined once by the
# spec (ALPN 0x01, AUTHORITY 0x02, CRC32C 0x03, UNIQUE_ID 0x05, SSL 0x20,
# NETNS 0x30) nor NOOP (0x04).
FREE_TYPES = [t for t in range(256) if t not in
              (0x01, 0x02, 0x03, 0x04, 0x05, 0x20, 0x30)]


def tlv(type_, value=b""):
    return struct.pack(">BH", type_, len(value)) + value


def v2(tlvs):
    body = ADDRESSES + tlvs
    return SIGNATURE + b"\x21\x11" + struct.pack(">H", len(body)) + body


def fill(tlvs, pad_type, room=ROOM):
    """tlvs padded to room bytes with empty TLVs of pad_type (and one
    longer one for the remainder)."""
    left = room - len(tlvs)
    count, extra = divmod(left, 3)
    if extra:
        count -= 1
        tlvs += tlv(pad_type, b"\0" * extra)
    return tlvs + tlv(pad_type) * count


def shapes():
    """{name: header bytes}."""
    many_types = b"".join(tlv(t, bytes(range(128))) for t in FREE_TYPES)
    while len(many_types) + 3 * len(FREE_TYPES) <= ROOM:
        many_types += b"".join(tlv(t) for t in FREE_TYPES)
    aws = tlv(0xEA, b"\x01v")
    found = {
        "plain v2": v2(b""),
        "many empty TLVs": v2(fill(b"", 0xE5)),
        "many types": v2(fill(many_types, 0xE5)),
        "repeated endpoint IDs": v2(fill(aws * (ROOM // len(aws)), 0xE5)),
        "NOOP padding": v2(tlv(0x04, b"\0" * (ROOM - 3))),
        "SSL sub-TLVs": v2(tlv(0x20, b"\x01\0\0\0\0"
                               + fill(b"", 0x2f, ROOM - 8))),
    }
    for name, data in found.items():
        assert name == "plain v2" or len(data) == 16 + 65535, \
            (name, len(data))
    return found


def login_pid(dovecot):
    pids = login_pids(dovecot)
    return pids[0] if pids else None


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]) * 1024


def cpu_per_session(dovecot, data):
    """Seconds of the login process's CPU per session with data."""
    pid = login_pid(dovecot)
    listener = dovecot.listener("proxy")
    for _ in range(5):
        session(listener, data, PROXY_IP)
    before = cpu_seconds(pid)
    for _ in range(CPU_SESSIONS):
        session(listener, data, PROXY_IP)
    return (cpu_seconds(pid) - before) / CPU_SESSIONS


def held(sb, name, data, greeted):
    """Bytes of resident memory per client that sent the header data and
    read the greeting (greeted), or sent all of it but the last byte, and
    stays. A new Dovecot each time: a process's heap, once grown, is
    reused without growing its resident memory."""
    dovecot = long_lived(sb, name)
    listener = dovecot.listener("proxy")
    with dovecot:
        pid = wait_until(lambda: login_pid(dovecot))
        session(listener, data, PROXY_IP)
        time.sleep(0.5)
        before = rss_bytes(pid)
        socks = []
        try:
            for _ in range(CLIENTS):
                sock = connect(listener, source=PROXY_IP)
                socks.append(sock)
                sock.sendall(data if greeted else data[:-1])
                if greeted:
                    reply = sock.recv(4096)
                    if not reply.startswith(b"* OK"):
                        raise RuntimeError(f"no greeting: {reply!r}")
            time.sleep(1)
            return (rss_bytes(pid) - before) / CLIENTS
        finally:
            for sock in socks:
                sock.close()


def long_lived(sb, name):
    """A Dovecot with the plugin and one long-lived imap-login."""
    return Dovecot(sb, [Listener("imap", "proxy", haproxy=True)],
                   plugin_dir=plugin_dir(), name=name,
                   extra_config="haproxy_timeout = 30s\n"
                   + dovecot_under_test().long_lived(
                       "imap-login", "process_min_avail = 1",
                       "process_limit = 1",
                       f"client_limit = {CLIENTS + 100}"))


def main():
    if plugin_dir() is None:
        sys.exit("bench-tlvs: HAPROXY_PLUGIN_DIR does not hold the plugin")
    dut = dovecot_under_test()
    sent = shapes()
    with Sandbox() as sb:
        counted = Counted(sb, "callgrind", plugin_dir=plugin_dir())
        with counted.dovecot:
            instructions = {name: counted.count(
                counted.dovecot.listener("proxy"), data, PROXY_IP)
                for name, data in sent.items()}
        timed = long_lived(sb, "timed")
        with timed:
            wait_until(lambda: login_pid(timed))
            cpu = {name: cpu_per_session(timed, data)
                   for name, data in sent.items()}
        waiting, pending = {}, {}
        for i, (name, data) in enumerate(sent.items()):
            waiting[name] = held(sb, f"waiting-{i}", data, True)
            pending[name] = held(sb, f"pending-{i}", data, False)

    plain = "plain v2"
    print(f"imap-login per session, v2 headers of {16 + 65535} bytes "
          f"(Dovecot {dut.version}): instructions (callgrind), CPU time "
          f"({CPU_SESSIONS} sessions), memory per client waiting to log "
          f"in and per client whose header lacks its last byte "
          f"({CLIENTS} clients)")
    print(f"  {'':22} {'instructions':>14} {'CPU ms':>8} {'waiting':>9} "
          f"{'pending':>9}")
    for name in sent:
        print(f"  {name:22} {instructions[name]:14.0f} "
              f"{cpu[name] * 1000:8.3f} {waiting[name]:9.0f} "
              f"{pending[name]:9.0f}")
    print("  more than the plain header:")
    for name in sent:
        if name == plain:
            continue
        print(f"  {name:22} {instructions[name] - instructions[plain]:14.0f} "
              f"{(cpu[name] - cpu[plain]) * 1000:8.3f} "
              f"{waiting[name] - waiting[plain]:9.0f} "
              f"{pending[name] - pending[plain]:9.0f}")


if __name__ == "__main__":
    main()
