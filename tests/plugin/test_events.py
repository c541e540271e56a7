#!/usr/bin/env python3
"""The plugin's events, as an administrator uses them.

1. haproxy_header_finished, counted by a metric grouped by result and
   error_code, as the README shows; doveadm stats dump reports the counts.
2. Its fields and categories as a filter sees them: the real peer and
   listener (remote_ip/port, local_ip/port), the header's addresses
   (src_ip/port, dst_ip/port), the categories haproxy and the service's
   (service:imap-login). On Dovecot 2.4 the addresses are IP fields, which
   a filter matches by network (remote_ip = 127.0.0.0/8); on 2.3 they are
   strings, as login-common's own, matched with wildcards.
3. Its duration is the time from the accept to the decision, measured
   against the wall clock on a login process some seconds old: not the
   age of the process.
4. The header's facts are fields of the login client's event. In 2.3.19.1
   the stats process never sees that event itself: its log lines are not
   sent (only named events are), and auth requests hang off the auth
   connection's event. What does reach it is a named child of the client
   event: proxy_session_started when the login process proxies the user
   to a backend. A metric with "fields" exports the client's fields
   through it, and its filter can select on them.

README: "Logs and events" (haproxy_header_finished, its result,
error_code, fields and categories, its duration; the metric examples)
and "What the plugin does with a header" (the header's facts as fields
of the login client's event).
"""

import os
import time

from headers import (DST, can_see_epoll_wait, exchange, exported_event,
                     header, login_pids, proxy_connect, unread_bytes,
                     waiting_process)
from sandbox import (CLIENT_IP, DOVECOT_IP, PROXY_IP, Dovecot, Listener,
                     Sandbox, connect, dovecot_under_test, plugin_dir,
                     proxied_backend, recv_all, unmet_requirements, wait_until)
from tap import Tap

# The source ports of the headers whose durations are measured.
AT_ONCE_PORT, DELAYED_PORT = 41001, 41002
DELAY = 0.5  # seconds between the accept and the delayed header (< haproxy_timeout)


def extra_config(dut):
    """One long-lived login process, the metrics, and the exporter."""
    return (dut.long_lived("imap-login")
            + dut.metric("haproxy_headers", "event=haproxy_header_finished",
                         group_by=("result", "error_code"))
            + dut.metric("haproxy_tls_versions",
                         "event=haproxy_header_finished AND result=accepted",
                         group_by=("haproxy_ssl_version",))
            + dut.exported(
                ("haproxy_proxied_logins",
                 "event=proxy_session_started AND haproxy_unique_id=*",
                 ("haproxy_unique_id", "haproxy_ssl_version",
                  "haproxy_authority")),
                ("haproxy_finished_exported", "event=haproxy_header_finished "
                 f"AND src_port={SRC.split(':')[1]}"))
            + "".join(dut.metric(name, "event=haproxy_header_finished AND "
                                 + condition)
                      for name, condition in filters(dut).items()))


def filters(dut):
    """{metric: filter condition} of the metrics that select events by
    their fields and categories."""
    conditions = {
        "haproxy_service": "category=service:imap-login",
        "haproxy_at_once": f"src_port={AT_ONCE_PORT}",
        "haproxy_delayed": f"src_port={DELAYED_PORT}",
    }
    if dut.event_ip_fields:
        conditions["haproxy_peer_net"] = "remote_ip=127.0.0.0/8"
        # Not /32: 2.4 writes a host's network as the address, and a
        # string field would match that.
        conditions["haproxy_listener_net"] = "local_ip=127.0.0.0/24"
        conditions["haproxy_src_net"] = "src_ip=127.0.0.8/29"
    else:
        conditions["haproxy_peer_net"] = "remote_ip=127.0.0.*"
        conditions["haproxy_listener_net"] = f"local_ip={DOVECOT_IP}"
        conditions["haproxy_src_net"] = "src_ip=127.0.0.9"
    return conditions


SRC = "127.0.0.9:4242"
LOGOUT = b"a LOGOUT\r\n"


def duration(dc, metric):
    """The duration in seconds of the one event that metric counted,
    waiting for it to be counted."""
    def row():
        return next((r for r in dc.stats_dump() if r["metric_name"] == metric
                     and r["field"] == "duration" and r["count"] == "1"),
                    None)
    found = wait_until(row)
    assert found, f"{metric} counted no event: {dc.stats_dump()}"
    # Every column of a duration is in microseconds.
    return int(found["max"]) / 1e6


def process_age(pid):
    """Seconds since process pid started."""
    with open(f"/proc/{pid}/stat") as f:
        started = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - started / os.sysconf("SC_CLK_TCK")


def fields_and_categories(t, dc, listener):
    """The exported event of an accepted header: its addresses, what they
    are, and its categories."""
    mark = dc.log_mark()
    port, reply = exchange(listener, header("--src", SRC, "--dst", DST)
                           + LOGOUT)
    assert b"\r\na OK " in reply, reply
    event = exported_event(dc, "haproxy_header_finished",
                           rf'.*"remote_port":{port}[,}}].*', mark)
    fields = {key: event["fields"].get(key) for key in (
        "result", "remote_ip", "remote_port", "local_ip", "local_port",
        "src_ip", "src_port", "dst_ip", "dst_port")}
    src_ip, src_port = SRC.split(":")
    dst_ip, dst_port = DST.split(":")
    t.eq(fields, {"result": "accepted", "remote_ip": PROXY_IP,
                  "remote_port": port, "local_ip": listener.address,
                  "local_port": listener.port, "src_ip": src_ip,
                  "src_port": int(src_port), "dst_ip": dst_ip,
                  "dst_port": int(dst_port)},
         "an accepted header's event: remote_ip/port and local_ip/port the "
         "real peer and listener, src_ip/port and dst_ip/port the header's")
    t.ok({"haproxy", "service:imap-login"} <= set(event["categories"]),
         "its categories are haproxy and the service's", event)


def durations(t, dc, listener):
    """duration against the wall clock, on a login process that is older
    than any of it."""
    pid = login_pids(dc)[0]
    wait_until(lambda: process_age(pid) >= 4, timeout=5)
    age = process_age(pid)

    began = time.monotonic()
    _, reply = exchange(listener, header("--src", f"127.0.0.9:{AT_ONCE_PORT}",
                                         "--dst", DST) + LOGOUT)
    wall = time.monotonic() - began
    assert b"\r\na OK " in reply, reply
    with t.check("a header sent at once: duration at most the time from "
                 "connect to the reply, far below the login process's age"):
        assert age >= 4, f"the process is only {age:.1f} s old"
        got = duration(dc, "haproxy_at_once")
        assert got <= wall + 0.005, (f"duration {got:.6f} s, connect to "
                                     f"reply {wall:.6f} s, process age "
                                     f"{age:.1f} s")

    if not can_see_epoll_wait():
        t.skip("a header sent after a delay: duration from the accept",
               "cannot tell when the login process has accepted")
        return
    began = time.monotonic()
    with proxy_connect(listener) as sock:
        # Accepted by now: the login process waits for the header.
        accepted_by = waiting_process(dc, listener, sock, began).armed_by
        time.sleep(DELAY)
        sent = time.monotonic()
        sock.sendall(header("--src", f"127.0.0.9:{DELAYED_PORT}",
                            "--dst", DST) + LOGOUT)
        assert sock.recv(1).startswith(b"*"), "no greeting"
        replied = time.monotonic()
        assert b"\r\na OK " in recv_all(sock)
    least, most = sent - accepted_by, replied - began
    with t.check("a header sent some time after the accept: duration at "
                 "least that time, at most the time from connect to the "
                 "reply"):
        got = duration(dc, "haproxy_delayed")
        # Dovecot and this script read different clocks: a millisecond's
        # rounding either way.
        assert least - 0.001 <= got <= most + 0.001, (
            f"duration {got:.6f} s, header sent {least:.6f} s after the "
            f"accept, reply {most:.6f} s after connect")


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        backend, users = proxied_backend(sb)
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                          backend],
                     users=users, plugin_dir=plugin_dir(),
                     haproxy_timeout="1s", extra_config=extra_config(dut))
        listener = dc.listener("imap-proxy")
        v2 = header("--src", SRC, "--dst", DST)
        crc = header("--src", SRC, "--dst", DST, "--crc32c")
        bad_crc = crc[:24] + bytes([crc[24] ^ 0xff]) + crc[25:]
        with dc:
            with t.check("accepted, rejected, untrusted, timed out and "
                         "disconnected connections"):
                for data in (v2, header("-1", "--src", SRC, "--dst", DST),
                             header("--local")):
                    _, reply = exchange(listener, data + LOGOUT)
                    assert b"\r\na OK " in reply, reply
                for data in (bad_crc, bad_crc,
                             header("-1", "--src", SRC, "--dst", DST)
                             .replace(b" 4242 ", b" 65536 ")):
                    assert exchange(listener, data)[1] == b""
                with connect(listener, CLIENT_IP) as sock:
                    assert recv_all(sock) == b""
                proxy_connect(listener).close()  # before sending a byte
                with proxy_connect(listener) as timeout, \
                        proxy_connect(listener) as torn:
                    timeout.sendall(v2[:10])
                    torn.sendall(v2[:10])
                    # Dovecot has their first bytes: torn leaves mid-header.
                    assert wait_until(lambda: unread_bytes(
                        listener, [timeout, torn]) == [0, 0])
                    torn.close()
                    assert recv_all(timeout) == b""

            expected = {
                "haproxy_headers": 10,
                "haproxy_headers_accepted": 3,
                "haproxy_headers_rejected": 3,
                "haproxy_headers_rejected_v2_crc_mismatch": 2,
                "haproxy_headers_rejected_v1_bad_port": 1,
                "haproxy_headers_untrusted": 1,
                "haproxy_headers_untrusted_untrusted": 1,
                "haproxy_headers_timeout": 1,
                "haproxy_headers_timeout_timeout": 1,
                "haproxy_headers_disconnected": 2,
                "haproxy_headers_disconnected_disconnected": 2,
            }
            if dut.groups_missing_field:
                # Accepted headers have no error_code: 2.4 counts them
                # under an empty one.
                expected["haproxy_headers_accepted_"] = 3

            t.eq(dc.counted("haproxy_headers", 10), expected,
                 "doveadm stats dump counts the headers by result and "
                 "error_code")
            # The same dump: every event above has reached every metric.
            selected = {name: count for name, count in
                        dc.metric_counts("haproxy_").items()
                        if name in filters(dut)}
            net = ("by network (IP fields)" if dut.event_ip_fields
                   else "with wildcards (string fields)")
            t.eq(selected.get("haproxy_service"), 10, "a filter on the "
                 "category service:imap-login selects the events")
            t.eq(selected.get("haproxy_peer_net"), 10, "a filter on remote_ip "
                 f"{net} selects the events of every peer")
            t.eq(selected.get("haproxy_listener_net"), 10, "a filter on "
                 f"local_ip {net} selects the events of the listener")
            t.eq(selected.get("haproxy_src_net"), 2, "a filter on src_ip "
                 f"{net} selects the accepted headers from that source")
            fields_and_categories(t, dc, listener)
            durations(t, dc, listener)

            proxied = header("--src", SRC, "--dst", DST,
                             "--unique-id", "req-0001", "--ssl",
                             "--ssl-version", "TLSv1.3",
                             "--authority", "mail.example.test")
            without_id = header("--src", SRC, "--dst", DST, "--ssl")
            login = b"a LOGIN remote secret\r\nb LOGOUT\r\n"
            mark = dc.log_mark()
            with t.check("logins proxied to the backend succeed"):
                for data in (without_id, proxied):
                    _, reply = exchange(listener, data + login)
                    assert b"\r\na OK " in reply, reply
            if not dut.login_proxy_events:
                for what in ("the login client's fields come out of its "
                             "proxy_session_started event",
                             "a filter on haproxy_unique_id selects only "
                             "the client that had one"):
                    t.skip(what, f"Dovecot {dut.version}'s login proxy "
                           "makes no named events")
            else:
                with t.check("the login client's fields come out of its "
                             "proxy_session_started event"):
                    event = exported_event(dc, "proxy_session_started",
                                           since=mark)
                    assert event["fields"] == {
                        "haproxy_unique_id": "req-0001",
                        "haproxy_ssl_version": "TLSv1.3",
                        "haproxy_authority": "mail.example.test"}, event
                with t.check("a filter on haproxy_unique_id selects only "
                             "the client that had one"):
                    assert dc.log_text(mark).count(
                        '{"event":"proxy_session_started"') == 1
            with t.check("the example's metric groups accepted headers by "
                         "haproxy_ssl_version"):
                def tls13():
                    return dc.metric_counts("haproxy_tls_versions").get(
                        "haproxy_tls_versions_TLSv1.3")
                assert wait_until(lambda: tls13() == 1), \
                    dc.metric_counts("haproxy_tls_versions")


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
